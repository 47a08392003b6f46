import type Database from 'better-sqlite3'

/** `PRAGMA application_id` of our database files ("YJSC"): tells them from other SQLite files. */
export const APPLICATION_ID = 0x594a5343

/**
 * `PRAGMA user_version` of the tables this code reads and writes.
 *
 * 0: the first layout — the log a rowid table plus an index on (name, id), so
 * every append changed two b-trees (two WAL frames per commit), and a
 * document's entries lay scattered among every other document's.
 * 1: the log is one b-tree keyed by (name, id) (WITHOUT ROWID): a small
 * append changes one page, and a document's log lies together, so
 * compaction's trim frees whole pages instead of touching a page per entry.
 * Updates over INLINE_BYTES are kept apart, in `update_blobs`.
 * 2: the change feed's outbox (docs/events.md): `events` (the commit-ordered
 * cursor is its rowid), `event_lines` (per process: how far its
 * `document.updated` events are paid, whether it is alive), `event_meta`
 * (what retention removed), and the webhook tables. Only new
 * tables: a version-1 file is brought up by creating them.
 * 3: each log entry records who sent it (`updates.sender`, NULL in older
 * entries), and one document's events are read by `events_by_document`
 * (its activity). Only a new column and index: an older file gets them.
 */
export const SCHEMA_VERSION = 3

/**
 * Updates up to this size are stored in the log's own b-tree; larger ones (a
 * paste, a first sync) in `update_blobs`, a rowid table whose new rows go at
 * its end, with the log entry pointing at them. Large rows inside the
 * (name, id) b-tree make SQLite rebalance its pages on most appends: measured
 * (bench/lib/sqlite-syscalls.ts, 100 documents) at 700 B, 6.0 write syscalls
 * per append inline against 4.7 apart (five appends per commit: 5.0 against
 * 1.7); at 40 B inline is best (2.6 per append).
 */
export const INLINE_BYTES = 256

/**
 * The log. `id` orders one document's log (assigned per document, see
 * sqlite-log-ids.ts); compaction reads and trims in one transaction, so an id
 * reused after a trim can never be trimmed unread. Exactly one of `data` and
 * `blob` is set.
 */
const LOG_TABLE = (name: string) => `
  CREATE TABLE IF NOT EXISTS ${name} (
    name TEXT NOT NULL,
    id INTEGER NOT NULL,
    data BLOB,
    blob INTEGER,
    created_at INTEGER NOT NULL,
    sender TEXT,
    PRIMARY KEY (name, id)
  ) WITHOUT ROWID;`

/** Large updates, by an id SQLite assigns (one past the largest): new ones go at the b-tree's end. */
const BLOB_TABLE = 'CREATE TABLE IF NOT EXISTS update_blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL);'

/**
 * The change feed (docs/events.md). `events.id` is AUTOINCREMENT: SQLite has
 * one writer at a time, so ids are given in commit order, and never reused
 * after retention deletes the oldest. What is owed after a crash is read from
 * the log (sqlite-events.ts), so there are no marks.
 */
const FEED_TABLES = `
  CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    document TEXT NOT NULL,
    time INTEGER NOT NULL,
    actor TEXT NOT NULL,
    data TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS events_by_time ON events (time);
  CREATE INDEX IF NOT EXISTS events_by_document ON events (document, id);
  CREATE TABLE IF NOT EXISTS event_lines (
    instance TEXT PRIMARY KEY,
    paid_through INTEGER NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    alive_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS event_meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS webhook_endpoints (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    types TEXT NOT NULL,
    documents TEXT NOT NULL,
    source TEXT NOT NULL,
    created_by TEXT,
    cursor INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL DEFAULT 0,
    first_failed_at INTEGER,
    last_error TEXT,
    lease_by TEXT,
    lease_host TEXT,
    lease_pid INTEGER,
    lease_until INTEGER
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS webhook_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint TEXT NOT NULL,
    event INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    failed_at INTEGER NOT NULL,
    replay INTEGER NOT NULL DEFAULT 0
  );
`

const TABLES = `
  CREATE TABLE IF NOT EXISTS snapshots (
    name TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  ${LOG_TABLE('updates')}
  ${BLOB_TABLE}
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
  ${FEED_TABLES}
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
    if (version < 3 && hasTable(db, 'updates') && !hasColumn(db, 'updates', 'sender')) db.exec('ALTER TABLE updates ADD COLUMN sender TEXT')
    db.exec(TABLES)
    if (version !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`)
    if (db.pragma('application_id', { simple: true }) !== APPLICATION_ID) db.pragma(`application_id = ${APPLICATION_ID}`)
  }).immediate()
}

function hasColumn(db: Database.Database, table: string, column: string): boolean {
  return (db.pragma(`table_info(${table})`) as Array<{ name: string }>).some((c) => c.name === column)
}

function hasTable(db: Database.Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined
}

/**
 * 0 → 1: copy the rowid log into the (name, id) b-tree, large updates into
 * `update_blobs` (under their old id). The old ids are unique and increasing in
 * append order, so each document's log keeps its order (and its bytes); the
 * old table and its index go.
 */
function migrateRowidLog(db: Database.Database): void {
  db.exec(`
    ${LOG_TABLE('updates_v1')}
    ${BLOB_TABLE}
    INSERT INTO update_blobs (id, data) SELECT id, data FROM updates WHERE length(data) > ${INLINE_BYTES};
    INSERT INTO updates_v1 (name, id, data, blob, created_at)
      SELECT name, id, iif(length(data) > ${INLINE_BYTES}, NULL, data), iif(length(data) > ${INLINE_BYTES}, id, NULL), created_at
      FROM updates ORDER BY name, id;
    DROP TABLE updates;
    ALTER TABLE updates_v1 RENAME TO updates;
  `)
}
