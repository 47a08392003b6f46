/**
 * Entry point: read the environment once, validate it, start, and stop cleanly
 * on SIGTERM/SIGINT. A bad variable stops start-up with exit code 2, any other
 * failure to start with 1; neither prints a secret (server/secrets.ts).
 */
import { format } from 'node:util'
import { type CollabServer, createCollabServer } from './app.ts'
import { ConfigError, parseConfig } from './config.ts'
import { scrubber, secretsOf } from './secrets.ts'
import { EXIT_STORAGE, StorageOpenError } from './storage/types.ts'

let server: CollabServer
let secrets: string[] = []
try {
  const parsed = parseConfig(process.env)
  secrets = secretsOf(parsed)
  server = createCollabServer(parsed)
} catch (error) {
  // A ConfigError names variables and never shows a secret value; anything else may quote one.
  if (error instanceof ConfigError) {
    process.stderr.write(`${scrubber(secrets)(error.message)}\n`)
    process.exit(2)
  }
  if (error instanceof StorageOpenError) {
    process.stderr.write(`Storage unusable: ${scrubber(secrets)(error.message)}\n`)
    process.exit(EXIT_STORAGE)
  }
  process.stderr.write(`could not start: ${scrubber(secrets)(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`)
  process.exit(1)
}
const { config, logger } = server

// Hocuspocus reports some errors with console.*: keep them in the structured log.
console.error = (...args: unknown[]) => logger.error({ source: 'hocuspocus' }, format(...args))
console.warn = (...args: unknown[]) => logger.warn({ source: 'hocuspocus' }, format(...args))

try {
  const port = await server.listen()
  logger.info({ port, host: config.host, dbPath: config.databaseUrl ? undefined : config.dbPath, url: server.url }, 'collab server listening')
} catch (error) {
  logger.fatal({ err: error, port: config.port, host: config.host }, 'could not listen')
  process.exit(1)
}

let stopping = false
async function stop(signal: string): Promise<void> {
  if (stopping) return
  stopping = true
  logger.info({ signal }, 'shutting down')
  const timer = setTimeout(() => {
    logger.error('shutdown took longer than 5 s; exiting')
    process.exit(1)
  }, 5000)
  try {
    await server.close()
    clearTimeout(timer)
    process.exit(0)
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed')
    process.exit(1)
  }
}
process.on('SIGTERM', () => void stop('SIGTERM'))
process.on('SIGINT', () => void stop('SIGINT'))
