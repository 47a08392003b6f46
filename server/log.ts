import { pino, type Logger } from 'pino'
import { build as prettyStream } from 'pino-pretty'
import type { LogFormat, LogLevel } from './config.ts'
import { scrubber } from './secrets.ts'

/** How lines are written once `auto` is decided: JSON objects, or pino-pretty's readable lines. */
export type ResolvedLogFormat = Exclude<LogFormat, 'auto'>

/** `auto` means readable for a person at a terminal, JSON for everything else (files, pipes, collectors). */
export function resolveLogFormat(format: LogFormat, stdoutIsTerminal: boolean): ResolvedLogFormat {
  return format === 'auto' ? (stdoutIsTerminal ? 'pretty' : 'json') : format
}

export interface LoggerOptions {
  /** @default 'json' */
  format?: ResolvedLogFormat
  /** Colours in the pretty format (a terminal). @default false */
  colorize?: boolean
}

/**
 * The one structured logger on stdout; child loggers carry context. Either
 * format has the same fields: `pretty` formats the very JSON line `json` writes.
 * `secrets` (server/secrets.ts) are replaced in every line before it is written.
 */
export function createLogger(level: LogLevel, secrets: readonly string[] = [], options: LoggerOptions = {}): Logger {
  const scrub = scrubber(secrets)
  const settings = { level, base: { service: 'collab' }, hooks: { streamWrite: scrub } }
  if (options.format !== 'pretty') return pino(settings)
  // Synchronous, so the last lines before process.exit are not lost.
  return pino(settings, prettyStream({ colorize: options.colorize ?? false, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' }))
}
