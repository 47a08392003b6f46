import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Hocuspocus } from '@hocuspocus/server'
import type { Logger } from 'pino'
import { WebSocket, WebSocketServer } from 'ws'
import { CloseCode, type CloseCodeInfo } from '../../client/protocol.ts'
import { ColdHolds } from './cold-hold.ts'
import type { DoorSocket, SocketDoorName } from './door-socket.ts'
import type { ColdSync } from './cold-sync.ts'
import { EchoFilter } from './echo.ts'
import { type DecodedFrames, type Frame, inspectFrame, peekType } from './frame.ts'
import { OutboundSocket } from './outbound.ts'
import { AddressCounter, TokenBucket, clientAddress, documentNameProblem, originAllowed } from './limits.ts'


export interface GatewayLimits {
  /** Largest frame accepted; ws closes the socket with 1009 past it. */
  maxMessageBytes: number
  rateLimitPerSecond: number
  rateLimitBurst: number
  maxDocumentsPerSocket: number
  /** Close a socket that has authenticated nothing after this long. */
  authTimeoutMs: number
  maxConnectionsPerIp: number
  trustProxy: number
  docNameMaxLength: number
  allowedOrigins: string[]
}

export interface GatewayOptions {
  hocuspocus: Hocuspocus
  logger: Logger
  limits: GatewayLimits
  /** Observe every inbound frame (metrics). */
  onFrame?: (frame: Frame, bytes: number) => void
  /** Observe every refused frame or socket, by its catalogue entry (metrics). */
  onReject?: (error: CloseCodeInfo) => void
  /** Where decoded updates are left for the write pipeline (server/pipeline/socket-door.ts). */
  frames?: DecodedFrames
  /** Observe every echo of a client's own update not sent back to it (server/ws/echo.ts; metrics). */
  onEcho?: () => void
  /** Observe every outbound frame: its message type and size (metrics). */
  onSend?: (type: number, bytes: number) => void
  /** Serve stored documents to clients that hold nothing while they load (server/ws/cold-sync.ts). */
  coldSync?: ColdSync
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

/** What Hocuspocus reads of the upgrade request (or the fallback's opening request): a path-only url and the headers. */
export function lightRequest(req: IncomingMessage): Request {
  const headers = new Headers()
  for (const [key, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(key, v)
    else if (value !== undefined) headers.set(key, value)
  }
  return { url: req.url ?? '/', headers } as unknown as Request
}

/**
 * The WebSocket door for the Hocuspocus protocol, in Hocuspocus's library mode:
 * we own the `ws` server, so origins and per-address counts are checked before
 * the upgrade, and every frame passes the frame guard (binary only, rate, full
 * decode, update size, document names and count) before Hocuspocus sees it.
 * An offender is cut off with a named close code; everyone else carries on.
 */
export class Gateway {
  private readonly wss: WebSocketServer
  private readonly options: GatewayOptions
  private readonly perAddress: AddressCounter
  /** Sockets of other transports (the HTTP fallback's sessions), open now. */
  private readonly adopted = new Set<DoorSocket>()

  constructor(options: GatewayOptions) {
    this.options = options
    this.perAddress = new AddressCounter(options.limits.maxConnectionsPerIp)
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.limits.maxMessageBytes, perMessageDeflate: false })
  }

  /** Number of open sockets (WebSockets and HTTP fallback sessions). */
  get size(): number {
    return this.wss.clients.size + this.adopted.size
  }

  /**
   * Count one more connection for a client address, against the same cap as
   * its sockets (MAX_CONNECTIONS_PER_IP); false when at the cap. Give it back
   * with `releaseAddress`.
   */
  acquireAddress(address: string): boolean {
    return this.perAddress.acquire(address)
  }

  releaseAddress(address: string): void {
    this.perAddress.release(address)
  }

  /**
   * Take a socket of another transport (an HTTP fallback session) through the
   * same frame guard, limits, close codes and Hocuspocus connection handling
   * as a WebSocket. Its origin and address were checked by its own door.
   */
  adopt(socket: DoorSocket, request: Request, context: { remoteAddress: string }, door: SocketDoorName = 'http'): void {
    this.adopted.add(socket)
    socket.on('close', () => this.adopted.delete(socket))
    this.accept(socket, request, context, door)
  }

  /**
   * Take over an upgrade, or answer it with an HTTP error (403 foreign origin,
   * 429 too many sockets from one address). `dialect` translates a client
   * protocol other than Hocuspocus's (the y-websocket endpoint).
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, dialect?: Dialect): void {
    const { limits, logger } = this.options
    const address = clientAddress(req, limits.trustProxy)
    if (!originAllowed(req.headers.origin, limits.allowedOrigins)) {
      logger.warn({ origin: req.headers.origin, address }, 'refused a socket from a foreign origin')
      return httpError(socket, 403, 'Forbidden')
    }
    if (!this.perAddress.acquire(address)) {
      logger.warn({ address, max: limits.maxConnectionsPerIp }, 'refused a socket: too many from this address')
      return httpError(socket, 429, 'Too Many Requests')
    }
    // The TCP socket's 'close' comes last, whatever ends the connection.
    socket.once('close', this.releaser(address))
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      ws.binaryType = 'arraybuffer'
      this.accept(ws, lightRequest(req), { remoteAddress: address }, dialect ? 'yws' : 'socket', dialect)
    })
  }

  /**
   * Made in a scope of its own: a closure created in handleUpgrade would share
   * its context, and so keep the whole IncomingMessage alive as long as the socket.
   */
  private releaser(address: string): () => void {
    return () => this.perAddress.release(address)
  }

  private accept(ws: DoorSocket, request: Request, context: { remoteAddress: string }, door: SocketDoorName, dialect?: Dialect): void {
    const { hocuspocus, logger, onSend, onEcho, limits } = this.options
    let refused = false
    const refuse = (info: CloseCodeInfo, detail: string) => {
      if (refused) return
      refused = true
      this.options.onReject?.(info)
      logger.warn({ code: info.code, reason: info.reason, detail, remoteAddress: context.remoteAddress }, 'closing a socket')
      ws.close(info.code, info.reason)
    }
    let authTimer: NodeJS.Timeout | undefined = setTimeout(() => refuse(CloseCode.Timeout, 'no document authenticated in time'), limits.authTimeoutMs)
    authTimer.unref()

    const echoes = new EchoFilter()
    // What Hocuspocus writes to: the socket, seen through our counters (and the dialect).
    const socket = new OutboundSocket(ws, echoes, { onSend, onEcho, dialect, onAuthenticated: () => {
      clearTimeout(authTimer)
      authTimer = undefined
    } })
    const client = hocuspocus.handleConnection(socket, request, context)
    const { coldSync } = this.options
    if (coldSync && !dialect) {
      socket.cold = new ColdHolds({
        coldSync,
        forward: (frame) => client.handleMessage(frame),
        send: (data) =>
          new Promise<void>((resolve) => {
            onSend?.(peekType(data), data.byteLength)
            ws.send(data, () => resolve())
          }),
      })
    }
    const bucket = new TokenBucket(limits.rateLimitPerSecond, limits.rateLimitBurst)
    const documents = new Set<string>()

    ws.on('message', (data: ArrayBuffer, isBinary: boolean) => {
      if (refused) return
      if (!bucket.take()) return refuse(CloseCode.RateLimited, `over ${limits.rateLimitPerSecond}/s`)
      if (!isBinary) return refuse(CloseCode.TextFrame, 'text frames are not part of the protocol')
      const received = new Uint8Array(data)
      const bytes = dialect ? dialect.inbound(received) : received
      if (!bytes) return refuse(CloseCode.UnsupportedMessage, 'message type not accepted on this endpoint')
      const verdict = inspectFrame(bytes)
      if (!verdict.ok) return refuse(verdict.error, verdict.detail)
      const frame = verdict.frame
      if (frame.kind === 'document') {
        if (!documents.has(frame.documentName)) {
          const problem = documentNameProblem(frame.documentName, limits.docNameMaxLength)
          if (problem) return refuse(CloseCode.InvalidDocumentName, problem)
          if (documents.size >= limits.maxDocumentsPerSocket) return refuse(CloseCode.TooManyDocuments, `over ${limits.maxDocumentsPerSocket}`)
          documents.add(frame.documentName)
        }
        // The update's checks are the write pipeline's (server/pipeline); it takes what was decoded here.
        if (frame.update && frame.decoded) {
          this.options.frames?.record(frame.update, frame.decoded, door)
          echoes.remember(frame.address, frame.update)
        } else if (frame.awareness) this.options.frames?.recordAwareness(bytes, frame.awareness)
      }
      this.options.onFrame?.(frame, received.byteLength)
      if (frame.kind === 'pong') return
      if (socket.cold?.inbound(frame, bytes)) return
      client.handleMessage(bytes)
    })
    ws.on('close', (code: number, reason: Buffer) => {
      clearTimeout(authTimer)
      socket.cold?.close()
      client.handleClose({ code, reason: reason.toString() })
    })
    ws.on('error', (error: Error) => logger.warn({ err: error, remoteAddress: context.remoteAddress }, 'websocket error'))
    // A dialect authenticates on the client's behalf (the token came with the URL).
    if (dialect) client.handleMessage(dialect.authFrame())
  }

  /** Close every socket (shutdown). */
  closeAll(info: CloseCodeInfo = CloseCode.GoingAway): void {
    for (const ws of this.wss.clients) {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(info.code, info.reason)
    }
    for (const socket of [...this.adopted]) socket.close(info.code, info.reason)
  }

  close(): void {
    this.wss.close()
  }
}

function httpError(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`)
}
