/**
 * The server as a library (`import … from 'yjs-collab-server'`): build a
 * server from a config object, embed it in your own process, bring your own
 * storage. Everything else under server/ is internal.
 *
 * ```ts
 * import { createCollabServer, parseConfig } from 'yjs-collab-server'
 *
 * const server = createCollabServer({ ...parseConfig(process.env), port: 4000 })
 * await server.listen()
 * process.on('SIGTERM', () => void server.close())
 * ```
 */
export { createCollabServer, WS_PATHS, type CollabServer, type CollabServerOptions } from './app.ts'
export { ConfigError, defaultConfig, ENV_VARS, parseConfig, type CollabConfig, type DbSync, type EnvVar, type LogLevel } from './config.ts'
export type { DocumentInfo, NewVersion, Storage, StoredDocument, VersionInfo, VersionKind } from './storage/types.ts'
// The error catalogue: REST API error codes, and the close codes of the socket (shared with the client).
export { ApiError, ApiErrorCode } from './http/api/errors.ts'
export { CloseCode, closeCodeByNumber, type CloseCodeInfo, type CloseCodeName, type CloseScope } from '../client/protocol.ts'
