/**
 * One HTTP fallback session: a socket for the gateway and Hocuspocus
 * (server/ws/door-socket.ts), fed by POSTed frames and read as a stream.
 *
 * Inbound, frames carry sequence numbers from 0: they are applied in order,
 * once — a retried POST's frames that were applied already are dropped, a
 * frame past the next expected one is refused (409 `sequence-gap`).
 * Outbound, every frame gets the next event id (from 1) and is kept until the
 * reader confirms it (`Last-Event-ID` when a stream or poll opens, the ack
 * header of a POST), so a dropped stream resumes without losing or repeating
 * a frame. What is kept is bounded: frames the socket has taken are let go
 * first when the backlog passes its limit; if what was never handed to a
 * reader is past it, the session closes with `4417 backlog-full`.
 */
import { EventEmitter } from 'node:events'
import { CloseCode, Errors } from '../../../client/protocol.ts'
import type { DoorSocket } from '../../ws/door-socket.ts'
import type { Stream } from '../stream.ts'

/** One outbound frame as its Server-Sent Event. */
interface OutEvent {
  readonly id: number
  readonly text: string
}

/** Who opened a session: every later request must be the same user from the same origin. */
export interface SessionOwner {
  /** The token's `sub`; null in open mode. */
  readonly user: string | null
  /** The browser origin it was opened from; undefined for clients that send none. */
  readonly origin: string | undefined
  readonly address: string
}

export interface SessionLimits {
  /** Bytes of frames kept for the reader (FALLBACK_BACKLOG_BYTES). */
  backlogBytes: number
  /** A session with no request under way and no stream for this long closes with 4408 (IDLE_TIMEOUT_MS). */
  idleTimeoutMs: number
}

/** The answer to a POST's frames: what was new, and the next sequence number the server expects. */
export type Accepted = { ok: true; fresh: Uint8Array[]; next: number } | { ok: false; next: number }

const OPEN = 1
const CLOSED = 3

/** An SSE event of one frame: `id`, then the frame in base64. */
function frameEvent(id: number, data: Uint8Array): string {
  return `id: ${id}\ndata: ${Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64')}\n\n`
}

export class FallbackSession extends EventEmitter implements DoorSocket {
  readonly id: string
  readonly owner: SessionOwner
  readyState = OPEN
  private readonly limits: SessionLimits
  private nextIn = 0
  private nextOut = 1
  /** Frames the reader has not confirmed, in order (ids consecutive). */
  private readonly backlog: OutEvent[] = []
  private backlogBytes = 0
  /** The highest id a socket has taken (written and drained): let go first under pressure. */
  private handedAt = 0
  private readonly waiters = new Set<() => void>()
  private stream: Stream | undefined
  private busy = 0
  private idleTimer: NodeJS.Timeout
  private closedWith: { code: number; reason: string } | undefined

  constructor(id: string, owner: SessionOwner, limits: SessionLimits) {
    super()
    this.id = id
    this.owner = owner
    this.limits = limits
    this.idleTimer = setTimeout(() => this.idle(), limits.idleTimeoutMs)
    this.idleTimer.unref()
  }

  get closed(): boolean {
    return this.readyState === CLOSED
  }

  /** The id of the newest event (0: none yet). */
  get newestId(): number {
    return this.nextOut - 1
  }

  // --- the socket Hocuspocus and the gateway write to ---

  send(data: Uint8Array, callback?: (error?: Error) => void): void {
    if (this.closed) return callback?.()
    this.push(frameEvent(this.nextOut, data))
    callback?.()
  }

  close(code: number = 1000, reason = ''): void {
    if (this.closed) return
    this.readyState = CLOSED
    clearTimeout(this.idleTimer)
    // The last event says how the session ended; a reader that resumes still gets it.
    this.push(`id: ${this.nextOut}\nevent: close\ndata: ${JSON.stringify({ code, reason })}\n\n`, true)
    this.closedWith = { code, reason }
    // As `ws` does, the close is reported after the call returns.
    setImmediate(() => this.emit('close', code, Buffer.from(reason)))
  }

  // --- the HTTP side ---

  /** A request is under way (a POST, a poll, a stream): the session is not idle. Call the returned function when it ends. */
  hold(): () => void {
    this.busy += 1
    let released = false
    return () => {
      if (released) return
      released = true
      this.busy -= 1
      this.idleTimer.refresh()
    }
  }

  /**
   * Frames a POST carries, its first one numbered `seq`: the ones not applied
   * yet, in order, or a refusal when the first is past the next expected one.
   */
  accept(seq: number, frames: Uint8Array[]): Accepted {
    if (seq > this.nextIn) return { ok: false, next: this.nextIn }
    const fresh = frames.slice(this.nextIn - seq)
    this.nextIn = Math.max(this.nextIn, seq + frames.length)
    return { ok: true, fresh, next: this.nextIn }
  }

  /** Hand inbound frames to the gateway, one `message` each, as a socket would. */
  deliver(frames: Uint8Array[]): void {
    for (const frame of frames) {
      if (this.closed) return
      // Each frame its own exact ArrayBuffer (decodeFrames copies), as the gateway expects.
      this.emit('message', frame.buffer, true)
    }
  }

  /** The reader has every event up to `id`: forget them. */
  confirm(id: number): void {
    while (this.backlog.length > 0 && this.backlog[0]!.id <= id) this.backlogBytes -= this.backlog.shift()!.text.length
  }

  /** Whether a reader that has read up to `id` can be given everything after it. */
  canResume(id: number): boolean {
    if (id > this.newestId) return false
    const first = this.backlog[0]?.id ?? this.nextOut
    return id >= first - 1
  }

  /** Events after `id`, at most about `maxBytes` of them (at least one). */
  after(id: number, maxBytes = Infinity): OutEvent[] {
    const out: OutEvent[] = []
    let bytes = 0
    for (const event of this.backlog) {
      if (event.id <= id) continue
      if (out.length > 0 && bytes + event.text.length > maxBytes) break
      out.push(event)
      bytes += event.text.length
    }
    return out
  }

  /** These events reached a reader's socket (they may be let go first under pressure). */
  handed(id: number): void {
    this.handedAt = Math.max(this.handedAt, id)
  }

  /** Resolves when there is an event after `id`, the session closed, or `signal` aborts. */
  async waitAfter(id: number, signal: AbortSignal): Promise<void> {
    if (this.newestId > id || this.closed || signal.aborted) return
    await new Promise<void>((resolve) => {
      const done = () => {
        this.waiters.delete(done)
        signal.removeEventListener('abort', done)
        resolve()
      }
      this.waiters.add(done)
      signal.addEventListener('abort', done, { once: true })
    })
  }

  /** The one stream of this session: a new one replaces the old (which ends). */
  attach(stream: Stream): void {
    const old = this.stream
    this.stream = stream
    old?.end(Errors.GoingAway)
    stream.signal.addEventListener('abort', () => {
      if (this.stream === stream) this.stream = undefined
      this.idleTimer.refresh()
    })
  }

  /** How the session ended, once it has. */
  get ending(): { code: number; reason: string } | undefined {
    return this.closedWith
  }

  private push(text: string, last = false): void {
    this.backlog.push({ id: this.nextOut++, text })
    this.backlogBytes += text.length
    if (!last) this.bound()
    for (const wake of [...this.waiters]) wake()
  }

  /** Keep the backlog within its limit: let go what a socket took; close when what no reader took is past it. */
  private bound(): void {
    while (this.backlogBytes > this.limits.backlogBytes && this.backlog.length > 1 && this.backlog[0]!.id <= this.handedAt) {
      this.backlogBytes -= this.backlog.shift()!.text.length
    }
    if (this.backlogBytes > this.limits.backlogBytes && this.backlog.length > 1) this.close(CloseCode.BacklogFull.code, CloseCode.BacklogFull.reason)
  }

  private idle(): void {
    if (this.closed) return
    if (this.busy > 0 || this.stream) {
      this.idleTimer.refresh()
      return
    }
    this.close(CloseCode.Timeout.code, CloseCode.Timeout.reason)
  }
}
