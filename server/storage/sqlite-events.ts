/**
 * The change feed's outbox in the SQLite file (docs/events.md): events in
 * commit order (SQLite has one writer, so the rowid order is the commit
 * order), what retention removed, and how far `document.updated` is paid.
 * `insert` runs inside the append's own transaction.
 *
 * No dirty marks are written: every log entry and snapshot carries the time
 * it was written, so what is owed after a crash is read from the log. Each
 * process keeps a line in `event_lines`: when the last window whose events
 * it wrote closed (moved by that very transaction), and that it is alive.
 * A line whose process is dead — not running on this host (SQLite files are
 * shared only on one host), or silent longer than the grace — makes every
 * document changed at or after it owed; paying them forgets the line. An
 * append costs nothing more for `document.updated`. (Others' changes after
 * that line are paid too: at-least-once. A compaction after a change only
 * makes a document owed twice; a clock stepped back across a crash could
 * hide a change.)
 */
import { HOST, mayRun } from './sqlite-liveness.ts'
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

interface Line {
  instance: string
  paid_through: number
  host: string
  pid: number
  alive_at: number
}

const toEvent = (r: EventRow): FeedEvent => ({ id: r.id, type: r.type, document: r.document, time: r.time, actor: r.actor, data: JSON.parse(r.data) as unknown })

export class SqliteEvents implements EventStore {
  readonly marksFromLog = true
  private readonly db: Database.Database
  private readonly stmt
  private readonly writeTx: Database.Transaction<
    (events: readonly NewEvent[], clear: readonly MarkRef[], paid: { instance: string; through: number } | undefined, now: number) => FeedEvent[]
  >

  constructor(db: Database.Database) {
    this.db = db
    this.stmt = {
      insert: db.prepare<[string, string, number, string, string]>('INSERT INTO events (type, document, time, actor, data) VALUES (?, ?, ?, ?, ?)'),
      begin: db.prepare<[string, number, string, number, number]>('INSERT OR REPLACE INTO event_lines (instance, paid_through, host, pid, alive_at) VALUES (?, ?, ?, ?, ?)'),
      alive: db.prepare<[number, string]>('UPDATE event_lines SET alive_at = ? WHERE instance = ?'),
      setPaid: db.prepare<[number, number, string]>('UPDATE event_lines SET paid_through = max(paid_through, ?), alive_at = ? WHERE instance = ?'),
      forget: db.prepare<[string]>('DELETE FROM event_lines WHERE instance = ?'),
      lines: db.prepare<[string], Line>('SELECT instance, paid_through, host, pid, alive_at FROM event_lines WHERE instance != ?'),
      owed: db.prepare<[number, number], { document: string }>(
        'SELECT DISTINCT name AS document FROM updates WHERE created_at >= ? UNION SELECT name AS document FROM snapshots WHERE updated_at >= ?',
      ),
      read: db.prepare<[number, number], EventRow>('SELECT id, type, document, time, actor, data FROM events WHERE id > ? ORDER BY id LIMIT ?'),
      ofDocument: db.prepare<[string, number, number], EventRow>('SELECT id, type, document, time, actor, data FROM events WHERE document = ? AND id < ? ORDER BY id DESC LIMIT ?'),
      newest: db.prepare<[], number | null>("SELECT seq FROM sqlite_sequence WHERE name = 'events'").pluck(),
      pruned: db.prepare<[], number | null>("SELECT value FROM event_meta WHERE key = 'pruned'").pluck(),
      lastBefore: db.prepare<[number], number | null>('SELECT max(id) FROM events WHERE time < ?').pluck(),
      prune: db.prepare<[number]>('DELETE FROM events WHERE id <= ?'),
      setPruned: db.prepare<[number]>("INSERT INTO event_meta (key, value) VALUES ('pruned', ?) ON CONFLICT DO UPDATE SET value = max(value, excluded.value)"),
    }
    this.writeTx = db.transaction((events: readonly NewEvent[], clear: readonly MarkRef[], paid: { instance: string; through: number } | undefined, now: number) => {
      const stored = events.map((e) => this.insert(e, now))
      if (paid) this.stmt.setPaid.run(paid.through, now, paid.instance)
      for (const instance of new Set(clear.map((c) => c.instance))) if (instance !== paid?.instance) this.stmt.forget.run(instance)
      return stored
    })
  }

  /** Inside a write transaction (the append's, or write's). */
  insert(event: NewEvent, now: number): FeedEvent {
    const { lastInsertRowid } = this.stmt.insert.run(event.type, event.document, now, event.actor, JSON.stringify(event.data ?? null))
    return { ...event, id: Number(lastInsertRowid), time: now }
  }

  /** `clear` names dead instances whose lines are paid now; `paid` moves this instance's line. */
  async write(events: readonly NewEvent[], clear: readonly MarkRef[] = [], paid?: { instance: string; through: number }): Promise<FeedEvent[]> {
    return this.writeTx.immediate(events, clear, paid, Date.now())
  }

  async begin(instance: string): Promise<void> {
    const now = Date.now()
    this.stmt.begin.run(instance, now, HOST, process.pid, now)
  }

  async alive(instance: string): Promise<void> {
    this.stmt.alive.run(Date.now(), instance)
  }

  async end(instance: string): Promise<void> {
    this.stmt.forget.run(instance)
  }

  async read(after: number, limit: number): Promise<FeedEvent[]> {
    return this.stmt.read.all(after, limit).map(toEvent)
  }

  async ofDocument(document: string, options: { before?: number; limit: number }): Promise<FeedEvent[]> {
    return this.stmt.ofDocument.all(document, options.before ?? Number.MAX_SAFE_INTEGER, options.limit).map(toEvent)
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

  /** For each dead line but `except`'s (not running here, or silent since before `before`): every document changed at or after it. */
  async marks(before: number, except = ''): Promise<StoredMark[]> {
    const out: StoredMark[] = []
    for (const line of this.stmt.lines.all(except)) {
      const dead = line.alive_at < before || !mayRun(line.host, line.pid)
      if (!dead) continue
      for (const { document } of this.stmt.owed.all(line.paid_through, line.paid_through)) out.push({ document, instance: line.instance, cycle: 0, at: line.paid_through })
      // A dead line that owes nothing is forgotten at once.
      if (out.every((m) => m.instance !== line.instance)) this.stmt.forget.run(line.instance)
    }
    return out
  }
}
