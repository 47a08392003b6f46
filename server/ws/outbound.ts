import { MessageType } from '../../client/protocol.ts'
import type { ColdHolds } from './cold-hold.ts'
import type { DoorSocket } from './door-socket.ts'
import type { EchoFilter } from './echo.ts'
import { authReplyOf, peekType } from './frame.ts'
import type { Dialect } from './gateway.ts'

export interface OutboundHooks {
  /** Observe every outbound frame: its message type and size (metrics). */
  onSend?: (type: number, bytes: number) => void
  /** Observe every echo not sent back (metrics). */
  onEcho?: () => void
  /** The client protocol, when it is not Hocuspocus's (the y-websocket endpoint). */
  dialect?: Dialect
  /** The first document of the socket authenticated. */
  onAuthenticated: () => void
}

/**
 * What Hocuspocus writes to for one socket (the `WebSocketLike` handed to
 * `handleConnection`): the `ws` socket, seen through our counters, the echo
 * filter, the cold holds and the dialect. A class, not an object literal, so
 * every socket shares one shape and Hocuspocus's `send` (called once per
 * recipient per update) stays monomorphic.
 */
export class OutboundSocket {
  /** Cold sync's holds for this socket (server/ws/cold-hold.ts), when on. */
  cold: ColdHolds | undefined
  private authenticated = false
  private readonly ws: DoorSocket
  private readonly echoes: EchoFilter
  private readonly hooks: OutboundHooks

  constructor(ws: DoorSocket, echoes: EchoFilter, hooks: OutboundHooks) {
    this.ws = ws
    this.echoes = echoes
    this.hooks = hooks
  }

  get readyState(): number {
    return this.ws.readyState
  }

  send(data: Uint8Array): void {
    const type = peekType(data)
    if (type === MessageType.Sync && this.echoes.isEcho(data)) {
      this.hooks.onEcho?.()
      return
    }
    this.hooks.onSend?.(type, data.byteLength)
    if (type !== MessageType.Auth) return this.write(data)
    // An Auth reply: the socket's auth timer stops at its first success; cold holds learn the outcome once it went out.
    const reply = authReplyOf(data)
    if (reply?.authenticated && !this.authenticated) {
      this.authenticated = true
      this.hooks.onAuthenticated()
    }
    this.write(data)
    if (reply) this.cold?.authReply(reply.address, reply.authenticated)
  }

  close(code?: number, reason?: string): void {
    this.ws.close(code, reason)
  }

  private write(data: Uint8Array): void {
    const { dialect } = this.hooks
    if (!dialect) return this.ws.send(data)
    const out = dialect.outbound(data)
    if ('send' in out) this.ws.send(out.send)
    else if ('close' in out) this.ws.close(out.close.code, out.close.reason)
  }
}
