/**
 * The exit codes of `node server/main.ts` (docs/operations.md, "Exit codes"). Each failure
 * to start prints one plain line on stderr saying why, never a stack trace.
 */
export const ExitCode = {
  /** Stopped cleanly (SIGTERM / SIGINT). */
  Ok: 0,
  /** Anything unexpected: a failed shutdown, or an error at start that is none of the below. */
  Failure: 1,
  /** A bad configuration variable (ConfigError, server/config.ts): the line names it. */
  Config: 2,
  /** The configured storage cannot be used at start (StorageOpenError, server/storage/types.ts). */
  Storage: 3,
  /** The server cannot listen on HOST:PORT: the port is in use, or binding it is not permitted. */
  Listen: 4,
} as const

/** The process exit code when the configured storage cannot be used at start (a plain message says why). */
export const EXIT_STORAGE = ExitCode.Storage
