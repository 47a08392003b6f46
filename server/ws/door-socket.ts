/**
 * What the gateway needs of a socket, whatever carries its frames: the `ws`
 * package's WebSocket (binaryType `arraybuffer`), or an HTTP fallback session
 * (server/http/fallback/session.ts), which plays a socket for the gateway and
 * Hocuspocus so every door rule holds on it with no second implementation.
 */
export interface DoorSocket {
  /** WebSocket ready states: 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number
  send(data: Uint8Array, callback?: (error?: Error) => void): void
  close(code?: number, reason?: string): void
  on(event: 'message', listener: (data: ArrayBuffer, isBinary: boolean) => void): unknown
  on(event: 'close', listener: (code: number, reason: Buffer) => void): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
}

/** The door a frame came in by, for the write pipeline and metrics. */
export type SocketDoorName = 'socket' | 'yws' | 'http'
