/**
 * The HTTP fallback (client/http-socket.ts) behind the surface the light
 * client uses of a `ws` socket (`on`, `send`, `readyState`, `terminate`), so
 * the same protocol-level editor runs over a WebSocket or over the fallback.
 */
import { EventEmitter } from 'node:events'
import { HttpSocket } from '../../client/http-socket.ts'

export class HttpWs extends EventEmitter {
  binaryType = 'nodebuffer'
  private readonly socket: HttpSocket

  /** `token`: the Bearer token of the session's requests (token-mode targets). */
  constructor(url: string, token?: string) {
    super()
    this.socket = new HttpSocket(url, token ? { token: () => token } : {})
    this.socket.addEventListener('open', () => this.emit('open'))
    this.socket.addEventListener('message', (event) => this.emit('message', Buffer.from((event as MessageEvent<ArrayBuffer>).data)))
    this.socket.addEventListener('error', () => this.emit('error', new Error('http fallback: request failed')))
    this.socket.addEventListener('close', (event) => this.emit('close', (event as Event & { code?: number }).code ?? 1006))
  }

  get readyState(): number {
    return this.socket.readyState
  }

  send(data: Uint8Array): void {
    this.socket.send(data)
  }

  terminate(): void {
    this.socket.close()
  }
}
