/** The change feed's outbox in process memory (tests, the bench): the same contract as sqlite-events.ts. */
import type { DirtyMark, EventStore, FeedEvent, MarkRef, NewEvent, StoredMark } from './types.ts'

export class MemoryEvents implements EventStore {
  readonly marksFromLog = false

  /** Marks say what is owed: no line to keep. */
  async begin(_instance: string): Promise<void> {}
  async alive(_instance: string): Promise<void> {}
  async end(_instance: string): Promise<void> {}
  private readonly list: FeedEvent[] = []
  private readonly markMap = new Map<string, StoredMark>()
  private newest = 0
  private pruned = 0

  /** With an append: as if in its transaction (memory appends are atomic). Data is stored as JSON, as the databases store it. */
  insert(event: NewEvent, now = Date.now()): FeedEvent {
    return this.insertPrepared(this.prepare([event]), now)[0]!
  }

  /** Events as they would be stored (their data through JSON): throws, storing nothing, when one cannot be. */
  prepare(events: readonly NewEvent[]): NewEvent[] {
    return events.map((e) => ({ ...e, data: JSON.parse(JSON.stringify(e.data ?? null)) as unknown }))
  }

  /** Store events `prepare` made (it threw for any that cannot be). */
  insertPrepared(events: readonly NewEvent[], now = Date.now()): FeedEvent[] {
    return events.map((event) => {
      const stored: FeedEvent = { ...event, id: ++this.newest, time: now }
      this.list.push(stored)
      return stored
    })
  }

  mark(document: string, mark: DirtyMark, now = Date.now()): void {
    const key = `${mark.instance}\u0000${document}`
    const old = this.markMap.get(key)
    this.markMap.set(key, { document, instance: mark.instance, cycle: Math.max(old?.cycle ?? 0, mark.cycle), at: now })
  }

  async write(events: readonly NewEvent[], clear: readonly MarkRef[] = []): Promise<FeedEvent[]> {
    const now = Date.now()
    const stored = events.map((e) => this.insert(e, now))
    for (const c of clear) {
      const key = `${c.instance}\u0000${c.document}`
      if ((this.markMap.get(key)?.cycle ?? Infinity) <= c.cycle) this.markMap.delete(key)
    }
    return stored
  }

  async read(after: number, limit: number): Promise<FeedEvent[]> {
    const from = this.list.findIndex((e) => e.id > after)
    return from < 0 ? [] : this.list.slice(from, from + limit)
  }

  async ofDocument(document: string, options: { before?: number; limit: number }): Promise<FeedEvent[]> {
    const out: FeedEvent[] = []
    for (let i = this.list.length - 1; i >= 0 && out.length < options.limit; i--) {
      const e = this.list[i]!
      if (e.document === document && (options.before === undefined || e.id < options.before)) out.push(e)
    }
    return out
  }

  async bounds(): Promise<{ newest: number; pruned: number }> {
    return { newest: this.newest, pruned: this.pruned }
  }

  async prune(before: number): Promise<number> {
    let n = 0
    while (this.list.length > 0 && this.list[0]!.time < before) {
      this.pruned = this.list.shift()!.id
      n += 1
    }
    return n
  }

  async marks(before: number, except = ''): Promise<StoredMark[]> {
    return [...this.markMap.values()].filter((m) => m.at < before && m.instance !== except)
  }
}
