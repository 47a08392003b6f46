/**
 * Builds the security extensions from the configuration: the token verifier
 * (reading JWKS_FILE), authentication, and the awareness guard (which takes
 * the awareness entries the gateway decoded from `frames`). Without a key
 * the server runs in open development mode, and says so loudly.
 */
import type { Extension } from '@hocuspocus/server'
import type { Logger } from 'pino'
import { type CollabConfig, ConfigError } from '../config.ts'
import { Auth } from '../extensions/auth.ts'
import { AwarenessGuard } from '../extensions/awareness-guard.ts'
import { TokenVerifier } from '../auth/jwt.ts'
import type { DecodedFrames } from '../ws/frame.ts'

export interface Security {
  /** Auth first, then the awareness guard. */
  readonly extensions: Extension[]
  /** Verifies tokens; null in open development mode. Other doors (REST) decide with `authorize(verifier, …)`. */
  readonly verifier: TokenVerifier | null
  /** The awareness guard (in `extensions`): who speaks for which presence entry, for cluster presence. */
  readonly guard: AwarenessGuard
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i

/** Throws ConfigError when the key cannot be loaded (e.g. an unreadable JWKS_FILE). */
export function createSecurity(config: CollabConfig, logger: Logger, frames?: DecodedFrames): Security {
  let verifier: TokenVerifier | null
  try {
    verifier = TokenVerifier.fromSettings(config)
  } catch (error) {
    throw new ConfigError([`JWKS_FILE=${JSON.stringify(config.jwksFile)} is not valid: ${error instanceof Error ? error.message : String(error)}`])
  }
  if (!verifier) {
    logger.warn(
      { host: config.host },
      'OPEN MODE: no JWT_SECRET, JWT_PUBLIC_KEY or JWKS_FILE is set, so anyone who can reach this server may read and write every document. For development only.',
    )
    if (!LOOPBACK.test(config.host)) {
      logger.warn({ host: config.host }, `OPEN MODE on ${config.host}: this unprotected server is reachable from the network. Set a token key, or HOST=127.0.0.1.`)
    }
  }
  const auth = new Auth({ verifier, refreshBeforeMs: config.tokenRefreshBeforeMs, logger })
  const guard = new AwarenessGuard({ logger, maxStateBytes: config.awarenessMaxBytes, maxRate: config.awarenessMaxRate, frames })
  return { extensions: [auth, guard], verifier, guard }
}
