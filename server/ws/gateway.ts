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

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, context: Record<string, unknown> = {}): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, lightRequest(req), context))
  }

  private accept(ws: WebSocket, request: Request, context: Record<string, unknown>): void {
    const { hocuspocus, logger } = this.options
    ws.binaryType = 'arraybuffer'
    const { onSend } = this.options
    // What Hocuspocus writes to: the socket, seen through our counters.
    const socket = onSend
      ? {
          send(data: Uint8Array) {
            onSend(peekType(data), data.byteLength)
            ws.send(data)
          },
          close: (code?: number, reason?: string) => ws.close(code, reason),
          get readyState() {
            return ws.readyState
          },
        }
      : ws
    const client = hocuspocus.handleConnection(socket, request, context)
    let refused = false

    const refuse = (info: CloseCodeInfo, reason: FrameRejection | 'text-frame', detail: string) => {
      refused = true
      this.options.onReject?.(reason)
      logger.warn({ code: info.code, reason, detail }, 'closing a socket that sent a bad frame')
      ws.close(info.code, info.reason)
    }

    ws.on('message', (data, isBinary) => {
      if (refused) return
      if (!isBinary) return refuse(CloseCode.TextFrame, 'text-frame', 'text frames are not part of the protocol')
      const bytes = new Uint8Array(data as ArrayBuffer)
      const verdict = inspectFrame(bytes)
      if (!verdict.ok) {
        const info = verdict.reason === 'unsupported-type' ? CloseCode.UnsupportedMessage : CloseCode.MalformedMessage
        return refuse(info, verdict.reason, verdict.detail)
      }
      this.options.onFrame?.(verdict.frame, bytes.byteLength)
      if (verdict.frame.kind === 'pong') return
      client.handleMessage(bytes)
    })
    ws.on('close', (code, reason) => client.handleClose({ code, reason: reason.toString() }))
    ws.on('error', (error) => logger.warn({ err: error }, 'websocket error'))
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
