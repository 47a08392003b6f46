/**
 * `CollabClient`: one WebSocket for all of an app's rooms, with reconnection,
 * pause/resume, and a clear stop when the server refuses the credentials.
 */
import { WsReadyStates } from '@hocuspocus/common'
import { WebSocketStatus } from '@hocuspocus/provider'
import { carriesChanges } from './acks.ts'
import { Emitter, type Subscribable } from './emitter.ts'
import { checkTokenIdentity, IdentityMismatchError, resolveUser, type UserOptions } from './identity.ts'
import { defaultOfflineStore, offlineKey, type OfflineStoreFactory } from './offline.ts'
import type { PresenceUser } from './presence.ts'
import { closeCodeByNumber, CloseCode, MessageType, SyncStep } from './protocol.ts'
import { Room } from './room.ts'
import { CollabSocket, defaultReconnect, type ReconnectOptions, type WebSocketConstructor } from './socket.ts'
import { type Transport, type TransportOption, transportClass } from './transport.ts'
import { DEFAULT_TYPING_TIMEOUT_MS } from './typing.ts'

/** `connected`: the socket is open; `connecting`: an attempt is under way; `offline`: neither (waiting to retry, paused, stopped or closed). */
export type ClientStatus = 'connecting' | 'connected' | 'offline'

/** Why the client stopped trying to connect. */
export interface StopReason {
  /**
   * `auth`: the server refused the credentials; `closed`: the server closed the socket with a code that says
   * not to retry; `identity`: a token from the token function is for another user than `client.user`.
   */
  kind: 'auth' | 'closed' | 'identity'
  /** The server's reason text (`identity-mismatch` for `identity`). */
  reason: string
  /** The close code (`CloseCode` in client/protocol.ts), when the server sent one. */
  code?: number
  /** For `identity`: the error, with the token's `sub`. */
  error?: IdentityMismatchError
}

/** A credential, or a function asked for a fresh one on every (re)connect and whenever the server asks. */
export type TokenSource = string | (() => string | Promise<string>)

/** Options of `new CollabClient()`. */
export interface CollabClientOptions {
  /** WebSocket URL of the server, e.g. `ws://localhost:1234/ws`. */
  url: string
  /** The credential sent for every room. @default '' (an open-mode server accepts anything) */
  token?: TokenSource
  /**
   * Who the local user is: chat author and presence. With a JWT string token the
   * identity comes from the token (`sub`, `name`, `color`) and `user` may be left
   * out; a `user.id` other than the token's `sub` throws `IdentityMismatchError`.
   * A token function's tokens are checked when they are fetched (at join, on
   * refresh): one for another user stops the client (`stopped`, kind `identity`).
   */
  user?: UserOptions
  /** Reconnection backoff (exponential with jitter). */
  reconnect?: Partial<ReconnectOptions>
  /** Become `away` after this long without activity, ms; 0 never. @default 300000 */
  awayAfterMs?: number
  /** Clear the typing indicator after this long without input, ms. @default 3000 */
  typingTimeoutMs?: number
  /** Keep rooms locally so offline edits survive a reload. @default IndexedDB where available, else memory only */
  offline?: OfflineStoreFactory | false
  /** Don't connect until `resume()`. @default false */
  startPaused?: boolean
  /**
   * The WebSocket class, where the runtime has none of its own (Node 20:
   * `import WebSocket from 'ws'`). @default globalThis.WebSocket (browsers, Node 22+)
   */
  WebSocketPolyfill?: WebSocketConstructor
  /**
   * How to reach the server: `websocket` only; `http`, the HTTP fallback only (POST + Server-Sent
   * Events, for networks whose proxies block WebSockets); `auto`, a WebSocket first and the fallback
   * when the upgrade fails or stalls, trying a WebSocket again later. @default 'auto'
   */
  transport?: TransportOption
  /** Tuning of the fallback (ms): `upgradeTimeoutMs` (5000), `stallMs` (4000: no stream byte, long-poll), `retryWebSocketMs` (300000). */
  fallback?: { upgradeTimeoutMs?: number; stallMs?: number; retryWebSocketMs?: number }
}

/** Client events and their payloads. */
export interface ClientEvents {
  [event: string]: unknown
  /** `client.status` changed. */
  status: ClientStatus
  /** The connection that opened uses this transport (`client.transport`). */
  transport: Transport
  /** The client stopped retrying (bad credentials, or the server said not to retry); see `client.stopped`. */
  stopped: StopReason
  /** Something went wrong that the app may want to log (offline store, listener errors). */
  error: { error: unknown; context: string }
}

function clientStatus(status: WebSocketStatus): ClientStatus {
  return status === WebSocketStatus.Connected ? 'connected' : status === WebSocketStatus.Connecting ? 'connecting' : 'offline'
}

/** A reason string that means "this document is forbidden", not "your credentials are bad". */
function isDocumentScoped(reason: string): boolean {
  return reason.startsWith(`${CloseCode.Forbidden.code} `) || reason === CloseCode.Forbidden.reason
}

/** The entry point: one socket, many rooms. */
export class CollabClient implements Subscribable<ClientEvents> {
  /** The local user: from the token when it is a JWT, else as given (with a default colour). */
  readonly user: Readonly<PresenceUser>
  /** Why the client stopped trying, or null while it is allowed to connect. */
  stopped: StopReason | null = null
  /** The transport of the current (or last) connection; null before the first one opens. */
  transport: Transport | null = null
  /** The last token the rooms were given: the HTTP fallback's requests carry it. */
  private lastToken: string | undefined
  /** A resume waiting for the old socket's close (see `resume()`). */
  private pendingResume: (() => void) | undefined
  private readonly options: CollabClientOptions
  private readonly socket: CollabSocket
  private readonly rooms = new Map<string, Room>()
  private readonly events = new Emitter<ClientEvents>()
  private readonly reconnect: ReconnectOptions
  private readonly openStore: OfflineStoreFactory | undefined
  private currentStatus: ClientStatus = 'offline'
  private closed = false

  /** Connects at once (unless `startPaused`). Throws `IdentityMismatchError` when `user.id` is not the token's `sub`. */
  constructor(options: CollabClientOptions) {
    this.options = options
    this.user = resolveUser(options.user, options.token)
    this.reconnect = { ...defaultReconnect, ...options.reconnect }
    this.openStore = options.offline === false ? undefined : (options.offline ?? defaultOfflineStore())
    const WebSocketClass = options.WebSocketPolyfill ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
    const choice = options.transport ?? 'auto'
    if (choice !== 'http' && typeof WebSocketClass !== 'function') {
      throw new TypeError("collab client: this runtime has no WebSocket (Node.js before 22): pass one, e.g. new CollabClient({ ..., WebSocketPolyfill: WebSocket }) with WebSocket from the 'ws' package")
    }
    this.socket = new CollabSocket({
      url: options.url,
      WebSocket: transportClass(choice, typeof WebSocketClass === 'function' ? WebSocketClass : undefined, {
        ...options.fallback,
        token: async () => this.lastToken ?? (await this.token()),
        onTransport: (transport) => {
          this.transport = transport
          this.events.emit('transport', transport)
        },
      }),
      reconnect: this.reconnect,
      autoConnect: options.startPaused !== true,
      observer: {
        sent: (head, open) => {
          if (head.type === MessageType.Sync && carriesChanges(head.detail)) {
            this.rooms.get(head.documentName)?.frameSent(head.detail === SyncStep.Step2, open)
          }
        },
        received: (head) => {
          const room = this.rooms.get(head.documentName)
          if (head.type === MessageType.SyncStatus) room?.frameAcked(head.detail === 1)
          else if (head.type === MessageType.Close) room?.serverClosed(head.reason ?? '')
        },
      },
    })
    // The socket may already be connecting: start from its status, then follow it.
    this.currentStatus = clientStatus(this.socket.status)
    this.socket.on('status', ({ status }: { status: WebSocketStatus }) => this.setStatus(clientStatus(status)))
    this.socket.on('disconnect', ({ event }: { event?: { code?: number; reason?: string } }) => {
      for (const room of this.rooms.values()) room.socketClosed()
      const info = event?.code !== undefined ? closeCodeByNumber(event.code) : undefined
      if (info && !info.retry) this.stop({ kind: info.code === CloseCode.Unauthorized.code ? 'auth' : 'closed', reason: event?.reason || info.reason, code: info.code })
    })
  }

  /** Listen to `status`, `stopped` or `error`; returns the unsubscribe function. */
  on<K extends keyof ClientEvents>(event: K, listener: (payload: ClientEvents[K]) => void): () => void {
    return this.events.on(event, listener)
  }

  /** Connection status. */
  get status(): ClientStatus {
    return this.currentStatus
  }

  /** The room `name`, joined on first use (the same instance until it is left). */
  room(name: string): Room {
    if (this.closed) throw new Error('collab client: closed')
    const existing = this.rooms.get(name)
    if (existing) return existing
    const openStore = this.openStore
    const key = offlineKey(this.options.url, this.user.id, name)
    const room = new Room(name, {
      socket: this.socket,
      user: this.user,
      token: () => this.token(),
      awayAfterMs: this.options.awayAfterMs ?? 300_000,
      typingTimeoutMs: this.options.typingTimeoutMs ?? DEFAULT_TYPING_TIMEOUT_MS,
      reconnect: this.reconnect,
      openStore: openStore ? (doc, storeContext) => openStore(key, doc, storeContext) : undefined,
      onAuthFailed: (r, reason) => this.authFailed(r, reason),
      identityRefused: () => this.stopped?.kind === 'identity',
      onLeave: (r) => {
        if (this.rooms.get(r.name) === r) this.rooms.delete(r.name)
      },
      onError: (error, context) => this.reportError(error, context),
    })
    this.rooms.set(name, room)
    return room
  }

  /** Disconnect for now (e.g. the app went to the background); rooms keep working offline. */
  pause(): void {
    this.cancelPendingResume()
    this.socket.disconnect()
  }

  /** Reconnect after `pause()`, or after a stop (e.g. once the app has a fresh token). */
  resume(): void {
    if (this.closed) throw new Error('collab client: closed')
    this.stopped = null
    this.cancelPendingResume()
    const connect = () => void this.socket.connect().catch((error: unknown) => this.reportError(error, 'connecting'))
    // Right after a stop or pause the old socket may still be closing. Connecting now would make the
    // provider drop that socket's listeners, so its close would never be reported and the rooms would
    // wait on it for good: connect once it has closed (unless paused, stopped or closed meanwhile).
    if (this.socket.webSocket?.readyState !== WsReadyStates.Closing) return connect()
    const closed = () => {
      this.cancelPendingResume()
      if (!this.closed && !this.stopped) connect()
    }
    this.pendingResume = closed
    this.socket.on('disconnect', closed)
  }

  /** Forget a resume that waits for the old socket to close. */
  private cancelPendingResume(): void {
    if (!this.pendingResume) return
    this.socket.off('disconnect', this.pendingResume)
    this.pendingResume = undefined
  }

  /** Leave every room and close the socket for good. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.cancelPendingResume()
    for (const room of [...this.rooms.values()]) room.leave()
    this.socket.destroy()
    this.setStatus('offline')
    this.events.clear()
  }

  private async token(): Promise<string> {
    const source = this.options.token ?? ''
    const token = typeof source === 'function' ? await source() : source
    try {
      checkTokenIdentity(this.user.id, token)
    } catch (error) {
      // Refused here, before the server sees it; the provider reports the throw as a failed authentication.
      if (error instanceof IdentityMismatchError) this.stop({ kind: 'identity', reason: error.code, error })
      throw error
    }
    this.lastToken = token
    return token
  }

  private authFailed(room: Room, reason: string): void {
    if (this.stopped?.kind === 'identity') return
    // A forbidden document concerns that room only (it reports `denied`).
    if (isDocumentScoped(reason)) return
    // An expired token is worth another try when there is a function to ask for a fresh one.
    const code = /^(\d{4}) /.exec(reason)?.[1]
    const info = code ? closeCodeByNumber(Number(code)) : undefined
    // The server said "later" (shedding load, at capacity): back off and try this document again.
    if (info === CloseCode.ServerBusy || info === CloseCode.ServerAtCapacity) return room.rejoinLater()
    if (info?.retry && typeof this.options.token === 'function') return room.rejoinLater()
    // Anything else means the credentials are bad: stop and say so.
    this.stop({ kind: 'auth', reason: reason || CloseCode.Unauthorized.reason, ...(info ? { code: info.code } : {}) })
  }

  private stop(reason: StopReason): void {
    if (this.stopped || this.closed) return
    this.cancelPendingResume()
    this.stopped = reason
    this.socket.disconnect()
    this.events.emit('stopped', reason)
  }

  private setStatus(status: ClientStatus): void {
    if (status === this.currentStatus) return
    this.currentStatus = status
    this.events.emit('status', status)
  }

  private reportError(error: unknown, context: string): void {
    if (this.events.has('error')) this.events.emit('error', { error, context })
    else console.error(`collab client: ${context}`, error)
  }
}
