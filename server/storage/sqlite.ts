import Database from 'better-sqlite3'
import type { DbSync } from '../config.ts'
import { foldState } from './merge.ts'
import { SqliteEvents } from './sqlite-events.ts'
import { SqliteWebhooks } from './sqlite-webhooks.ts'
import { LogIds } from './sqlite-log-ids.ts'
import { openDatabase } from './sqlite-open.ts'
import { SqliteOwners } from './sqlite-owners.ts'
import { INLINE_BYTES, prepareSchema } from './sqlite-schema.ts'
import type { Announce, AppendExtras, ClientClaim, DocumentInfo, NewEvent, NewVersion, Storage, StoredDocument, VersionInfo, VersionKind } from './types.ts'

export interface SqliteStorageConfiguration {
  /** Database file; its directory is created. ':memory:' for a throwaway store. */
  path: string
  /** 'normal': durable across process crashes; 'full': across power loss too. */
  sync: DbSync
  /**
   * Under load, at most one append transaction per this many ms: appends that
   * arrive meanwhile wait and share the next one. An idle store still commits
   * at the end of the event-loop turn. 0: one transaction per turn. @default 0
   */
  commitIntervalMs?: number
}

interface PendingAppend {
  name: string
  update: Uint8Array
  /** Client-id claims that commit with this append (or, if one is lost, nothing does). */
  claims?: readonly ClientClaim[]
  /** Who sent it; what commits with it for the change feed (events, the dirty mark). */
  feed?: AppendExtras
  /** The winners of a lost claim: the update was not inserted. */
  lost?: ClientClaim[]
  resolve: (lost?: ClientClaim[]) => void
  reject: (error: unknown) => void
}

/**
 * The embedded default: one SQLite file in WAL mode.
 *
 * Appends are group-committed: every append made in one event-loop turn is
 * written in a single transaction at the end of that turn (setImmediate), and
 * each promise resolves only once that transaction has committed. With
 * `commitIntervalMs`, a transaction also waits until that long after the
 * previous one, so under load the appends of many turns share one commit
 * (a commit of one append writes one WAL frame — two write syscalls — plus
 * its share of page rebalances and checkpoints, ~2.6–2.9 in all; appends to
 * one document in one commit share a page). This is what makes `DB_SYNC=full` affordable, and the durable
 * path cheap in CPU.
 */
export class SqliteStorage implements Storage {
  private readonly db: Database.Database
  private queue: PendingAppend[] = []
  private flushScheduled = false
  private readonly commitIntervalMs: number
  /** When the last append transaction ended (performance.now()). */
  private lastCommit = -Infinity
  private commitCount = 0
  private readonly stmt
  private readonly ids: LogIds
  /** One transaction for a batch of appends; made once (wrapping a function per flush showed in profiles). */
  private readonly insertBatch: (batch: PendingAppend[], now: number) => void
  private readonly ownersTable: SqliteOwners
  readonly events: SqliteEvents
  readonly webhooks: SqliteWebhooks

  constructor(configuration: SqliteStorageConfiguration) {
    this.commitIntervalMs = configuration.commitIntervalMs ?? 0
    this.db = openDatabase(configuration.path)
    this.db.pragma(`synchronous = ${configuration.sync === 'full' ? 'FULL' : 'NORMAL'}`)
    prepareSchema(this.db)
    this.ownersTable = new SqliteOwners(this.db)
    this.ids = new LogIds(this.db)
    this.events = new SqliteEvents(this.db)
    this.webhooks = new SqliteWebhooks(this.db)
    this.stmt = {
      insert: this.db.prepare<[string, number, Uint8Array, number, string | null]>('INSERT INTO updates (name, id, data, created_at, sender) VALUES (?, ?, ?, ?, ?)'),
      insertBlob: this.db.prepare<[Uint8Array]>('INSERT INTO update_blobs (data) VALUES (?)'),
      insertRef: this.db.prepare<[string, number, number | bigint, number, string | null]>('INSERT INTO updates (name, id, blob, created_at, sender) VALUES (?, ?, ?, ?, ?)'),
      senders: this.db.prepare<[string, number], { sender: string }>('SELECT DISTINCT sender FROM updates WHERE name = ? AND created_at >= ? AND sender IS NOT NULL ORDER BY sender'),
      snapshot: this.db.prepare<[string], { data: Buffer }>('SELECT data FROM snapshots WHERE name = ?'),
      log: this.db.prepare<[string], { id: number; data: Buffer }>(`SELECT u.id, coalesce(u.data, b.data) AS data FROM ${LOG} WHERE u.name = ? ORDER BY u.id`),
      logSize: this.db.prepare<[string], { count: number; bytes: number | null }>(`SELECT count(*) AS count, sum(${LOG_BYTES}) AS bytes FROM ${LOG} WHERE u.name = ?`),
      putSnapshot: this.db.prepare(
        'INSERT INTO snapshots (name, data, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at',
      ),
      trimBlobs: this.db.prepare('DELETE FROM update_blobs WHERE id IN (SELECT blob FROM updates WHERE name = ? AND id <= ? AND blob IS NOT NULL)'),
      trimLog: this.db.prepare('DELETE FROM updates WHERE name = ? AND id <= ?'),
      deleteBlobs: this.db.prepare('DELETE FROM update_blobs WHERE id IN (SELECT blob FROM updates WHERE name = ? AND blob IS NOT NULL)'),
      deleteSnapshot: this.db.prepare('DELETE FROM snapshots WHERE name = ?'),
      deleteLog: this.db.prepare('DELETE FROM updates WHERE name = ?'),
      deleteVersions: this.db.prepare('DELETE FROM versions WHERE name = ?'),
      insertVersion: this.db.prepare<[string, string, string | null, string | null, number, Uint8Array]>(
        'INSERT INTO versions (name, kind, label, created_by, created_at, data) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      newestVersion: this.db.prepare<[string, string], { data: Buffer }>('SELECT data FROM versions WHERE name = ? AND kind = ? ORDER BY id DESC LIMIT 1'),
      listVersions: this.db.prepare<[string, number, number], VersionRow>(
        `SELECT ${VERSION_COLUMNS} FROM versions WHERE name = ? AND id < ? ORDER BY id DESC LIMIT ?`,
      ),
      getVersion: this.db.prepare<[string, number], VersionRow & { data: Buffer }>(`SELECT ${VERSION_COLUMNS}, data FROM versions WHERE name = ? AND id = ?`),
    }
    const insertBatch = this.db.transaction((batch: PendingAppend[], now: number) => {
      this.ids.begin()
      for (const p of batch) {
        if (p.claims && (p.lost = this.ownersTable.claim(p.name, p.claims, now))) continue
        const id = this.ids.next(p.name)
        const sender = p.feed?.sender ?? null
        if (p.update.byteLength <= INLINE_BYTES) this.stmt.insert.run(p.name, id, p.update, now, sender)
        else this.stmt.insertRef.run(p.name, id, this.stmt.insertBlob.run(p.update).lastInsertRowid, now, sender)
        if (p.feed?.events) this.feedOf(p, now)
      }
    })
    // BEGIN IMMEDIATE: the write lock before the ids are chosen (see LogIds).
    this.insertBatch = insertBatch.immediate
  }

  /** The append's change-feed part, in its transaction: the events born of it (no dirty mark: sqlite-events.ts reads those from the log). */
  private feedOf(p: PendingAppend, now: number): void {
    for (const event of p.feed!.events ?? []) this.events.insert(event, now)
  }

  /** Direct access for operations tooling and tests (e.g. PRAGMA max_page_count). */
  get database(): Database.Database {
    return this.db
  }

  async load(name: string): Promise<StoredDocument> {
    const { snapshot, updates } = this.db.transaction(() => this.readSync(name))()
    return { snapshot, updates, owners: this.ownersTable.load(name) }
  }

  /** Call inside a transaction, so the snapshot and the log are read at one point in time. */
  private readSync(name: string): StoredDocument & { lastId: number } {
    const snap = this.stmt.snapshot.get(name)
    const rows = this.stmt.log.all(name)
    return {
      snapshot: snap ? new Uint8Array(snap.data) : null,
      updates: rows.map((r) => new Uint8Array(r.data)),
      lastId: rows.length > 0 ? rows[rows.length - 1]!.id : 0,
    }
  }

  append(name: string, update: Uint8Array, claims?: readonly ClientClaim[], feed?: AppendExtras): Promise<ClientClaim[] | void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ name, update, claims: claims?.length ? claims : undefined, feed, resolve, reject })
      if (this.flushScheduled) return
      this.flushScheduled = true
      const wait = this.lastCommit + this.commitIntervalMs - performance.now()
      if (wait >= 1) setTimeout(this.flush, wait)
      else setImmediate(this.flush)
    })
  }

  async owners(name: string): Promise<ClientClaim[]> {
    return this.ownersTable.load(name)
  }

  async senders(name: string, since: number): Promise<string[]> {
    return this.stmt.senders.all(name, since).map((r) => r.sender)
  }

  /** Append transactions committed so far (metrics, tests). */
  get commits(): number {
    return this.commitCount
  }

  private readonly flush = (): void => {
    this.flushScheduled = false
    const batch = this.queue
    this.queue = []
    if (batch.length === 0) return
    const now = Date.now()
    try {
      this.insertBatch(batch, now)
    } catch (error) {
      for (const p of batch) p.reject(error)
      return
    } finally {
      this.lastCommit = performance.now()
    }
    this.commitCount += 1
    for (const p of batch) p.resolve(p.lost)
  }

  async compact(name: string): Promise<number> {
    // BEGIN IMMEDIATE: takes the write lock first, so no other writer (another
    // process on this file) can append between our read and our trim; appends
    // from this process are queued behind us on the event loop anyway.
    return this.db.transaction(() => {
      const stored = this.readSync(name)
      if (stored.updates.length === 0) return 0
      this.stmt.putSnapshot.run(name, foldState(stored), Date.now())
      this.stmt.trimBlobs.run(name, stored.lastId)
      this.stmt.trimLog.run(name, stored.lastId)
      return stored.updates.length
    }).immediate()
  }

  async logSize(name: string): Promise<{ count: number; bytes: number }> {
    const row = this.stmt.logSize.get(name)
    return { count: row?.count ?? 0, bytes: row?.bytes ?? 0 }
  }

  async list(options: { after?: string; limit?: number } = {}): Promise<DocumentInfo[]> {
    const limit = Math.max(1, Math.min(options.limit ?? 100, 1000))
    return this.db
      .prepare<[string, number], DocumentInfo>(
        `SELECT name, sum(bytes) AS bytes, max(updatedAt) AS updatedAt FROM (
           SELECT name, length(data) AS bytes, updated_at AS updatedAt FROM snapshots
           UNION ALL
           SELECT u.name, ${LOG_BYTES} AS bytes, u.created_at AS updatedAt FROM ${LOG}
         ) WHERE name > ? GROUP BY name ORDER BY name LIMIT ?`,
      )
      .all(options.after ?? '', limit)
  }

  async delete(name: string, events: readonly NewEvent[] = []): Promise<void> {
    // Appends queued before the delete commit before it, never after it (a ghost document).
    this.flush()
    this.db.transaction(() => {
      this.stmt.deleteSnapshot.run(name)
      this.stmt.deleteBlobs.run(name)
      this.stmt.deleteLog.run(name)
      this.stmt.deleteVersions.run(name)
      this.ownersTable.delete(name)
      const now = Date.now()
      for (const event of events) this.events.insert(event, now)
    })()
  }

  async saveVersion(name: string, version: NewVersion, announce?: Announce): Promise<VersionInfo> {
    return this.db.transaction(() => this.insertVersion(name, version, announce))()
  }

  private insertVersion(name: string, version: NewVersion, announce: Announce | undefined): VersionInfo {
    const createdAt = Date.now()
    const { lastInsertRowid } = this.stmt.insertVersion.run(name, version.kind, version.label, version.createdBy, createdAt, version.data)
    const info = { id: Number(lastInsertRowid), kind: version.kind, label: version.label, createdBy: version.createdBy, createdAt, bytes: version.data.byteLength }
    for (const event of announce?.(info) ?? []) this.events.insert(event, createdAt)
    return info
  }

  async saveVersionUnlessCovered(name: string, version: NewVersion, covered: (newest: Uint8Array) => boolean, announce?: Announce): Promise<VersionInfo | null> {
    // BEGIN IMMEDIATE: the write lock first, so another process on this file cannot insert between our read and our insert.
    return this.db.transaction(() => {
      const newest = this.stmt.newestVersion.get(name, version.kind)
      if (newest && covered(new Uint8Array(newest.data))) return null
      return this.insertVersion(name, version, announce)
    }).immediate()
  }

  async listVersions(name: string, options: { before?: number; limit?: number } = {}): Promise<VersionInfo[]> {
    const limit = Math.max(1, Math.min(options.limit ?? 100, 1000))
    return this.stmt.listVersions.all(name, options.before ?? Number.MAX_SAFE_INTEGER, limit).map(versionInfo)
  }

  async getVersion(name: string, id: number): Promise<(VersionInfo & { data: Uint8Array }) | null> {
    const row = this.stmt.getVersion.get(name, id)
    return row ? { ...versionInfo(row), data: new Uint8Array(row.data) } : null
  }

  async pruneVersions(name: string, kinds: readonly VersionKind[], keep: number): Promise<number> {
    if (kinds.length === 0) return 0
    const marks = kinds.map(() => '?').join(', ')
    const { changes } = this.db
      .prepare(
        `DELETE FROM versions WHERE name = ? AND kind IN (${marks}) AND id NOT IN (
           SELECT id FROM versions WHERE name = ? AND kind IN (${marks}) ORDER BY id DESC LIMIT ?)`,
      )
      .run(name, ...kinds, name, ...kinds, keep)
    return changes
  }

  async checkWritable(bytes = 1): Promise<void> {
    // A write that is rolled back: fails when the disk is full, the file is
    // read-only or another process holds the lock.
    try {
      this.db.transaction(() => {
        // As an append of that size would write: inline, or apart.
        if (bytes <= INLINE_BYTES) this.db.prepare("INSERT INTO updates (name, id, data, created_at) VALUES (char(0) || 'probe', 0, zeroblob(?), 0)").run(bytes)
        else this.db.prepare('INSERT INTO update_blobs (data) VALUES (zeroblob(?))').run(bytes)
        throw new RollbackProbe()
      })()
    } catch (error) {
      if (!(error instanceof RollbackProbe)) throw error
    }
  }

  async close(): Promise<void> {
    this.flush()
    if (this.db.open) this.db.close()
  }
}

class RollbackProbe extends Error {}

/** The log with each entry's bytes, inline or apart (`u`: the entry, `b`: a large update). */
const LOG = 'updates u LEFT JOIN update_blobs b ON b.id = u.blob'
const LOG_BYTES = 'coalesce(length(u.data), length(b.data))'

const VERSION_COLUMNS = 'id, kind, label, created_by AS createdBy, created_at AS createdAt, length(data) AS bytes'

interface VersionRow {
  id: number
  kind: string
  label: string | null
  createdBy: string | null
  createdAt: number
  bytes: number
}

function versionInfo(row: VersionRow): VersionInfo {
  return { id: row.id, kind: row.kind as VersionKind, label: row.label, createdBy: row.createdBy, createdAt: row.createdAt, bytes: row.bytes }
}
