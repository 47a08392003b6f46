/**
 * Long-lived HTTP answers, built once (Server-Sent Events now; an HTTP
 * fallback transport can use the same): a cap on streams per client address,
 * keep-alive while idle, back-pressure — a reader that leaves more than
 * `maxBufferedBytes` unread, or does not drain within a keep-alive period, is
 * cut off with a reason rather than buffered without bound — and an end when
 * the credentials that opened the stream expire. Every end says why.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { Errors, type ErrorInfo } from '../../client/protocol.ts'
import { clientAddress } from '../ws/limits.ts'

export interface StreamLimits {
  /** Streams open at once per client address. */
  streamsPerIp: number
  /** A keep-alive after this long without a write, in ms. */
  streamKeepAliveMs: number
  /** Bytes a reader may leave unread before it is cut off. */
  streamMaxBufferedBytes: number
  /** Proxies whose X-Forwarded-For to trust. */
  trustProxy: number
}

/** How a stream's wire format frames things (SSE: comments and a final `close` event). */
export interface StreamFormat {
  readonly contentType: string
  /** What is written when idle. */
  keepAlive(): string
  /** The last thing written, saying why the stream ends. */
  end(why: ErrorInfo): string
}

/** One open stream. `signal` aborts when it ends, whatever ended it. */
export class Stream {
  readonly signal: AbortSignal
  private readonly abort = new AbortController()
  private readonly res: ServerResponse
  private readonly format: StreamFormat
  private readonly limits: StreamLimits
  private keepAlive: NodeJS.Timeout | undefined
  private expiry: NodeJS.Timeout | undefined
  private ended: ErrorInfo | undefined

  constructor(res: ServerResponse, format: StreamFormat, limits: StreamLimits, expiresAt: number | null, onEnd: (why: ErrorInfo | undefined) => void) {
    this.res = res
    this.format = format
    this.limits = limits
    this.signal = this.abort.signal
    res.on('close', () => {
      this.cleanup()
      onEnd(this.ended)
    })
    this.armKeepAlive()
    if (expiresAt !== null) {
      const ms = Math.max(0, expiresAt - Date.now())
      // setTimeout takes at most 2^31-1 ms; a longer-lived token is checked again then.
      this.expiry = setTimeout(() => (Date.now() >= expiresAt ? this.end(Errors.TokenExpired) : undefined), Math.min(ms, 2 ** 31 - 1))
    }
  }

  /** Write a chunk. False when the stream has ended (now or before): stop writing. */
  write(chunk: string): boolean {
    if (this.ended || this.signal.aborted) return false
    this.res.write(chunk)
    this.armKeepAlive()
    if (this.res.writableLength > this.limits.streamMaxBufferedBytes) {
      this.end(Errors.SlowConsumer)
      return false
    }
    return true
  }

  /** Resolves once what was written has gone to the socket; a reader that takes longer than a keep-alive period is cut off. */
  async drained(): Promise<boolean> {
    if (!this.res.writableNeedDrain) return !this.signal.aborted
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.end(Errors.SlowConsumer)
        done(false)
      }, this.limits.streamKeepAliveMs)
      const done = (ok: boolean) => {
        clearTimeout(timer)
        this.res.off('drain', onDrain)
        this.signal.removeEventListener('abort', onAbort)
        resolve(ok)
      }
      const onDrain = () => done(true)
      const onAbort = () => done(false)
      this.res.once('drain', onDrain)
      this.signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** End the stream, saying why (written last; a slow reader may never read it, and the socket goes anyway). */
  end(why: ErrorInfo): void {
    if (this.ended || this.res.writableEnded) return
    this.ended = why
    this.res.end(this.format.end(why))
    // A reader that reads nothing more would keep the socket: it goes after one more keep-alive period
    // (unless the end was read, and the connection is free for other requests).
    setTimeout(() => {
      if (!this.res.writableFinished) this.res.destroy()
    }, this.limits.streamKeepAliveMs).unref()
    this.cleanup()
  }

  private armKeepAlive(): void {
    if (this.keepAlive) this.keepAlive.refresh()
    else this.keepAlive = setTimeout(() => this.write(this.format.keepAlive()), this.limits.streamKeepAliveMs)
  }

  private cleanup(): void {
    clearTimeout(this.keepAlive)
    clearTimeout(this.expiry)
    if (!this.signal.aborted) this.abort.abort()
  }
}

/** Every open stream of the server, by client address. */
export class Streams {
  private readonly limits: StreamLimits
  private readonly logger: Logger
  private readonly byAddress = new Map<string, number>()
  private readonly open = new Set<Stream>()
  /** Streams ended by the server, by reason (metrics). */
  onEnd?: (why: ErrorInfo | undefined) => void

  constructor(limits: StreamLimits, logger: Logger) {
    this.limits = limits
    this.logger = logger
  }

  /** Streams open now. */
  get size(): number {
    return this.open.size
  }

  /** Whether the request's address may open one more stream (ask before answering anything). */
  admits(req: IncomingMessage): boolean {
    return (this.byAddress.get(clientAddress(req, this.limits.trustProxy)) ?? 0) < this.limits.streamsPerIp
  }

  /**
   * Start a long-lived answer: headers sent, counted for its address until it
   * closes. `expiresAt`: when the credentials that opened it expire (ms), or null.
   */
  start(req: IncomingMessage, res: ServerResponse, format: StreamFormat, expiresAt: number | null, headers: Record<string, string> = {}): Stream {
    const address = clientAddress(req, this.limits.trustProxy)
    this.byAddress.set(address, (this.byAddress.get(address) ?? 0) + 1)
    res.writeHead(200, { 'content-type': format.contentType, 'cache-control': 'no-store', 'x-accel-buffering': 'no', connection: 'keep-alive', ...headers })
    res.flushHeaders()
    // No Nagle delay: events go out as they are written.
    req.socket.setNoDelay(true)
    const stream = new Stream(res, format, this.limits, expiresAt, (why) => {
      this.open.delete(stream)
      const left = (this.byAddress.get(address) ?? 1) - 1
      if (left > 0) this.byAddress.set(address, left)
      else this.byAddress.delete(address)
      if (why) this.logger.info({ address, reason: why.reason }, 'stream ended by the server')
      this.onEnd?.(why)
    })
    this.open.add(stream)
    return stream
  }

  /** Shutdown: end every stream with `server-shutting-down`. */
  closeAll(): void {
    for (const stream of this.open) stream.end(Errors.GoingAway)
  }
}
