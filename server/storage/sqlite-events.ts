/**
 * The change feed's outbox in the SQLite file (docs/events.md): events in
 * commit order (SQLite has one writer, so the rowid order is the commit
 * order), the dirty marks of `document.updated`, what retention removed.
 * `insert` and `mark` run inside the append's own transaction.
 */
import type Database from 'better-sqlite3'
import type { DirtyMark, EventStore, FeedEvent, MarkRef, NewEvent, StoredMark } from './types.ts'

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
  private readonly db: Database.Database
  private readonly stmt
  private readonly writeTx: Database.Transaction<(events: readonly NewEvent[], clear: readonly MarkRef[], now: number) => FeedEvent[]>

  constructor(db: Database.Database) {
    this.db = db
    this.stmt = {
      insert: db.prepare<[string, string, number, string, string]>('INSERT INTO events (type, document, time, actor, data) VALUES (?, ?, ?, ?, ?)'),
      mark: db.prepare<[string, string, number, number]>(
        'INSERT INTO event_marks (document, instance, cycle, at) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET cycle = max(cycle, excluded.cycle), at = excluded.at',
      ),
      clear: db.prepare<[string, string, number]>('DELETE FROM event_marks WHERE document = ? AND instance = ? AND cycle <= ?'),
      read: db.prepare<[number, number], EventRow>('SELECT id, type, document, time, actor, data FROM events WHERE id > ? ORDER BY id LIMIT ?'),
      newest: db.prepare<[], number | null>("SELECT seq FROM sqlite_sequence WHERE name = 'events'").pluck(),
      pruned: db.prepare<[], number | null>("SELECT value FROM event_meta WHERE key = 'pruned'").pluck(),
      lastBefore: db.prepare<[number], number | null>('SELECT max(id) FROM events WHERE time < ?').pluck(),
      prune: db.prepare<[number]>('DELETE FROM events WHERE id <= ?'),
      setPruned: db.prepare<[number]>("INSERT INTO event_meta (key, value) VALUES ('pruned', ?) ON CONFLICT DO UPDATE SET value = max(value, excluded.value)"),
      marks: db.prepare<[number, string], StoredMark>('SELECT document, instance, cycle, at FROM event_marks WHERE at < ? AND instance != ?'),
    }
    this.writeTx = db.transaction((events: readonly NewEvent[], clear: readonly MarkRef[], now: number) => {
      const stored = events.map((e) => this.insert(e, now))
      for (const c of clear) this.stmt.clear.run(c.document, c.instance, c.cycle)
      return stored
    })
  }

  /** Inside a write transaction (the append's, or write's). */
  insert(event: NewEvent, now: number): FeedEvent {
    const { lastInsertRowid } = this.stmt.insert.run(event.type, event.document, now, event.actor, JSON.stringify(event.data ?? null))
    return { ...event, id: Number(lastInsertRowid), time: now }
  }

  /** Inside the append's transaction: one statement, and only when the coalescer asks for it (once per document per cycle). */
  mark(document: string, mark: DirtyMark, now: number): void {
    this.stmt.mark.run(document, mark.instance, mark.cycle, now)
  }

  async write(events: readonly NewEvent[], clear: readonly MarkRef[] = []): Promise<FeedEvent[]> {
    return this.writeTx.immediate(events, clear, Date.now())
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

  async marks(before: number, except = ''): Promise<StoredMark[]> {
    return this.stmt.marks.all(before, except)
  }
}
