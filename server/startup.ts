/**
 * What the entry point says at start, in plain words: where the page, the
 * socket and the database are (never a password), the mode — and, when it
 * cannot listen, one line saying why.
 */
import { resolve } from 'node:path'
import { hasKey } from './auth/jwt.ts'
import type { CollabConfig } from './config.ts'
import { scrubber, secretsOf } from './secrets.ts'

/** `open`: no token key, anyone who reaches the server may do everything; `authenticated`: every document needs a token. */
export type ServerMode = 'open' | 'authenticated'

/** The start-up facts, as log fields; the same in JSON and pretty logs. */
export interface StartupFacts {
  port: number
  host: string
  /** The web page, e.g. `http://127.0.0.1:1234/`. */
  page: string
  /** The WebSocket endpoint, e.g. `ws://127.0.0.1:1234/ws`. */
  socket: string
  /** `SQLite <absolute path>` or `PostgreSQL user@host:port/database` (no password). */
  database: string
  mode: ServerMode
}

/** Where documents are stored, without any secret: the SQLite file, or PostgreSQL's user, host and database. */
export function describeDatabase(config: Pick<CollabConfig, 'dbPath' | 'databaseUrl' | 'jwtSecret' | 'metricsToken' | 'redisUrl'>): string {
  const scrub = scrubber(secretsOf(config))
  if (!config.databaseUrl) return scrub(`SQLite ${config.dbPath === ':memory:' ? ':memory: (nothing is kept)' : resolve(config.dbPath)}`)
  try {
    const url = new URL(config.databaseUrl)
    const user = url.username ? `${decodeURIComponent(url.username)}@` : ''
    const host = url.hostname ? `${url.hostname}${url.port ? `:${url.port}` : ''}` : 'localhost'
    return scrub(`PostgreSQL ${user}${host}${decodeURIComponent(url.pathname || '/')}`)
  } catch {
    return 'PostgreSQL (DATABASE_URL)'
  }
}

/** The start-up facts of a server listening on `port`; `socket` is its ws:// URL. */
export function startupFacts(config: CollabConfig, port: number, socket: string): StartupFacts {
  return {
    port,
    host: config.host,
    page: socket.replace(/^ws/, 'http').replace(/\/ws$/, '/'),
    socket,
    database: describeDatabase(config),
    mode: hasKey(config) ? 'authenticated' : 'open',
  }
}

/** The start-up line's message: `collab server listening: …` in plain words (tests and scripts wait for its first words). */
export function startupMessage(facts: StartupFacts): string {
  const mode =
    facts.mode === 'open'
      ? 'open mode: no token key, anyone who can reach it may read and write every document (development only)'
      : 'authenticated mode: every document needs a token'
  return `collab server listening: the page at ${facts.page}, the socket at ${facts.socket}, documents in ${facts.database}; ${mode}`
}

/** One plain line for an error of `listen()` (the port is taken, binding is not permitted, …). */
export function listenFailure(error: unknown, host: string, port: number): string {
  const code = (error as { code?: unknown }).code
  const where = `Cannot listen on ${host.includes(':') ? `[${host}]` : host}:${port}`
  switch (code) {
    case 'EADDRINUSE':
      return `${where}: the port is already in use (EADDRINUSE); stop whatever holds it, or set PORT to a free port`
    case 'EACCES':
      return `${where}: not permitted (EACCES); ports below 1024 need privileges: set PORT to 1024 or above`
    case 'EADDRNOTAVAIL':
      return `${where}: HOST is not an address of this machine (EADDRNOTAVAIL)`
    default:
      return `${where}: ${typeof code === 'string' ? code : error instanceof Error ? error.message : String(error)}`
  }
}
