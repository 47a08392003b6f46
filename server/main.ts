/**
 * Entry point of the server and of the `yjs-collab-server` command (which
 * reaches it through server/bin.ts, after the Node version check). Reads the
 * command line and the environment once, then either starts the server —
 * validated config; a failure to start is one plain line on stderr and an exit
 * code (server/exit-codes.ts: 2 bad configuration, 3 storage unusable, 4 cannot
 * listen, 1 anything else), none printing a secret (server/secrets.ts); clean
 * stop on SIGTERM/SIGINT — or runs a sub command (`token`, `--help`, `--version`).
 */
import { enableCompileCache } from 'node:module'
import { format, parseArgs } from 'node:util'
import { USAGE, helpText } from './cli/help.ts'
import { TOKEN_USAGE, UsageError, tokenCommand } from './cli/token.ts'
import { ConfigError, parseConfig } from './config.ts'
import { packageInfo } from './package-info.ts'
import { scrubber, secretsOf } from './secrets.ts'
import { StorageOpenError } from './storage/types.ts'
import { startupFacts, startupMessage, listenFailure } from './startup.ts'
import { ExitCode } from './exit-codes.ts'
import { createLogger, resolveLogFormat } from './log.ts'

/** Exit code of a bad command line (as of a bad configuration). */
const EXIT_USAGE = ExitCode.Config

function usageError(message: string, usage: string): never {
  process.stderr.write(`${message}\n${usage}\n`)
  process.exit(EXIT_USAGE)
}

async function start(env: Record<string, string | undefined>): Promise<void> {
  // V8 keeps the compiled code of what loads from here on disk (Node's own cache: NODE_COMPILE_CACHE,
  // else the OS temp directory; NODE_DISABLE_COMPILE_CACHE=1 turns it off): a restart answers
  // /healthz ~0.2 s sooner (0.7–0.9 s → ~0.6 s here), a good part of a deploy's downtime.
  enableCompileCache()
  // Loaded only to start: the sub commands need none of the server (nor its native SQLite binding).
  const { createCollabServer } = await import('./app.ts')
  let server
  let secrets: string[] = []
  try {
    const parsed = parseConfig(env)
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

  // Installed before listening: a SIGTERM right after the start-up line must not be lost.
  let stopping = false
  const running = server
  async function stop(signal: string): Promise<void> {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'shutting down')
    const timer = setTimeout(() => {
      logger.error('shutdown took longer than 5 s; exiting')
      process.exit(ExitCode.Failure)
    }, 5000)
    try {
      await running.close()
      clearTimeout(timer)
      process.exit(ExitCode.Ok)
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed')
      process.exit(ExitCode.Failure)
    }
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
  // Node would print these raw to stderr: through the logger they are scrubbed of secrets like every line.
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception; exiting')
    process.exit(ExitCode.Failure)
  })
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason }, 'unhandled promise rejection; exiting')
    process.exit(ExitCode.Failure)
  })

  try {
    const port = await server.listen()
    const facts = startupFacts(config, port, server.url)
    logger.info(facts, startupMessage(facts))
  } catch (error) {
    if (stopping) return // a signal came first; stop() exits
    process.stderr.write(`${scrubber(secrets)(listenFailure(error, config.host, config.port))}\n`)
    // Nothing was served or written: the storage closes with the process.
    process.exit(ExitCode.Listen)
  }
}

const argv = process.argv.slice(2)
if (argv[0] === 'token') {
  try {
    process.stdout.write(`${await tokenCommand(argv.slice(1), process.env)}\n`)
  } catch (error) {
    if (error instanceof UsageError) usageError(`token: ${error.message}`, `usage: ${TOKEN_USAGE}`)
    throw error
  }
} else {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } },
      allowPositionals: true,
      strict: true,
    })
  } catch (error) {
    usageError(error instanceof Error ? error.message : String(error), USAGE)
  }
  const [command, ...rest] = parsed.positionals
  if (parsed.values.help) process.stdout.write(helpText(packageInfo().version))
  else if (parsed.values.version) process.stdout.write(`${packageInfo().version}\n`)
  else if ((command ?? 'start') !== 'start' || rest.length > 0) usageError(`unknown command: ${parsed.positionals.join(' ')}`, USAGE)
  else await start(process.env)
}
