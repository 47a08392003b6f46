/**
 * The change feed's outbox in the SQLite file (docs/events.md): events in
 * commit order (SQLite has one writer, so the rowid order is the commit
 * order), what retention removed, and how far `document.updated` is paid.
 * `insert` runs inside the append's own transaction.
 *
 * No dirty marks are written: one process writes the file, and every log
 * entry and snapshot carries the time it was written, so what is owed after
 * a crash is read from the log — every document changed at or after
 * `paid_through`, the tick of the last window whose events were written
 * (kept in `event_meta` by that very transaction). An append costs nothing
 * more for `document.updated`. (A clock stepped back across a crash could
 * hide a change from this rule; a compaction after a change only makes a
 * document owed twice.)
 */
import type Database from 'better-sqlite3'
import type { EventStore, FeedEvent, MarkRef, NewEvent, StoredMark } from './types.ts'

interface EventRow {
  id: number
  type: string
  document: string
  time: number
  actor: string
  data: string
}

const toEvent = (r: EventRow): FeedEvent => ({ id: r.id, type: r.type, document: r.document, time: r.time, actor: r.actor, data: JSON.parse(r.data) as unknown })

export class SqliteEvents implements EventStore {
  readonly marksFromLog = true
  private readonly db: Database.Database
  private readonly stmt
  private readonly writeTx: Database.Transaction<(events: readonly NewEvent[], paidThrough: number | undefined, now: number) => FeedEvent[]>

  constructor(db: Database.Database) {
    this.db = db
    this.stmt = {
      insert: db.prepare<[string, string, number, string, string]>('INSERT INTO events (type, document, time, actor, data) VALUES (?, ?, ?, ?, ?)'),
      paidThrough: db.prepare<[], number | null>("SELECT value FROM event_meta WHERE key = 'paid_through'").pluck(),
      setPaid: db.prepare<[number]>("INSERT INTO event_meta (key, value) VALUES ('paid_through', ?) ON CONFLICT DO UPDATE SET value = max(value, excluded.value)"),
      firstPaid: db.prepare<[number]>("INSERT INTO event_meta (key, value) VALUES ('paid_through', ?) ON CONFLICT DO NOTHING"),
      owed: db.prepare<[number, number], { document: string }>(
        'SELECT DISTINCT name AS document FROM updates WHERE created_at >= ? UNION SELECT name AS document FROM snapshots WHERE updated_at >= ?',
      ),
      read: db.prepare<[number, number], EventRow>('SELECT id, type, document, time, actor, data FROM events WHERE id > ? ORDER BY id LIMIT ?'),
      newest: db.prepare<[], number | null>("SELECT seq FROM sqlite_sequence WHERE name = 'events'").pluck(),
      pruned: db.prepare<[], number | null>("SELECT value FROM event_meta WHERE key = 'pruned'").pluck(),
      lastBefore: db.prepare<[number], number | null>('SELECT max(id) FROM events WHERE time < ?').pluck(),
      prune: db.prepare<[number]>('DELETE FROM events WHERE id <= ?'),
      setPruned: db.prepare<[number]>("INSERT INTO event_meta (key, value) VALUES ('pruned', ?) ON CONFLICT DO UPDATE SET value = max(value, excluded.value)"),
    }
    // A new file (or one from before the feed): nothing is owed for what was written before.
    this.stmt.firstPaid.run(Date.now())
    this.writeTx = db.transaction((events: readonly NewEvent[], paidThrough: number | undefined, now: number) => {
      const stored = events.map((e) => this.insert(e, now))
      if (paidThrough !== undefined) this.stmt.setPaid.run(paidThrough)
      return stored
    })
  }

  /** Inside a write transaction (the append's, or write's). */
  insert(event: NewEvent, now: number): FeedEvent {
    const { lastInsertRowid } = this.stmt.insert.run(event.type, event.document, now, event.actor, JSON.stringify(event.data ?? null))
    return { ...event, id: Number(lastInsertRowid), time: now }
  }

  /** Marks are read from the log (see above): `clear` has nothing to clear; `paidThrough` is kept. */
  async write(events: readonly NewEvent[], _clear: readonly MarkRef[] = [], paidThrough?: number): Promise<FeedEvent[]> {
    return this.writeTx.immediate(events, paidThrough, Date.now())
  }

  async read(after: number, limit: number): Promise<FeedEvent[]> {
    return this.stmt.read.all(after, limit).map(toEvent)
  }

  async bounds(): Promise<{ newest: number; pruned: number }> {
    return { newest: this.stmt.newest.get() ?? 0, pruned: this.stmt.pruned.get() ?? 0 }
  }

  async prune(before: number): Promise<number> {
    return this.db.transaction(() => {
      const last = this.stmt.lastBefore.get(before)
      if (!last) return 0
      this.stmt.setPruned.run(last)
      return this.stmt.prune.run(last).changes
    }).immediate()
  }

  /** Every document changed at or after `paid_through` (one writer: `before` and `except` do not apply). */
  async marks(_before?: number, _except?: string): Promise<StoredMark[]> {
    const at = this.stmt.paidThrough.get() ?? 0
    return this.stmt.owed.all(at, at).map(({ document }) => ({ document, instance: '', cycle: Number.MAX_SAFE_INTEGER, at }))
  }
}
