/**
 * The one WebSocket a client shares between its rooms: the provider's socket,
 * plus a look at every frame as it really goes onto the wire (for
 * acknowledgement tracking) and at every frame that arrives.
 */
import { WsReadyStates } from '@hocuspocus/common'
import { HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { type FrameHead, readFrameHead } from './acks.ts'

/** Reconnection backoff: exponential with jitter, between `minDelay` and `maxDelay` ms. */
export interface ReconnectOptions {
  /** First retry delay and the lower bound of the jitter, ms. @default 1000 */
  minDelay: number
  /** Upper bound of the delay, ms. @default 30000 */
  maxDelay: number
  /** Growth factor per failed attempt. @default 2 */
  factor: number
}

/** A WebSocket class: the browser's, Node's global one (22+), or the `ws` package's. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => unknown

/** Default backoff. */
export const defaultReconnect: ReconnectOptions = { minDelay: 1000, maxDelay: 30_000, factor: 2 }

/** What the socket reports about frames. */
export interface FrameObserver {
  /** A document frame was handed to the socket; `open`: it went onto the wire at once (else it is queued). */
  sent(head: FrameHead, open: boolean): void
  /** A document frame arrived. */
  received(head: FrameHead): void
}

/** A provider socket that lets the client see frames as they go out and come in. */
export class CollabSocket extends HocuspocusProviderWebsocket {
  private readonly observer: FrameObserver

  /** Connects at once unless `autoConnect` is false. */
  constructor(options: { url: string; reconnect: ReconnectOptions; observer: FrameObserver; autoConnect?: boolean; WebSocket?: WebSocketConstructor }) {
    super({
      url: options.url,
      WebSocketPolyfill: options.WebSocket,
      autoConnect: options.autoConnect ?? true,
      delay: options.reconnect.minDelay,
      minDelay: options.reconnect.minDelay,
      maxDelay: options.reconnect.maxDelay,
      factor: options.reconnect.factor,
      jitter: true,
      maxAttempts: 0,
    })
    this.observer = options.observer
    this.on('message', (event: MessageEvent) => {
      if (!(event.data instanceof ArrayBuffer)) return
      const head = readFrameHead(new Uint8Array(event.data))
      if (head) this.observer.received(head)
    })
  }

  /** Queued frames are sent through here again once the socket opens, so each is seen when it really goes out. */
  // The provider's own signature; frames are Uint8Arrays in practice.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override send(message: any): void {
    if (message instanceof Uint8Array) {
      const head = readFrameHead(message)
      if (head) this.observer.sent(head, this.webSocket?.readyState === WsReadyStates.Open)
    }
    super.send(message)
  }
}
