/**
 * Entry point: read the environment once, validate it, start, and stop cleanly
 * on SIGTERM/SIGINT. A failure to start is one plain line on stderr and an exit
 * code (server/exit-codes.ts: 2 bad configuration, 3 storage unusable, 4 cannot
 * listen, 1 anything else); none prints a secret (server/secrets.ts).
 */
import { format } from 'node:util'
import { type CollabServer, createCollabServer } from './app.ts'
import { ConfigError, parseConfig } from './config.ts'
import { ExitCode } from './exit-codes.ts'
import { createLogger, resolveLogFormat } from './log.ts'
import { scrubber, secretsOf } from './secrets.ts'
import { listenFailure, startupFacts, startupMessage } from './startup.ts'
import { StorageOpenError } from './storage/types.ts'

let server: CollabServer
let secrets: string[] = []
try {
  const parsed = parseConfig(process.env)
  secrets = secretsOf(parsed)
  const terminal = process.stdout.isTTY === true
  const logger = createLogger(parsed.logLevel, secrets, { format: resolveLogFormat(parsed.logFormat, terminal), colorize: terminal })
  server = createCollabServer(parsed, { logger })
} catch (error) {
  // A ConfigError names variables and never shows a secret value; anything else may quote one.
  if (error instanceof ConfigError) {
    process.stderr.write(`${scrubber(secrets)(error.message)}\n`)
    process.exit(ExitCode.Config)
  }
  if (error instanceof StorageOpenError) {
    process.stderr.write(`Storage unusable: ${scrubber(secrets)(error.message)}\n`)
    process.exit(ExitCode.Storage)
  }
  process.stderr.write(`could not start: ${scrubber(secrets)(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`)
  process.exit(ExitCode.Failure)
}
const { config, logger } = server

// Hocuspocus reports some errors with console.*: keep them in the structured log.
console.error = (...args: unknown[]) => logger.error({ source: 'hocuspocus' }, format(...args))
console.warn = (...args: unknown[]) => logger.warn({ source: 'hocuspocus' }, format(...args))

let stopping = false
async function stop(signal: string): Promise<void> {
  if (stopping) return
  stopping = true
  logger.info({ signal }, 'shutting down')
  const timer = setTimeout(() => {
    logger.error('shutdown took longer than 5 s; exiting')
    process.exit(ExitCode.Failure)
  }, 5000)
  try {
    await server.close()
    clearTimeout(timer)
    process.exit(ExitCode.Ok)
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed')
    process.exit(ExitCode.Failure)
  }
}
process.on('SIGTERM', () => void stop('SIGTERM'))
process.on('SIGINT', () => void stop('SIGINT'))

try {
  const port = await server.listen()
  const facts = startupFacts(config, port, server.url)
  logger.info(facts, startupMessage(facts))
} catch (error) {
  process.stderr.write(`${scrubber(secrets)(listenFailure(error, config.host, config.port))}\n`)
  // Nothing was served or written: the storage closes with the process.
  process.exit(ExitCode.Listen)
}
