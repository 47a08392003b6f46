import { pino, type Logger } from 'pino'
import type { LogLevel } from './config.ts'

/** The one structured logger: JSON lines on stdout, child loggers carry context. */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'collab' } })
}
