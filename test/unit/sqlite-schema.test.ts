import { statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { SqliteStorage } from '../../server/storage/sqlite.ts'
import { APPLICATION_ID, INLINE_BYTES, SCHEMA_VERSION } from '../../server/storage/sqlite-schema.ts'
import { PAGE_SIZE } from '../../server/storage/sqlite-open.ts'
import { StorageOpenError } from '../../server/storage/types.ts'
import { tempDir } from '../helpers/server.ts'

/** The tables as the first release created them: a rowid log with an index on (name, id). */
const FIRST_SCHEMA = `
  CREATE TABLE snapshots (name TEXT PRIMARY KEY, data BLOB NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE updates (id INTEGER PRIMARY KEY, name TEXT NOT NULL, data BLOB NOT NULL, created_at INTEGER NOT NULL);
  CREATE INDEX updates_by_name ON updates (name, id);
  CREATE TABLE versions (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, kind TEXT NOT NULL, label TEXT,
    created_by TEXT, created_at INTEGER NOT NULL, data BLOB NOT NULL);
  CREATE INDEX versions_by_name ON versions (name, id);
`

/** Updates that each push one number to the array 'a'. */
function pushes(doc: Y.Doc, from: number, count: number): Uint8Array[] {
  const out: Uint8Array[] = []
  const take = (u: Uint8Array) => out.push(u)
  doc.on('update', take)
  for (let i = from; i < from + count; i++) doc.getArray('a').push([i])
  doc.off('update', take)
  return out
}

function numbers(stored: { snapshot: Uint8Array | null; updates: Uint8Array[] }): number[] {
  const doc = new Y.Doc()
  for (const part of [stored.snapshot, ...stored.updates]) if (part) Y.applyUpdate(doc, part)
  return doc.getArray<number>('a').toArray()
}

describe('SQLite schema', () => {
  const open: SqliteStorage[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()))
  })
  const storage = (path: string) => {
    const s = new SqliteStorage({ path, sync: 'normal' })
    open.push(s)
    return s
  }

  it('a file of the first schema is migrated on open: every update read back in order, then appended to and compacted', async () => {
    const path = join(tempDir(), 'old.db')
    const old = new Database(path)
    old.pragma('journal_mode = WAL')
    old.exec(FIRST_SCHEMA)
    old.pragma(`application_id = ${APPLICATION_ID}`)
    // Two documents' logs interleaved in the one rowid table, each update depending on the one before it.
    const docs = { x: new Y.Doc(), y: new Y.Doc() }
    const logs = { x: pushes(docs.x, 0, 40), y: pushes(docs.y, 1000, 40) }
    // One large update in the middle of x's log (a paste), which the new layout keeps apart from the log.
    const paste = (doc: Y.Doc) => {
      let update: Uint8Array = new Uint8Array()
      doc.once('update', (u: Uint8Array) => (update = u))
      doc.getText('t').insert(0, 'p'.repeat(4 * INLINE_BYTES))
      return update
    }
    logs.x.splice(20, 0, paste(docs.x))
    const insert = old.prepare('INSERT INTO updates (name, data, created_at) VALUES (?, ?, ?)')
    for (let i = 0; i < 41; i++) for (const name of ['x', 'y'] as const) if (logs[name][i]) insert.run(name, logs[name][i], Date.now())
    old.prepare('INSERT INTO versions (name, kind, label, created_by, created_at, data) VALUES (?, ?, ?, ?, ?, ?)').run('x', 'named', 'v1', 'ada', Date.now(), Y.encodeStateAsUpdate(docs.x))
    old.close()

    const s = storage(path)
    const x = await s.load('x')
    expect(x.snapshot).toBeNull()
    // Byte for byte and in order: nothing re-encoded, nothing reordered.
    expect(x.updates.map((u) => Buffer.from(u).toString('hex'))).toEqual(logs.x.map((u) => Buffer.from(u).toString('hex')))
    expect(numbers(await s.load('y'))).toEqual(Array.from({ length: 40 }, (_, i) => 1000 + i))
    expect((await s.listVersions('x')).map((v) => v.label)).toEqual(['v1'])
    // The paste was moved apart from the log, as a new large append is.
    const outOfLine = () => (s.database.prepare('SELECT count(*) AS n FROM update_blobs').get() as { n: number }).n
    expect(outOfLine()).toBe(1)

    // New appends come after the migrated ones, and compaction folds them all.
    for (const u of pushes(docs.x, 40, 5)) await s.append('x', u)
    expect(numbers(await s.load('x'))).toEqual(Array.from({ length: 45 }, (_, i) => i))
    expect(await s.compact('x')).toBe(46)
    expect(numbers(await s.load('x'))).toEqual(Array.from({ length: 45 }, (_, i) => i))
    expect((await s.logSize('x')).count).toBe(0)
    expect((await s.logSize('y')).count).toBe(40)

    const db = s.database
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
    const sql = (db.prepare("SELECT sql FROM sqlite_master WHERE name = 'updates'").get() as { sql: string }).sql
    expect(sql).toMatch(/WITHOUT ROWID/)
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'updates_by_name'").all()).toEqual([])
    expect(outOfLine()).toBe(0)
    // The page size is the file's own: only a VACUUM (offline) changes it.
    expect(db.pragma('page_size', { simple: true })).toBe(4096)
  })

  it('a new file gets pages of PAGE_SIZE bytes, in WAL mode', () => {
    const db = storage(join(tempDir(), 'new.db')).database
    expect(db.pragma('page_size', { simple: true })).toBe(PAGE_SIZE)
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
  })

  it('opening a migrated file again writes nothing', async () => {
    const path = join(tempDir(), 'old.db')
    const old = new Database(path)
    old.exec(FIRST_SCHEMA)
    old.pragma(`application_id = ${APPLICATION_ID}`)
    old.prepare('INSERT INTO updates (name, data, created_at) VALUES (?, ?, ?)').run('x', pushes(new Y.Doc(), 0, 1)[0], Date.now())
    old.close()
    await storage(path).close()
    const again = storage(path)
    // Closing the first checkpointed its WAL away; the second open added no frame to the new one.
    expect(statSync(`${path}-wal`).size).toBe(0)
    expect(numbers(await again.load('x'))).toEqual([0])
  })

  it('a file of schema 2 (log entries without a sender) gets the column: old entries read back, new ones record who sent them', async () => {
    const path = join(tempDir(), 'v2.db')
    const first = storage(path)
    await first.append('x', pushes(new Y.Doc(), 0, 1)[0]!)
    await first.close()
    const old = new Database(path)
    // Make it a version-2 file again: the log as it was, without `sender`.
    old.exec('ALTER TABLE updates DROP COLUMN sender; DROP INDEX events_by_document;')
    old.pragma('user_version = 2')
    old.close()
    const again = storage(path)
    expect(again.database.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
    expect(again.database.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'events_by_document'").get()).toBeDefined()
    const doc = new Y.Doc()
    Y.applyUpdate(doc, (await again.load('x')).updates[0]!)
    await again.append('x', pushes(doc, 1, 1)[0]!, undefined, { sender: 'ann' })
    expect(numbers(await again.load('x'))).toEqual([0, 1])
    expect(await again.senders('x', 0)).toEqual(['ann'])
  })

  it('an append to a document commits one page: one WAL frame, the log being one b-tree', async () => {
    const path = join(tempDir(), 'collab.db')
    const s = storage(path)
    const doc = new Y.Doc()
    const log = pushes(doc, 0, 4)
    for (const u of log.slice(0, 3)) await s.append('d', u)
    const pageSize = s.database.pragma('page_size', { simple: true }) as number
    const before = statSync(`${path}-wal`).size
    await s.append('d', log[3]!)
    // A WAL frame is a 24-byte header and one page.
    expect(statSync(`${path}-wal`).size - before).toBe(24 + pageSize)
  })

  it('a file written by a newer schema is refused at open, unchanged', () => {
    const path = join(tempDir(), 'newer.db')
    const first = storage(path)
    first.database.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    first.database.close()
    expect(() => new SqliteStorage({ path, sync: 'normal' })).toThrow(StorageOpenError)
    const db = new Database(path)
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1)
    db.close()
  })

  it('our table of large updates in another shape is refused at open', () => {
    const path = join(tempDir(), 'reshaped.db')
    const db = new Database(path)
    db.exec('CREATE TABLE update_blobs (id INTEGER PRIMARY KEY, payload TEXT)')
    db.pragma(`application_id = ${APPLICATION_ID}`)
    db.close()
    expect(() => new SqliteStorage({ path, sync: 'normal' })).toThrow(StorageOpenError)
  })
})
