/**
 * The HTTP fallback door (docs/protocol.md#http-fallback): for clients whose
 * WebSockets a proxy blocks. A session is a socket to the gateway
 * (session.ts), so the frame guard, limits, authentication, roles, token
 * refresh, guards, ownership and the durable ack all hold on it as on a
 * WebSocket; this file is only the HTTP around it:
 *
 *   POST   <base>         open a session (201 { session })
 *   POST   <base>/send    frames, numbered (X-Collab-Seq), applied in order and once
 *   GET    <base>/stream  frames as Server-Sent Events, resumed with Last-Event-ID (`?poll=1`: one long-poll)
 *   DELETE <base>         close the session
 *
 * Every request but the first names its session in a header (never the URL)
 * and must come from the user and origin that opened it; POSTs need the
 * fallback's content type (not one a cross-site form can send) and an allowed
 * origin (the REST API's rule: the server's own, or ALLOWED_ORIGINS).
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { CloseCode, Errors, Fallback, MessageType, decodeFrames } from '../../../client/protocol.ts'
import { type Gateway, lightRequest } from '../../ws/gateway.ts'
import { clientAddress } from '../../ws/limits.ts'
import type { ApiAuth, Caller } from '../api/auth.ts'
import { readBody } from '../api/context.ts'
import type { ApiCors } from '../api/cors.ts'
import { ApiError, sendError } from '../api/errors.ts'
import { type Router, sendJson } from '../router.ts'
import { type StreamFormat, Streams } from '../stream.ts'
import { FallbackSession } from './session.ts'

export interface FallbackLimits {
  trustProxy: number
  idleTimeoutMs: number
  maxMessageBytes: number
  fallbackBacklogBytes: number
  maxConnectionsPerIp: number
  streamKeepAliveMs: number
  streamMaxBufferedBytes: number
}

export interface FallbackOptions {
  gateway: Gateway
  auth: ApiAuth
  cors: ApiCors
  logger: Logger
  limits: FallbackLimits
}

/** The stream's framing: frames are events with ids (session.ts); a stream that ends while its session lives says why. */
const FORMAT: StreamFormat = {
  contentType: 'text/event-stream; charset=utf-8',
  keepAlive: () => ': keep-alive\n\n',
  end: (why) => `event: end\ndata: ${JSON.stringify({ reason: why.reason })}\n\n`,
}

/** The request headers a cross-origin page sends (for the CORS preflight). */
export const FALLBACK_HEADERS = [Fallback.sessionHeader, Fallback.seqHeader, Fallback.ackHeader, 'last-event-id'] as const

/** Where the fallback lives for a socket path: `/ws` → `/ws/fallback`, `/` → `/fallback`. */
export function fallbackBase(socketPath: string): string {
  return `${socketPath.endsWith('/') ? socketPath : `${socketPath}/`}${Fallback.path}`
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** A non-negative integer header, or `fallback` when absent. Throws 400 when it is not one. */
function counter(req: IncomingMessage, name: string, fallback?: number): number {
  const raw = header(req, name)?.trim()
  if (raw === undefined || raw === '') {
    if (fallback !== undefined) return fallback
    throw new ApiError(Errors.BadRequest, `the ${name} header is missing`)
  }
  if (!/^\d{1,15}$/.test(raw)) throw new ApiError(Errors.BadRequest, `${name}: a non-negative integer`)
  return Number(raw)
}

export class HttpFallback {
  private readonly options: FallbackOptions
  private readonly sessions = new Map<string, FallbackSession>()
  private readonly streams: Streams

  constructor(options: FallbackOptions) {
    this.options = options
    const { limits, logger } = options
    // Each session has one stream at most; sessions per address are capped with the sockets (gateway).
    this.streams = new Streams({ ...limits, streamsPerIp: limits.maxConnectionsPerIp || Number.MAX_SAFE_INTEGER }, logger)
  }

  addRoutes(router: Router, base: string): void {
    const route = (handler: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>) => (req: IncomingMessage, res: ServerResponse, url: URL) => this.guarded(req, res, url, handler)
    // An allowed origin's preflight is answered by the CORS check; anything else asking OPTIONS gets an empty answer.
    const preflight = route(async (_req, res) => void res.writeHead(204, { 'content-length': '0' }).end())
    router.on('POST', base, route((req, res) => this.open(req, res)))
    router.on('DELETE', base, route((req, res) => this.end(req, res)))
    router.on('POST', `${base}/send`, route((req, res) => this.send(req, res)))
    router.on('GET', `${base}/stream`, route((req, res, url) => this.stream(req, res, url)))
    for (const path of [base, `${base}/send`, `${base}/stream`]) router.on('OPTIONS', path, preflight)
  }

  /**
   * Shutdown: close every session (1001), let their streams carry the close
   * event (written on the next turns), then end what is left.
   */
  async closeAll(): Promise<void> {
    for (const session of this.sessions.values()) session.close(CloseCode.GoingAway.code, CloseCode.GoingAway.reason)
    await new Promise((resolve) => setImmediate(resolve))
    this.streams.closeAll()
  }

  private async guarded(req: IncomingMessage, res: ServerResponse, url: URL, handler: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>): Promise<void> {
    try {
      const outcome = this.options.cors.check(req, res)
      if (outcome === 'preflight') return this.options.cors.answerPreflight(res)
      await handler(req, res, url)
    } catch (error) {
      if (res.headersSent) {
        this.options.logger.error({ err: error }, 'fallback handler failed after answering')
        return void res.destroy()
      }
      if (error instanceof ApiError) return sendError(res, error)
      this.options.logger.error({ err: error, url: url.pathname }, 'fallback handler failed')
      sendError(res, new ApiError(Errors.InternalError, 'unexpected server error'))
    }
  }

  private requireContentType(req: IncomingMessage): void {
    const type = (header(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase()
    if (type !== Fallback.contentType) throw new ApiError(Errors.UnsupportedMediaType, `send frames as ${Fallback.contentType}`)
  }

  private async open(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requireContentType(req)
    const caller = await this.options.auth.caller(req)
    const { gateway, limits, logger } = this.options
    const address = clientAddress(req, limits.trustProxy)
    if (!gateway.acquireAddress(address)) throw new ApiError(Errors.TooManyConnections, 'too many sockets and sessions from this address (MAX_CONNECTIONS_PER_IP)')
    const id = randomBytes(32).toString('base64url')
    const session = new FallbackSession(id, { user: caller.user, origin: header(req, 'origin'), address }, { backlogBytes: limits.fallbackBacklogBytes, idleTimeoutMs: limits.idleTimeoutMs })
    this.sessions.set(id, session)
    session.once('close', (code: number) => {
      gateway.releaseAddress(address)
      logger.debug({ address, code }, 'fallback session closed')
      // Kept a little longer, so a reader that comes back learns how it ended.
      setTimeout(() => this.sessions.delete(id), limits.streamKeepAliveMs).unref()
    })
    gateway.adopt(session, lightRequest(req), { remoteAddress: address }, 'http')
    req.resume()
    sendJson(res, 201, { session: id, idleTimeoutMs: limits.idleTimeoutMs, keepAliveMs: limits.streamKeepAliveMs })
  }

  /** The request's session, when it is the user and origin that opened it. */
  private async sessionOf(req: IncomingMessage): Promise<{ session: FallbackSession; caller: Caller }> {
    const id = header(req, Fallback.sessionHeader) ?? ''
    const session = this.sessions.get(id)
    if (!session) throw new ApiError(Errors.SessionGone, 'no such session: open a new one')
    // Browsers send no Origin on a same-origin GET (the stream): a GET without one passes; any Origin sent must be the session's.
    const origin = header(req, 'origin')
    if (origin !== session.owner.origin && !(origin === undefined && req.method === 'GET')) throw new ApiError(Errors.SessionMismatch, 'the session was opened from another origin')
    const caller = await this.options.auth.caller(req)
    if (caller.user !== session.owner.user) throw new ApiError(Errors.SessionMismatch, 'the session was opened by another user')
    return { session, caller }
  }

  private async end(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { session } = await this.sessionOf(req)
    session.close(1000, 'closed by the client')
    res.writeHead(204).end()
  }

  private async send(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requireContentType(req)
    const { session } = await this.sessionOf(req)
    if (session.closed) throw new ApiError(Errors.SessionGone, 'the session has ended')
    const release = session.hold()
    try {
      const seq = counter(req, Fallback.seqHeader)
      const ack = counter(req, Fallback.ackHeader, 0)
      const { maxMessageBytes } = this.options.limits
      let body: Uint8Array
      try {
        body = await readBody(req, maxMessageBytes + 64 * 1024)
      } catch (error) {
        // As on a socket: a frame past MAX_MESSAGE_BYTES ends the connection (1009).
        if (error instanceof ApiError && error.code === Errors.PayloadTooLarge.reason) session.close(CloseCode.MessageTooBig.code, CloseCode.MessageTooBig.reason)
        throw error
      }
      const frames = decodeFrames(body)
      if (!frames) {
        session.close(CloseCode.MalformedMessage.code, CloseCode.MalformedMessage.reason)
        throw new ApiError(Errors.BadRequest, 'the body is not whole length-prefixed frames')
      }
      if (frames.some((f) => f.byteLength > maxMessageBytes)) {
        session.close(CloseCode.MessageTooBig.code, CloseCode.MessageTooBig.reason)
        throw new ApiError(Errors.PayloadTooLarge, `a frame is larger than ${maxMessageBytes} bytes`)
      }
      if (ack > 0 && ack <= session.newestId) session.confirm(ack)
      const accepted = session.accept(seq, frames)
      if (!accepted.ok) {
        return sendJson(res, 409, { error: Errors.SequenceGap.reason, message: `frames from ${accepted.next} are expected`, next: accepted.next })
      }
      // The rate limit counts frames; a POST that brings none new (an ack, a replay) still costs one, as a Pong.
      session.deliver(accepted.fresh.length > 0 ? accepted.fresh : [new Uint8Array([MessageType.Pong])])
      sendJson(res, 200, { next: accepted.next })
    } finally {
      release()
    }
  }

  private async stream(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const { session, caller } = await this.sessionOf(req)
    const last = counter(req, 'last-event-id', 0)
    if (last > session.newestId) throw new ApiError(Errors.BadRequest, `Last-Event-ID: no event ${last} was sent yet`)
    if (!session.canResume(last)) {
      // What the reader missed is no longer kept: the session cannot go on without a gap.
      session.close(CloseCode.BacklogFull.code, CloseCode.BacklogFull.reason)
      throw new ApiError(Errors.SessionGone, `events after ${last} are no longer all kept: open a new session`)
    }
    session.confirm(last)
    if (url.searchParams.get('poll') === '1') return this.poll(req, res, session, last)
    if (!this.streams.admits(req)) throw new ApiError(Errors.TooManyStreams, 'too many streams from this address')
    const s = this.streams.start(req, res, FORMAT, caller.expiresAt)
    // A first byte at once: a client that sees none within a few seconds is behind a buffering proxy and polls instead.
    s.write(': open\n\n')
    session.attach(s)
    const release = session.hold()
    s.signal.addEventListener('abort', release, { once: true })
    let at = last
    const maxBytes = this.options.limits.streamMaxBufferedBytes / 2
    while (!s.signal.aborted) {
      const events = session.after(at, maxBytes)
      if (events.length === 0) {
        if (session.closed) return s.end(Errors.SessionGone)
        await session.waitAfter(at, s.signal)
        continue
      }
      for (const event of events) {
        if (!s.write(event.text)) return
        at = event.id
      }
      if (!(await s.drained())) return
      session.handed(at)
    }
  }

  /** One long-poll: what there is after `last`, or what comes within a keep-alive period. */
  private async poll(req: IncomingMessage, res: ServerResponse, session: FallbackSession, last: number): Promise<void> {
    const release = session.hold()
    const abort = new AbortController()
    const timer = setTimeout(() => abort.abort(), this.options.limits.streamKeepAliveMs)
    const gone = () => abort.abort()
    res.once('close', gone)
    try {
      await session.waitAfter(last, abort.signal)
    } finally {
      clearTimeout(timer)
      res.off('close', gone)
    }
    const events = session.after(last, this.options.limits.streamMaxBufferedBytes)
    const body = events.length > 0 ? events.map((e) => e.text).join('') : FORMAT.keepAlive()
    const newest = events.at(-1)?.id ?? last
    res.writeHead(200, { 'content-type': FORMAT.contentType, 'cache-control': 'no-store', 'x-accel-buffering': 'no', 'content-length': Buffer.byteLength(body) })
    res.end(body, () => session.handed(newest))
    res.once('close', release)
    if (res.destroyed) release()
  }
}
