/**
 * The change feed as readers see it (docs/events.md): events in cursor order
 * from the outbox, whoever wrote them (this instance or another on the same
 * database). One reader of the outbox per process follows the head — woken
 * at once by this process's writes, and every `pollMs` for other instances'
 * — and keeps the newest events in memory, so streams that keep up are
 * served without touching the database; a stream behind reads the outbox.
 */
import type { Logger } from 'pino'
import type { EventStore, FeedEvent, NewEvent } from '../storage/types.ts'
import { Rerun } from './rerun.ts'

export interface FeedConfiguration {
  events: EventStore
  logger: Logger
  /** Look for other instances' events this often. @default 500 */
  pollMs?: number
  /** Keep events this long (ms). */
  retentionMs: number
  /** Newest events kept in memory. @default 2000 */
  recent?: number
}

/** The cursor is older than what retention kept: the reader must start over (410). */
export class CursorGone extends Error {
  readonly cursor: number
  readonly pruned: number
  constructor(cursor: number, pruned: number) {
    super(`events up to ${pruned} are no longer kept; cursor ${cursor} cannot resume`)
    this.cursor = cursor
    this.pruned = pruned
  }
}

export class Feed {
  private readonly config: FeedConfiguration
  private readonly recent: FeedEvent[] = []
  private head = 0
  private pruned = 0
  private waiters: Array<() => void> = []
  private poll: NodeJS.Timeout | undefined
  private retention: NodeJS.Timeout | undefined
  private readonly reader = new Rerun(
    () => this.follow(),
    (error) => this.config.logger.warn({ err: error }, 'could not read the event outbox; trying again'),
  )
  private closed = false
  private started: Promise<void> | undefined
  /** Called when new events arrived (webhook delivery wakes up). */
  private readonly listeners = new Set<() => void>()

  constructor(config: FeedConfiguration) {
    this.config = config
  }

  /** Read the head; then follow it. */
  start(): Promise<void> {
    this.started ??= (async () => {
      const bounds = await this.config.events.bounds()
      this.head = bounds.newest
      this.pruned = bounds.pruned
      this.poll = setInterval(() => this.wake(), this.config.pollMs ?? 500)
      this.poll.unref()
      const every = Math.min(3_600_000, Math.max(1000, Math.floor(this.config.retentionMs / 10)))
      this.retention = setInterval(() => void this.prune(), every)
      this.retention.unref()
      void this.prune()
    })().catch((error: unknown) => {
      // Storage unreachable at start: the next caller tries again.
      this.started = undefined
      throw error
    })
    return this.started
  }

  /** The newest id seen (the cursor a new live-only reader starts from). */
  get newest(): number {
    return this.head
  }

  /** Whether events after `cursor` are no longer all kept (retention removed some): 410. */
  async gone(cursor: number): Promise<boolean> {
    await this.start()
    this.pruned = Math.max(this.pruned, (await this.config.events.bounds()).pruned)
    return cursor < this.pruned
  }

  /** Events this process just wrote: read them now. */
  written(events: readonly FeedEvent[]): void {
    if (events.length > 0) this.wake()
  }

  /** This process committed events with a change of theirs (a version, a delete, a restore): read them now. */
  committed(): void {
    this.wake()
  }

  /** Write events outside an append (REST: created, deleted, versions). */
  async publish(events: readonly NewEvent[]): Promise<FeedEvent[]> {
    const stored = await this.config.events.write(events)
    this.written(stored)
    return stored
  }

  /**
   * Events after `cursor`, oldest first (at most `limit`); waits for the next
   * one when there is none yet, until `signal` aborts (then resolves empty).
   * Throws CursorGone for a cursor older than retention kept.
   */
  async after(cursor: number, limit: number, signal?: AbortSignal): Promise<FeedEvent[]> {
    await this.start()
    for (;;) {
      if (signal?.aborted || this.closed) return []
      if (cursor < this.pruned) throw new CursorGone(cursor, this.pruned)
      if (cursor < this.head) {
        const first = this.recent[0]
        if (first && first.id <= cursor + 1) {
          const from = this.recent.findIndex((e) => e.id > cursor)
          return this.recent.slice(from, from + limit)
        }
        const events = await this.config.events.read(cursor, limit)
        // Pruned between our check and the read: the first event is not the next one.
        if (events.length > 0 || cursor >= this.head) return events
        const bounds = await this.config.events.bounds()
        this.pruned = Math.max(this.pruned, bounds.pruned)
        if (cursor < this.pruned) throw new CursorGone(cursor, this.pruned)
        return events
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          signal?.removeEventListener('abort', done)
          resolve()
        }
        this.waiters.push(done)
        signal?.addEventListener('abort', done, { once: true })
      })
    }
  }

  private wake(): void {
    this.reader.wake()
  }

  private async follow(): Promise<void> {
    for (;;) {
      const events = await this.config.events.read(this.head, 500)
      if (events.length === 0) return
      this.recent.push(...events)
      const max = this.config.recent ?? 2000
      if (this.recent.length > max) this.recent.splice(0, this.recent.length - max)
      this.head = events[events.length - 1]!.id
      const waiters = this.waiters
      this.waiters = []
      for (const w of waiters) w()
      for (const l of this.listeners) l()
    }
  }

  /** Call `listener` whenever new events have arrived. */
  onEvents(listener: () => void): void {
    this.listeners.add(listener)
  }

  private async prune(): Promise<void> {
    try {
      await this.config.events.prune(Date.now() - this.config.retentionMs)
      this.pruned = (await this.config.events.bounds()).pruned
      while (this.recent.length > 0 && this.recent[0]!.id <= this.pruned) this.recent.shift()
    } catch (error) {
      this.config.logger.warn({ err: error }, 'could not remove old events (retention); trying again later')
    }
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.poll) clearInterval(this.poll)
    if (this.retention) clearInterval(this.retention)
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
    await this.reader.settled()
  }
}
