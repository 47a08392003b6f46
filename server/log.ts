import { pino, type Logger } from 'pino'
import type { LogLevel } from './config.ts'
import { scrubber } from './secrets.ts'

/**
 * The one structured logger: JSON lines on stdout, child loggers carry context.
 * `secrets` (server/secrets.ts) are replaced in every line before it is written.
 */
export function createLogger(level: LogLevel, secrets: readonly string[] = []): Logger {
  const scrub = scrubber(secrets)
  return pino({ level, base: { service: 'collab' }, hooks: { streamWrite: scrub } })
}
