import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { APPLICATION_ID, SCHEMA_VERSION } from './sqlite-schema.ts'
import { StorageOpenError } from './types.ts'

/** Our tables and the columns each must have; a file that has one of them with other columns is of another schema. */
const TABLES: Record<string, readonly string[]> = {
  snapshots: ['name', 'data', 'updated_at'],
  updates: ['id', 'name', 'data', 'created_at'],
  update_blobs: ['id', 'data'],
  client_owners: ['name', 'client', 'owner', 'claimed_at'],
  versions: ['id', 'name', 'kind', 'label', 'created_by', 'created_at', 'data'],
}

/**
 * Page size of a new database file (an existing file keeps its own). An append
 * writes one page to the WAL (a header and the page: two write syscalls);
 * pages twice SQLite's default of 4 KiB hold twice the rows, so a document's
 * log fills and rebalances its pages half as often: measured
 * (bench/lib/sqlite-syscalls.ts) about 0.7 fewer write syscalls per append,
 * for about 1.5 µs more CPU. 16 KiB saved little more, cost 3–5 µs more CPU and
 * made checkpoints several times longer.
 */
export const PAGE_SIZE = 8192

/** How long a write waits for another process's lock before it fails (SQLITE_BUSY). */
const BUSY_TIMEOUT_MS = 5000

/**
 * Open (or create) the database file at `path` in WAL mode, or throw a
 * `StorageOpenError` with one plain sentence when it cannot be used: not a
 * SQLite file, read-only, locked, or a database of another schema. The file is
 * never changed in those cases.
 */
export function openDatabase(path: string): Database.Database {
  const what = `DB_PATH ${path}`
  let db: Database.Database | undefined
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
    db = new Database(path)
    // First: it takes effect only on a file nothing has been written to yet (and changes nothing else).
    db.pragma(`page_size = ${PAGE_SIZE}`)
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    checkSchema(db, what)
    // A file opened read-only by SQLite's fallback, or locked: found before anything is written to it.
    db.prepare('BEGIN IMMEDIATE').run()
    db.prepare('ROLLBACK').run()
    // Fails (changing nothing) where the directory does not take the WAL files.
    db.pragma('journal_mode = WAL')
    return db
  } catch (error) {
    db?.close()
    if (error instanceof StorageOpenError) throw error
    throw new StorageOpenError(`${what}: ${plainReason(error)}`, { cause: error })
  }
}

function checkSchema(db: Database.Database, what: string): void {
  const id = db.pragma('application_id', { simple: true }) as number
  if (id !== 0 && id !== APPLICATION_ID) throw new StorageOpenError(`${what} is a database of another application (application_id ${id}); use a file of its own`)
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{ name: string }>).map((t) => t.name)
  // Tables of others beside ours are fine (a backup tool's, say); a database with only others' tables is not ours.
  const foreign = tables.filter((t) => !(t in TABLES))
  if (foreign.length > 0 && foreign.length === tables.length && id !== APPLICATION_ID) {
    throw new StorageOpenError(`${what} holds another schema (tables ${foreign.join(', ')}); use a file of its own`)
  }
  for (const table of tables.filter((t) => t in TABLES)) {
    const columns = new Set((db.prepare('SELECT name FROM pragma_table_info(?)').all(table) as Array<{ name: string }>).map((c) => c.name))
    const missing = TABLES[table]!.filter((c) => !columns.has(c))
    if (missing.length > 0) throw new StorageOpenError(`${what} holds another schema (table ${table} lacks ${missing.join(', ')}); use a file of its own`)
  }
  const version = db.pragma('user_version', { simple: true }) as number
  if (version > SCHEMA_VERSION) {
    throw new StorageOpenError(`${what} was written by a newer version of this server (schema ${version}, this one reads up to ${SCHEMA_VERSION}); run that version, or use a file of its own`)
  }
}

/** One plain reason for an error opening the file: by SQLite's or the OS's code, never a stack. */
function plainReason(error: unknown): string {
  const code = (error as { code?: string }).code
  switch (code) {
    case 'SQLITE_NOTADB':
      return 'is not a SQLite database (or is encrypted or corrupt); point DB_PATH at a file of its own'
    case 'SQLITE_CORRUPT':
      return 'is a corrupt SQLite database; restore it from a backup'
    case 'SQLITE_READONLY':
    case 'SQLITE_READONLY_DIRECTORY':
    case 'EROFS':
      return 'is read-only: the file and its directory must be writable by this process'
    case 'SQLITE_CANTOPEN':
    case 'EACCES':
    case 'EPERM':
      return 'cannot be opened or created: its directory must exist (or be creatable) and be writable (not read-only) by this process'
    case 'SQLITE_BUSY':
      return `is locked by another process (for more than ${BUSY_TIMEOUT_MS} ms)`
    default:
      return `cannot be used (${code ?? (error instanceof Error ? error.message : String(error))})`
  }
}
