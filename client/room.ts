/**
 * A room: one Yjs document on the client's shared socket, with its chat,
 * presence and typing indicator, and an honest `unsaved` flag.
 */
import { HocuspocusProvider, WebSocketStatus } from '@hocuspocus/provider'
import * as Y from 'yjs'
import { AckTracker } from './acks.ts'
import { Chat } from './chat.ts'
import { Emitter, type Subscribable } from './emitter.ts'
import { SharedNames } from './model.ts'
import type { OfflineStore, OfflineStoreContext } from './offline.ts'
import { Presence, type PresenceUser } from './presence.ts'
import { closeCodeByNumber } from './protocol.ts'
import type { CollabSocket, ReconnectOptions } from './socket.ts'
import { Typing } from './typing.ts'

/** Room events and their payloads. */
export interface RoomEvents {
  [event: string]: unknown
  /** `room.unsaved` changed. */
  unsaved: boolean
  /** The room (re)synced with the server (after every reconnect). */
  synced: undefined
  /** The server refused this room's credentials. */
  denied: { reason: string }
  /** The server closed this document; with `retry` the room rejoins by itself. */
  closed: { code: number | undefined; reason: string; retry: boolean }
  /** The server said what this connection may do (on join, and again when a fresh token changes it); see `room.readOnly`. */
  access: { readOnly: boolean }
}

/** Thrown into `room.synced` when the room is left before it ever synced. */
export class RoomLeftError extends Error {
  /** `name`: the room that was left. */
  constructor(name: string) {
    super(`left room ${name} before it synced`)
    this.name = 'RoomLeftError'
  }
}

/** What a room needs from its client. */
export interface RoomContext {
  socket: CollabSocket
  user: PresenceUser
  token: () => Promise<string>
  awayAfterMs: number
  typingTimeoutMs: number
  reconnect: ReconnectOptions
  /** Opens the room's local copy; undefined: memory only. */
  openStore: ((doc: Y.Doc, context: OfflineStoreContext) => OfflineStore | Promise<OfflineStore>) | undefined
  onAuthFailed: (room: Room, reason: string) => void
  /** The client refused its token for another user's: not this room's denial. */
  identityRefused: () => boolean
  onLeave: (room: Room) => void
  onError: (error: unknown, context: string) => void
}

/** One collaborative document. Get one with `client.room(name)`. */
export class Room implements Subscribable<RoomEvents> {
  /** The room (= document) name. */
  readonly name: string
  /** The Yjs document: bind editors to `prosemirror` / `codemirror`, or read it directly. */
  readonly doc: Y.Doc
  /** The underlying provider (escape hatch: awareness, stateless messages). */
  readonly provider: HocuspocusProvider
  /** The chat (`Y.Array` named `SharedNames.chat`). */
  readonly chat: Chat
  /** Who is here, online or away, and their cursors. */
  readonly presence: Presence
  /** Who is typing. */
  readonly typing: Typing
  /** Resolves when the room first synced with the server; rejects with `RoomLeftError` if left first. */
  readonly synced: Promise<void>
  /** Resolves when the local offline copy (if any) has been loaded into `doc`. */
  readonly loaded: Promise<void>
  private readonly context: RoomContext
  private readonly events = new Emitter<RoomEvents>()
  private readonly tracker: AckTracker
  private rejectSynced: ((error: Error) => void) | undefined
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private closeCount = 0
  private left = false
  private access: boolean | null = null
  private store: OfflineStore | undefined

  /** Use `client.room(name)`. */
  constructor(name: string, context: RoomContext) {
    this.name = name
    this.context = context
    this.doc = new Y.Doc()
    this.tracker = new AckTracker((unsaved) => {
      if (!unsaved) this.chat.markSaved()
      this.events.emit('unsaved', unsaved)
    })
    this.provider = new HocuspocusProvider({
      websocketProvider: context.socket,
      name,
      document: this.doc,
      token: context.token,
    })
    const provider = this.provider
    this.chat = new Chat(this.doc, context.user, (origin) => origin === provider)
    this.presence = new Presence(provider.awareness!, context.user, { awayAfterMs: context.awayAfterMs })
    this.typing = new Typing(provider.awareness!, { timeoutMs: context.typingTimeoutMs, onActivity: () => this.presence.touch() })

    this.synced = new Promise<void>((resolve, reject) => {
      this.rejectSynced = reject
      provider.on('synced', () => {
        this.rejectSynced = undefined
        resolve()
      })
    })
    // Failures are also reported through events; this only keeps an unawaited promise from being "unhandled".
    this.synced.catch(() => undefined)
    provider.on('synced', () => {
      this.closeCount = 0
      this.events.emit('synced', undefined)
    })
    provider.on('authenticated', ({ scope }: { scope: string }) => {
      const readOnly = scope === 'readonly'
      if (readOnly === this.access) return
      this.access = readOnly
      this.events.emit('access', { readOnly })
    })
    provider.on('authenticationFailed', ({ reason }: { reason: string }) => {
      if (!context.identityRefused()) this.events.emit('denied', { reason })
      context.onAuthFailed(this, reason)
    })
    this.doc.on('update', (_update: Uint8Array, origin: unknown) => {
      if (origin !== provider) this.presence.touch()
    })

    this.loaded = this.openOfflineStore()
    provider.attach()
  }

  /** Listen to `unsaved`, `synced`, `denied`, `closed` or `access`; returns the unsubscribe function. */
  on<K extends keyof RoomEvents>(event: K, listener: (payload: RoomEvents[K]) => void): () => void {
    return this.events.on(event, listener)
  }

  /** Whether the room has completed its sync handshake with the server (false while offline). */
  get isSynced(): boolean {
    return this.provider.isSynced
  }

  /**
   * Whether the server lets this connection only read the room (a token with the
   * `read` role): changes made here are not stored and never reach the others, so
   * a UI should not offer to make any. Null until the server has answered the join.
   */
  get readOnly(): boolean | null {
    return this.access
  }

  /** Whether some change made here is not yet acknowledged — that is, durably stored — by the server. */
  get unsaved(): boolean {
    return this.tracker.unsaved
  }

  /** The ProseMirror document (`Y.XmlFragment` named `SharedNames.prosemirror`). */
  get prosemirror(): Y.XmlFragment {
    return this.doc.getXmlFragment(SharedNames.prosemirror)
  }

  /** The CodeMirror text (`Y.Text` named `SharedNames.codemirror`). */
  get codemirror(): Y.Text {
    return this.doc.getText(SharedNames.codemirror)
  }

  /** Leave the room: others see you go; the document is kept locally (offline store) but no longer synced. */
  leave(): void {
    if (this.left) return
    this.left = true
    clearTimeout(this.retryTimer)
    this.typing.destroy()
    this.presence.destroy()
    this.provider.destroy()
    this.chat.destroy()
    this.rejectSynced?.(new RoomLeftError(this.name))
    void this.loaded.then(() => this.store?.destroy()).catch((error: unknown) => this.context.onError(error, `closing the offline store of ${this.name}`))
    this.events.clear()
    this.context.onLeave(this)
  }

  /** @internal A frame carrying changes for this room went to the socket. */
  frameSent(isStep2: boolean, open: boolean): void {
    this.tracker.written(isStep2, open)
  }

  /** @internal The server answered a change frame. */
  frameAcked(applied: boolean): void {
    this.tracker.acked(applied)
  }

  /** @internal The socket closed. */
  socketClosed(): void {
    this.tracker.disconnected()
  }

  /** @internal The server closed this document (`reason` is `<code> <name>` for our close codes). */
  serverClosed(reason: string): void {
    this.tracker.disconnected()
    const code = /^(\d{4}) /.exec(reason)?.[1]
    const info = code ? closeCodeByNumber(Number(code)) : undefined
    const retry = info ? info.retry : true
    this.events.emit('closed', { code: info?.code, reason, retry })
    if (retry) this.rejoinLater()
  }

  /** @internal Authenticate and sync this document again on the open socket, after a jittered backoff delay. */
  rejoinLater(): void {
    if (this.left) return
    const { minDelay, maxDelay, factor } = this.context.reconnect
    // Jittered (half of it at random): clients refused together do not all come back together.
    const base = Math.min(maxDelay, minDelay * factor ** this.closeCount++)
    const delay = base / 2 + Math.random() * (base / 2)
    clearTimeout(this.retryTimer)
    this.retryTimer = setTimeout(() => {
      const socket = this.context.socket
      if (this.left || socket.status !== WebSocketStatus.Connected) return
      void this.provider.onOpen(socket.receivedOnOpenPayload ?? new Event('open')).catch((error: unknown) => this.context.onError(error, `rejoining ${this.name}`))
    }, delay)
  }

  private async openOfflineStore(): Promise<void> {
    if (!this.context.openStore) return
    try {
      this.store = await this.context.openStore(this.doc, {
        isRemote: (origin) => origin === this.provider,
        onServerSaved: (listener) =>
          this.on('unsaved', (unsaved) => {
            if (!unsaved) listener()
          }),
        reportError: (error, context) => this.context.onError(error, context),
      })
      await this.store.whenLoaded
    } catch (error) {
      this.context.onError(error, `opening the offline store of ${this.name}`)
    }
  }
}
