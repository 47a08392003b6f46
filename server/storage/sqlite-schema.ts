import type Database from 'better-sqlite3'

/** `PRAGMA application_id` of our database files ("YJSC"): tells them from other SQLite files. */
export const APPLICATION_ID = 0x594a5343

/**
 * `PRAGMA user_version` of the tables this code reads and writes.
 *
 * 0: the first layout — the log a rowid table plus an index on (name, id), so
 * every append changed two b-trees (two WAL frames per commit).
 * 1: the log is one b-tree keyed by (name, id) (WITHOUT ROWID): an append
 * changes one page, and a document's log lies together, so compaction's trim
 * frees whole pages instead of touching a page per row.
 */
export const SCHEMA_VERSION = 1

/**
 * The log's columns. `id` orders one document's log (assigned per document,
 * see sqlite-log-ids.ts); compaction reads and trims in one transaction, so an
 * id reused after a trim can never be trimmed unread.
 */
const LOG_TABLE = (name: string) => `
  CREATE TABLE IF NOT EXISTS ${name} (
    name TEXT NOT NULL,
    id INTEGER NOT NULL,
    data BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (name, id)
  ) WITHOUT ROWID;`

const TABLES = `
  CREATE TABLE IF NOT EXISTS snapshots (
    name TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  ${LOG_TABLE('updates')}
  CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    label TEXT,
    created_by TEXT,
    created_at INTEGER NOT NULL,
    data BLOB NOT NULL
  );
  CREATE INDEX IF NOT EXISTS versions_by_name ON versions (name, id);
`

/**
 * Create our tables, or bring a file of an older layout up to this one, in one
 * transaction (BEGIN IMMEDIATE: two processes opening one old file migrate it
 * once). A file of a newer layout was refused by `openDatabase` already.
 */
export function prepareSchema(db: Database.Database): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number
    if (version < 1 && hasTable(db, 'updates')) migrateRowidLog(db)
    db.exec(TABLES)
    if (version !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`)
    if (db.pragma('application_id', { simple: true }) !== APPLICATION_ID) db.pragma(`application_id = ${APPLICATION_ID}`)
  }).immediate()
}

function hasTable(db: Database.Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined
}

/**
 * 0 → 1: copy the rowid log into the (name, id) b-tree. The old ids are unique
 * and increasing in append order, so each document's log keeps its order (and
 * its bytes); the old table and its index go.
 */
function migrateRowidLog(db: Database.Database): void {
  db.exec(`
    ${LOG_TABLE('updates_v1')}
    INSERT INTO updates_v1 (name, id, data, created_at) SELECT name, id, data, created_at FROM updates ORDER BY name, id;
    DROP TABLE updates;
    ALTER TABLE updates_v1 RENAME TO updates;
  `)
}
