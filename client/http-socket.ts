/**
 * `HttpSocket`: a WebSocket made of HTTP requests, for networks whose proxies
 * refuse WebSocket upgrades (docs/protocol.md#http-fallback). It speaks the
 * same frames: sent as numbered POSTs (retried until the server has them,
 * applied once), received as Server-Sent Events read with `fetch` and resumed
 * with `Last-Event-ID` after a drop — or long-polled, when no byte of the
 * stream arrives within `stallMs` (a buffering proxy). It has the WebSocket
 * surface the Hocuspocus provider uses (readyState, binaryType, send, close,
 * open/message/close/error events), so rooms, acks, the offline queue and
 * presence work over it unchanged.
 */
import { Errors, Fallback, encodeFrames } from './protocol.ts'

/** How an HttpSocket reads: one long stream, or one long-poll after the other. */
export type HttpMode = 'stream' | 'poll'

export interface HttpSocketOptions {
  /** The Bearer token for the session's requests (the user the session is bound to). Empty: none sent. */
  token?: () => string | Promise<string>
  /** No stream byte within this long: long-poll instead. @default 4000 */
  stallMs?: number
  /** Start by streaming, or by long-polling (where streams are known not to work). @default 'stream' */
  mode?: HttpMode
  /** The `fetch` to use. @default globalThis.fetch */
  fetch?: typeof fetch
}


const CONNECTING = 0
const OPEN = 1
const CLOSING = 2
const CLOSED = 3
/** Most bytes of frames in one POST. */
const MAX_POST_BYTES = 1024 * 1024
/** Retries back off up to this (ms). */
const MAX_BACKOFF_MS = 5000
/** Confirm what was read at least this often (events), even with nothing to send. */
const ACK_EVERY = 32

/** The fallback's base URL for a socket URL: `ws://h/ws` → `http://h/ws/fallback`. */
export function fallbackUrl(socketUrl: string): string {
  const url = new URL(socketUrl)
  url.protocol = url.protocol === 'wss:' ? 'https:' : url.protocol === 'ws:' ? 'http:' : url.protocol
  url.pathname = `${url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`}${Fallback.path}`
  url.search = ''
  return url.toString()
}

function base64ToBuffer(text: string): ArrayBuffer {
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes.buffer
}

/** The close code for an error answer: its catalogue entry's, else 1006 (abnormal: reconnect). */
function closeCodeOf(reason: string | undefined): number {
  const entry = Object.values(Errors).find((e) => e.reason === reason)
  return entry && 'code' in entry ? entry.code : 1006
}

export class HttpSocket extends EventTarget {
  static readonly CONNECTING = CONNECTING
  static readonly OPEN = OPEN
  static readonly CLOSING = CLOSING
  static readonly CLOSED = CLOSED
  readonly url: string
  binaryType: 'arraybuffer' | 'blob' = 'arraybuffer'
  readyState = CONNECTING
  /** `stream` until a stream stalls, then `poll`. */
  mode: HttpMode = 'stream'
  private readonly base: string
  private readonly options: HttpSocketOptions
  private readonly fetch: typeof fetch
  private readonly abort = new AbortController()
  private session = ''
  /** Frames not yet confirmed by the server; the first is numbered `firstSeq`. */
  private outbox: Uint8Array[] = []
  private firstSeq = 0
  private posting = false
  private flushQueued = false
  private lastId = 0
  private ackedId = 0

  constructor(url: string, options: HttpSocketOptions = {}) {
    super()
    this.url = url
    this.base = fallbackUrl(url)
    this.options = options
    this.mode = options.mode ?? 'stream'
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis)
    setTimeout(() => void this.start(), 0)
  }

  send(data: ArrayBufferLike | ArrayBufferView): void {
    if (this.readyState !== OPEN) throw new Error('HttpSocket: not open')
    const bytes = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() : new Uint8Array(data.slice(0))
    this.outbox.push(bytes)
    this.queueFlush()
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState >= CLOSING) return
    const session = this.session
    if (session) void this.request('DELETE', this.base, { session, keepalive: true }).catch(() => undefined)
    this.finish(code, reason)
  }

  private async start(): Promise<void> {
    if (this.readyState !== CONNECTING) return
    let res: Response
    try {
      res = await this.request('POST', this.base, {})
    } catch {
      return this.fail(1006, 'the fallback could not be reached')
    }
    if (res.status !== 201) return this.failWith(res)
    const body = (await res.json()) as { session: string }
    if (this.readyState !== CONNECTING) return
    this.session = body.session
    this.readyState = OPEN
    this.dispatchEvent(new Event('open'))
    void this.read()
    this.queueFlush()
  }

  private async request(method: string, url: string, init: { session?: string; headers?: Record<string, string>; body?: Uint8Array; signal?: AbortSignal; keepalive?: boolean }): Promise<Response> {
    const token = (await this.options.token?.()) ?? ''
    const headers: Record<string, string> = { ...init.headers }
    if (token) headers.authorization = `Bearer ${token}`
    if (method === 'POST') headers['content-type'] = Fallback.contentType
    if (init.session ?? this.session) headers[Fallback.sessionHeader] = init.session ?? this.session
    return this.fetch(url, { method, headers, body: init.body as BodyInit | undefined, signal: init.signal ?? this.abort.signal, keepalive: init.keepalive, cache: 'no-store' })
  }

  // --- receiving ---

  private async read(): Promise<void> {
    let failures = 0
    while (this.readyState === OPEN) {
      const ok = this.mode === 'stream' ? await this.readStream() : await this.poll()
      if (this.readyState !== OPEN) return
      failures = ok ? 0 : failures + 1
      if (failures > 0) await this.sleep(Math.min(MAX_BACKOFF_MS, 100 * 2 ** failures))
    }
  }

  /** One stream, until it ends. False when it failed. */
  private async readStream(): Promise<boolean> {
    const attempt = new AbortController()
    const onAbort = () => attempt.abort()
    this.abort.signal.addEventListener('abort', onAbort, { once: true })
    let gotByte = false
    const stall = setTimeout(() => {
      if (gotByte) return
      this.mode = 'poll'
      attempt.abort()
    }, this.options.stallMs ?? 4000)
    try {
      const res = await this.request('GET', `${this.base}/stream`, { headers: { 'last-event-id': String(this.lastId) }, signal: attempt.signal })
      if (res.status !== 200 || !res.body) return this.refused(res)
      const reader = res.body.getReader()
      const decoder = new TextDecoder()
      let text = ''
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return true
        gotByte = true
        text += decoder.decode(value, { stream: true })
        text = this.events(text)
        if (this.readyState !== OPEN) return true
      }
    } catch {
      return this.mode === 'poll' // a stall switches to polling: not a failure
    } finally {
      clearTimeout(stall)
      this.abort.signal.removeEventListener('abort', onAbort)
    }
  }

  /** One long-poll. False when it failed. */
  private async poll(): Promise<boolean> {
    try {
      const res = await this.request('GET', `${this.base}/stream?poll=1`, { headers: { 'last-event-id': String(this.lastId) } })
      if (res.status !== 200) return this.refused(res)
      this.events(await res.text())
      return true
    } catch {
      return false
    }
  }

  /** Handle the whole events in `text`; returns what is left (an event not yet complete). */
  private events(text: string): string {
    let end: number
    while ((end = text.indexOf('\n\n')) >= 0) {
      const block = text.slice(0, end)
      text = text.slice(end + 2)
      let id: number | undefined
      let event = 'message'
      let data = ''
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) id = Number(line.slice(4))
        else if (line.startsWith('event: ')) event = line.slice(7)
        else if (line.startsWith('data: ')) data += line.slice(6)
      }
      if (id !== undefined && id <= this.lastId) continue
      if (id !== undefined) this.lastId = id
      if (event === 'close') {
        const { code, reason } = JSON.parse(data) as { code: number; reason: string }
        this.finish(code, reason)
        return ''
      }
      if (event === 'message' && id !== undefined) {
        this.dispatchEvent(new MessageEvent('message', { data: base64ToBuffer(data) }))
        if (this.readyState !== OPEN) return ''
        if (this.lastId - this.ackedId >= ACK_EVERY) this.queueFlush()
      }
    }
    return text
  }

  // --- sending ---

  private queueFlush(): void {
    if (this.flushQueued) return
    this.flushQueued = true
    queueMicrotask(() => {
      this.flushQueued = false
      void this.flush()
    })
  }

  /** POST what the server has not confirmed, one request at a time, until it has all. */
  private async flush(): Promise<void> {
    if (this.posting || this.readyState !== OPEN) return
    this.posting = true
    let failures = 0
    try {
      while (this.readyState === OPEN && (this.outbox.length > 0 || this.lastId > this.ackedId)) {
        const batch: Uint8Array[] = []
        let bytes = 0
        for (const frame of this.outbox) {
          if (batch.length > 0 && bytes + frame.byteLength > MAX_POST_BYTES) break
          batch.push(frame)
          bytes += frame.byteLength
        }
        const ack = this.lastId
        let res: Response
        try {
          res = await this.request('POST', `${this.base}/send`, { headers: { [Fallback.seqHeader]: String(this.firstSeq), [Fallback.ackHeader]: String(ack) }, body: encodeFrames(batch) })
        } catch {
          failures += 1
          await this.sleep(Math.min(MAX_BACKOFF_MS, 100 * 2 ** failures))
          continue
        }
        if (res.status !== 200 && res.status !== 409) {
          await this.refused(res)
          failures += 1
          await this.sleep(Math.min(MAX_BACKOFF_MS, 100 * 2 ** failures))
          continue
        }
        failures = 0
        const { next } = (await res.json()) as { next: number }
        // The server has every frame before `next` (a retried POST's duplicates were dropped there).
        this.outbox.splice(0, Math.max(0, next - this.firstSeq))
        this.firstSeq = Math.max(this.firstSeq, next)
        this.ackedId = Math.max(this.ackedId, ack)
      }
    } finally {
      this.posting = false
    }
  }

  // --- ending ---

  /**
   * An error answer. False either way (the request failed): a fresh token, or
   * a later try, may help (expired token, 5xx, 429); anything else ends the
   * socket with its code.
   */
  private async refused(res: Response): Promise<false> {
    const body = (await res.json().catch(() => ({}))) as { error?: string }
    const retry = (body.error === Errors.TokenExpired.reason && this.options.token !== undefined) || res.status >= 500 || res.status === 429
    if (!retry) this.fail(closeCodeOf(body.error), body.error ?? `http ${res.status}`)
    return false
  }

  private async failWith(res: Response): Promise<void> {
    const body = (await res.json().catch(() => ({}))) as { error?: string }
    this.fail(closeCodeOf(body.error), body.error ?? `http ${res.status}`)
  }

  private fail(code: number, reason: string): void {
    if (this.readyState >= CLOSING) return
    this.dispatchEvent(new Event('error'))
    this.finish(code, reason)
  }

  private finish(code: number, reason: string): void {
    if (this.readyState === CLOSED) return
    this.readyState = CLOSED
    this.abort.abort()
    const event = Object.assign(new Event('close'), { code, reason, wasClean: code === 1000 })
    setTimeout(() => this.dispatchEvent(event), 0)
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.abort.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true })
    })
  }
}

/** A WebSocket class (for `WebSocketPolyfill`) whose sockets are HttpSockets with these options. */
export function httpSocketClass(options: HttpSocketOptions = {}): new (url: string) => HttpSocket {
  return class extends HttpSocket {
    constructor(url: string) {
      super(url, options)
    }
  }
}
