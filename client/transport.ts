/**
 * Which transport a client's socket uses: a WebSocket, the HTTP fallback
 * (client/http-socket.ts), or `auto` — a WebSocket first, the fallback when
 * the upgrade fails or does not open within `upgradeTimeoutMs`, and a
 * WebSocket again later (probed every `retryWebSocketMs` while on HTTP; when
 * one opens, the HTTP socket is closed so the next connection upgrades).
 * Each is a WebSocket class for the provider's `WebSocketPolyfill`.
 */
import { HttpSocket, type HttpSocketOptions } from './http-socket.ts'
import type { WebSocketConstructor } from './socket.ts'

/** `auto`: WebSocket, falling back to HTTP by itself. */
export type TransportOption = 'auto' | 'websocket' | 'http'
/** The transport of the current connection. */
export type Transport = 'websocket' | 'http'

export interface AutoOptions extends HttpSocketOptions {
  /** A WebSocket that has not opened within this long counts as blocked. @default 5000 */
  upgradeTimeoutMs?: number
  /** While on HTTP, try a WebSocket again this often. @default 300000 */
  retryWebSocketMs?: number
  /** Told the transport of every socket that opens. */
  onTransport?: (transport: Transport) => void
}

/** What the provider uses of a socket. */
interface SocketLike {
  readyState: number
  binaryType: string
  send(data: unknown): void
  close(code?: number, reason?: string): void
  addEventListener(type: string, listener: (event: Event) => void): void
}

const FORWARDED = ['open', 'message', 'close', 'error'] as const

/** A WebSocket class that opens sockets over `choice`. */
export function transportClass(choice: TransportOption, WebSocketClass: WebSocketConstructor | undefined, options: AutoOptions = {}): WebSocketConstructor {
  const http = (url: string) => new HttpSocket(url, options)
  /** Until then, connect over HTTP at once (a WebSocket failed); 0: try a WebSocket first. */
  let httpUntil = 0
  const retryMs = options.retryWebSocketMs ?? 300_000

  return class AutoSocket extends EventTarget {
    binaryTypeValue = 'arraybuffer'
    private inner: SocketLike | undefined
    private closedByUser = false
    /** A WebSocket is being tried (auto): its events are not passed on until it opens. */
    private attempting = false
    private probeTimer: ReturnType<typeof setTimeout> | undefined

    constructor(url: string) {
      super()
      const useWebSocket = choice === 'websocket' || (choice === 'auto' && Date.now() >= httpUntil)
      if (useWebSocket && WebSocketClass) this.tryWebSocket(url)
      else this.adopt(http(url), 'http', url)
    }

    get readyState(): number {
      return this.inner?.readyState ?? 0
    }

    get binaryType(): string {
      return this.binaryTypeValue
    }

    set binaryType(value: string) {
      this.binaryTypeValue = value
      if (this.inner) this.inner.binaryType = value
    }

    send(data: unknown): void {
      this.inner?.send(data)
    }

    close(code?: number, reason?: string): void {
      if (this.closedByUser) return
      this.closedByUser = true
      clearTimeout(this.probeTimer)
      this.inner?.close(code, reason)
      // Closed while a WebSocket was still being tried: that socket's close is not passed on, so say it here.
      if (this.attempting) setTimeout(() => this.dispatchEvent(Object.assign(new Event('close'), { code: code ?? 1005, reason: reason ?? '', wasClean: true })), 0)
    }

    private tryWebSocket(url: string): void {
      const ws = new WebSocketClass!(url) as SocketLike
      ws.binaryType = this.binaryTypeValue
      if (choice !== 'auto') return this.adopt(ws, 'websocket', url)
      this.inner = ws
      this.attempting = true
      let settled = false
      const fallBack = () => {
        if (settled || this.closedByUser) return
        settled = true
        this.attempting = false
        clearTimeout(timer)
        ws.close()
        this.adopt(http(url), 'http', url, true)
      }
      const timer = setTimeout(fallBack, options.upgradeTimeoutMs ?? 5000)
      ws.addEventListener('open', () => {
        if (settled || this.closedByUser) return
        settled = true
        this.attempting = false
        clearTimeout(timer)
        httpUntil = 0
        this.forward(ws)
        options.onTransport?.('websocket')
        this.dispatchEvent(new Event('open'))
      })
      ws.addEventListener('error', fallBack)
      ws.addEventListener('close', fallBack)
    }

    /** Use `socket` from now on, passing its events on. `sticky`: a WebSocket failed; stay on HTTP a while once it works. */
    private adopt(socket: SocketLike, transport: Transport, url: string, sticky = false): void {
      this.inner = socket
      socket.binaryType = this.binaryTypeValue
      this.forward(socket, true)
      socket.addEventListener('open', () => {
        if (sticky) httpUntil = Date.now() + retryMs
        options.onTransport?.(transport)
        if (transport === 'http' && choice === 'auto' && WebSocketClass) this.probeLater(url)
      })
    }

    private forward(socket: SocketLike, withOpen = false): void {
      for (const type of FORWARDED) {
        if (type === 'open' && !withOpen) continue
        socket.addEventListener(type, (event) => {
          if (this.inner !== socket) return
          if (type === 'close') clearTimeout(this.probeTimer)
          this.dispatchEvent(copy(event))
        })
      }
    }

    /** While on HTTP: try a WebSocket now and then; when one opens, reconnect (the next socket upgrades). */
    private probeLater(url: string): void {
      this.probeTimer = setTimeout(() => {
        if (this.closedByUser || this.inner?.readyState !== 1) return
        const probe = new WebSocketClass!(url) as SocketLike
        probe.addEventListener('open', () => {
          probe.close()
          httpUntil = 0
          if (!this.closedByUser) this.inner?.close(1000, 'upgrading to a WebSocket')
        })
        probe.addEventListener('error', () => this.probeLater(url))
      }, retryMs)
    }
  }
}

/** An event for re-dispatch (an event can be dispatched once), with what the provider reads of it. */
function copy(event: Event): Event {
  const fields = event as Event & { data?: unknown; code?: number; reason?: string; wasClean?: boolean }
  if (event.type === 'message') return new MessageEvent('message', { data: fields.data })
  return Object.assign(new Event(event.type), { code: fields.code, reason: fields.reason, wasClean: fields.wasClean })
}
