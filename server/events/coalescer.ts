/**
 * `document.updated`, coalesced (docs/events.md#documentupdated).
 *
 * The hot path stays cheap: an append carries a dirty mark — one statement in
 * its own transaction — only for the first change of a document in each
 * cycle; later changes of that cycle carry nothing (`markFor` answers from
 * memory). Every `windowMs` the cycle closes: one event per changed document,
 * written in one transaction that also clears the marks it pays (only marks
 * of that cycle or older: a document marked again since keeps its mark).
 *
 * After kill -9, what committed but was not yet paid is still marked: `recover`
 * pays those marks at start (SQLite: every mark; PostgreSQL: marks of other
 * instances not renewed for a while — a dead instance's). So a committed change
 * never lacks its event; a change may be covered twice (at-least-once).
 */
import type { Logger } from 'pino'
import type { Change, FeedHook } from '../extensions/persistence.ts'
import type { DirtyMark, EventStore, FeedEvent, MarkRef, NewEvent, StoredMark } from '../storage/types.ts'

/** What `document.updated` says of a document's state now (docs/events.md). */
export interface DocumentState {
  /** Base64 of the Yjs state vector. */
  stateVector: string
  /** Bytes stored for it. */
  size: number
}

export interface CoalescerConfiguration {
  events: EventStore
  logger: Logger
  /** This process, in the marks it writes (unique per process). */
  instance: string
  windowMs: number
  /** The document's state now (from memory when loaded, else from storage). */
  stateOf(document: string): Promise<DocumentState>
  /** Events written (the feed hands them on). */
  onWritten(events: readonly FeedEvent[]): void
  /** Who sent the document's log entries stored since `since` (ms): a recovered event's authors. */
  sendersSince(document: string, since: number): Promise<string[]>
}

interface Pending {
  /** The newest cycle of a mark committed for it (0: none of this instance yet). */
  markCycle: number
  actor: string
  updates: number
  bytes: number
  /** Root type → who changed it. */
  types: Map<string, Set<string>>
  /** Everyone whose changes the window holds. */
  authors: Set<string>
}

export class Coalescer implements FeedHook {
  private readonly config: CoalescerConfiguration
  private cycle = 1
  /** Documents whose mark of some cycle is committed (entries of closed cycles are dropped). */
  private readonly marked = new Map<string, number>()
  private pending = new Map<string, Pending>()
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private closed = false

  constructor(config: CoalescerConfiguration) {
    this.config = config
  }

  markFor(document: string): DirtyMark | undefined {
    if (this.config.events.marksFromLog) return undefined
    return this.marked.get(document) === this.cycle ? undefined : { instance: this.config.instance, cycle: this.cycle }
  }

  committed(document: string, mark: DirtyMark | undefined, change: Change, bytes: number): void {
    if (mark && (this.marked.get(document) ?? 0) < mark.cycle) this.marked.set(document, mark.cycle)
    let p = this.pending.get(document)
    if (!p) this.pending.set(document, (p = { markCycle: 0, actor: change.actor, updates: 0, bytes: 0, types: new Map(), authors: new Set() }))
    if (mark) p.markCycle = Math.max(p.markCycle, mark.cycle)
    p.actor = change.actor
    p.updates += 1
    p.bytes += bytes
    p.authors.add(change.actor)
    for (const type of safeTypes(change, this.config.logger)) {
      const who = p.types.get(type)
      if (who) who.add(change.actor)
      else p.types.set(type, new Set([change.actor]))
    }
    this.timer ??= setTimeout(() => void this.tick(), this.config.windowMs)
  }

  /** Close the cycle: one event per changed document. Never throws; on failure the documents stay pending (their marks stay stored). */
  tick(): Promise<void> {
    this.timer = undefined
    const run = (this.running ?? Promise.resolve()).then(() => this.emit())
    this.running = run
    return run
  }

  private async emit(): Promise<void> {
    // Every change committed before now is in this batch (or an earlier one).
    const paidThrough = Date.now()
    const closing = this.cycle++
    for (const [document, cycle] of this.marked) if (cycle <= closing) this.marked.delete(document)
    const batch = this.pending
    this.pending = new Map()
    if (batch.size === 0) return
    try {
      const events: NewEvent[] = []
      const clear: MarkRef[] = []
      for (const [document, p] of batch) {
        const state = await this.config.stateOf(document)
        events.push({
          type: 'document.updated',
          document,
          actor: p.actor,
          data: {
            ...state,
            updates: p.updates,
            bytes: p.bytes,
            types: Object.fromEntries([...p.types].map(([t, who]) => [t, [...who].sort()])),
            authors: [...p.authors].sort(),
          },
        })
        // The marks this pays: every mark of this instance up to the cycle closing (a newer one stays).
        if (!this.config.events.marksFromLog) clear.push({ document, instance: this.config.instance, cycle: closing })
      }
      this.config.onWritten(await this.config.events.write(events, clear, { instance: this.config.instance, through: paidThrough }))
    } catch (error) {
      this.config.logger.error({ err: error, documents: batch.size }, 'could not write document.updated events; they stay owed (their marks are stored) and are tried again')
      for (const [document, p] of batch) this.merge(document, p)
      if (!this.closed) this.timer ??= setTimeout(() => void this.tick(), this.config.windowMs)
    }
  }

  private merge(document: string, old: Pending): void {
    const now = this.pending.get(document)
    if (!now) return void this.pending.set(document, old)
    now.updates += old.updates
    now.bytes += old.bytes
    now.markCycle = Math.max(now.markCycle, old.markCycle)
    for (const who of old.authors) now.authors.add(who)
    for (const [t, who] of old.types) now.types.set(t, new Set([...who, ...(now.types.get(t) ?? [])]))
  }

  /**
   * Pay the marks left behind (a restart after kill -9, or a dead instance's):
   * marks set before `before`, of any instance but this one. The event says
   * `recovered: true`: which types changed was not kept; its `authors` are
   * who sent the log entries stored since the oldest mark (Storage.senders;
   * entries compaction folded meanwhile are not named).
   */
  async recover(before: number): Promise<number> {
    const marks = await this.config.events.marks(before, this.config.instance)
    if (marks.length === 0) return 0
    const byDocument = new Map<string, StoredMark[]>()
    for (const m of marks) byDocument.set(m.document, [...(byDocument.get(m.document) ?? []), m])
    const events: NewEvent[] = []
    for (const [document, owed] of byDocument) {
      const since = Math.min(...owed.map((m) => m.at))
      const authors = await this.config.sendersSince(document, since)
      events.push({ type: 'document.updated', document, actor: 'server', data: { ...(await this.config.stateOf(document)), recovered: true, types: {}, authors } })
    }
    this.config.onWritten(await this.config.events.write(events, marks))
    this.config.logger.info({ documents: byDocument.size }, 'document.updated events owed from before a restart were written')
    return byDocument.size
  }

  /** Write what is pending now (shutdown, tests). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    await this.tick()
  }

  /** Write what is pending, and stop. Resolves whether nothing is left owed by this instance. */
  async close(): Promise<boolean> {
    this.closed = true
    await this.flush()
    if (this.timer) clearTimeout(this.timer)
    return this.pending.size === 0
  }
}

function safeTypes(change: Change, logger: Logger): readonly string[] {
  if (!change.types) return []
  try {
    return change.types()
  } catch (error) {
    // The effects were worked out by the checks already; failing here is a bug, and the event goes without its types.
    logger.warn({ err: error }, 'could not tell which shared types a change touched')
    return []
  }
}
