import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Hocuspocus } from '@hocuspocus/server'
import type { Logger } from 'pino'
import { WebSocket, WebSocketServer } from 'ws'
import { CloseCode, type CloseCodeInfo } from '../../client/protocol.ts'
import { type Frame, type FrameRejection, inspectFrame, peekType } from './frame.ts'

export interface GatewayOptions {
  hocuspocus: Hocuspocus
  logger: Logger
  /** Largest frame accepted; ws closes the socket with 1009 past it. */
  maxMessageBytes: number
  /** Observe every inbound frame (metrics). */
  onFrame?: (frame: Frame, bytes: number) => void
  /** Observe every refused frame (metrics). */
  onReject?: (reason: FrameRejection | 'text-frame') => void
  /** Observe every outbound frame: its message type and size (metrics). */
  onSend?: (type: number, bytes: number) => void
}

/** A client protocol translated to and from Hocuspocus's (server/compat). */
export interface Dialect {
  /** The Hocuspocus Auth frame to send for the client when its socket opens. */
  authFrame(): Uint8Array
  /** A client frame as a Hocuspocus frame; null refuses it. */
  inbound(frame: Uint8Array): Uint8Array | null
  /** A Hocuspocus frame as the client should get it. */
  outbound(frame: Uint8Array): { send: Uint8Array } | { drop: true } | { close: CloseCodeInfo }
}

/** What Hocuspocus reads of the upgrade request: a path-only url and the headers. */
function lightRequest(req: IncomingMessage): Request {
  const headers = new Headers()
  for (const [key, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(key, v)
    else if (value !== undefined) headers.set(key, value)
  }
  return { url: req.url ?? '/', headers } as unknown as Request
}

/**
 * The WebSocket door for the Hocuspocus protocol, in Hocuspocus's library mode:
 * we own the `ws` server, so every frame passes the frame guard (size, binary
 * only, full decode) before Hocuspocus sees it, and an offender is cut off with
 * a named close code while everyone else carries on.
 */
export class Gateway {
  private readonly wss: WebSocketServer
  private readonly options: GatewayOptions

  constructor(options: GatewayOptions) {
    this.options = options
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes, perMessageDeflate: false })
  }

  /** Number of open sockets. */
  get size(): number {
    return this.wss.clients.size
  }

  /**
   * Take over an upgrade. `dialect` translates a client protocol other than
   * Hocuspocus's (the y-websocket endpoint); without it frames pass as they are.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, context: Record<string, unknown> = {}, dialect?: Dialect): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, lightRequest(req), context, dialect))
  }

  private accept(ws: WebSocket, request: Request, context: Record<string, unknown>, dialect?: Dialect): void {
    const { hocuspocus, logger, onSend } = this.options
    ws.binaryType = 'arraybuffer'
    // What Hocuspocus writes to: the socket, seen through our counters (and the dialect).
    const socket = {
      send(data: Uint8Array) {
        onSend?.(peekType(data), data.byteLength)
        if (!dialect) return ws.send(data)
        const out = dialect.outbound(data)
        if ('send' in out) ws.send(out.send)
        else if ('close' in out) ws.close(out.close.code, out.close.reason)
      },
      close: (code?: number, reason?: string) => ws.close(code, reason),
      get readyState() {
        return ws.readyState
      },
    }
    const client = hocuspocus.handleConnection(socket, request, context)
    let refused = false

    const refuse = (info: CloseCodeInfo, reason: FrameRejection | 'text-frame', detail: string) => {
      refused = true
      this.options.onReject?.(reason)
      logger.warn({ code: info.code, reason, detail, remoteAddress: context.remoteAddress }, 'closing a socket that sent a bad frame')
      ws.close(info.code, info.reason)
    }

    ws.on('message', (data, isBinary) => {
      if (refused) return
      if (!isBinary) return refuse(CloseCode.TextFrame, 'text-frame', 'text frames are not part of the protocol')
      const received = new Uint8Array(data as ArrayBuffer)
      const bytes = dialect ? dialect.inbound(received) : received
      if (!bytes) return refuse(CloseCode.UnsupportedMessage, 'unsupported-type', 'message type not accepted on this endpoint')
      const verdict = inspectFrame(bytes)
      if (!verdict.ok) {
        const info = verdict.reason === 'unsupported-type' ? CloseCode.UnsupportedMessage : CloseCode.MalformedMessage
        return refuse(info, verdict.reason, verdict.detail)
      }
      this.options.onFrame?.(verdict.frame, received.byteLength)
      if (verdict.frame.kind === 'pong') return
      client.handleMessage(bytes)
    })
    ws.on('close', (code, reason) => client.handleClose({ code, reason: reason.toString() }))
    ws.on('error', (error) => logger.warn({ err: error, remoteAddress: context.remoteAddress }, 'websocket error'))
    // A dialect authenticates on the client's behalf (the token came with the URL).
    if (dialect) client.handleMessage(dialect.authFrame())
  }

  /** Close every socket (shutdown). */
  closeAll(info: CloseCodeInfo = CloseCode.GoingAway): void {
    for (const ws of this.wss.clients) {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(info.code, info.reason)
    }
  }

  close(): void {
    this.wss.close()
  }
}
