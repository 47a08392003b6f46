import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { onTestFinished, vi } from 'vitest'
import WebSocket from 'ws'
import { AuthType, MessageType, SyncStep } from '../../client/protocol.ts'

/** Frame builders for a raw protocol-level client (hostile-input tests). */
export function frame(documentName: string, type: number, write: (e: encoding.Encoder) => void = () => {}): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarString(e, documentName)
  encoding.writeVarUint(e, type)
  write(e)
  return encoding.toUint8Array(e)
}

export const authFrame = (name: string, token = 'open') =>
  frame(name, MessageType.Auth, (e) => {
    encoding.writeVarUint(e, AuthType.Token)
    encoding.writeVarString(e, token)
  })

export const updateFrame = (name: string, update: Uint8Array, step: number = SyncStep.Update) =>
  frame(name, MessageType.Sync, (e) => {
    encoding.writeVarUint(e, step)
    encoding.writeVarUint8Array(e, update)
  })

export const awarenessFrame = (name: string, payload: Uint8Array) =>
  frame(name, MessageType.Awareness, (e) => encoding.writeVarUint8Array(e, payload))

/** A server frame's address and type, with a decoder at its payload. */
export function readFrame(data: Uint8Array): { address: string; type: number; decoder: decoding.Decoder } {
  const decoder = decoding.createDecoder(data)
  const address = decoding.readVarString(decoder)
  return { address, type: decoding.readVarUint(decoder), decoder }
}

/** The server's answer to an Auth message: `{ denied: reason }`, `{ scope }` when authenticated, or null for other frames. */
export function authReply(data: Uint8Array): { denied: string } | { scope: string } | null {
  const { type, decoder } = readFrame(data)
  if (type !== MessageType.Auth) return null
  const sub = decoding.readVarUint(decoder)
  if (sub === AuthType.PermissionDenied) return { denied: decoding.readVarString(decoder) }
  if (sub === AuthType.Authenticated) return { scope: decoding.readVarString(decoder) }
  return null
}

/** An awareness update payload with arbitrary entries: [clientId, clock, rawJsonString]. */
export function awarenessPayload(entries: Array<[number, number, string]>): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, entries.length)
  for (const [client, clock, json] of entries) {
    encoding.writeVarUint(e, client)
    encoding.writeVarUint(e, clock)
    encoding.writeVarString(e, json)
  }
  return encoding.toUint8Array(e)
}

export interface RawClient {
  ws: WebSocket
  /** Frames received so far. */
  received: Uint8Array[]
  /** Resolves with the close code. */
  closed: Promise<number>
  send(data: Uint8Array | string): void
}

/** Open a raw WebSocket to the server; terminated when the test ends. */
export async function rawClient(url: string): Promise<RawClient> {
  const ws = new WebSocket(url)
  ws.binaryType = 'arraybuffer'
  const received: Uint8Array[] = []
  ws.on('message', (d) => received.push(new Uint8Array(d as ArrayBuffer)))
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
  onTestFinished(() => ws.terminate())
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  return { ws, received, closed, send: (data) => ws.send(data) }
}

/** A raw client that has authenticated `documentName` (open mode) and got its reply. */
export async function authenticatedClient(url: string, documentName: string): Promise<RawClient> {
  const c = await rawClient(url)
  c.send(authFrame(documentName))
  await vi.waitFor(() => {
    if (c.received.length === 0) throw new Error('no auth reply yet')
  }, { timeout: 10_000, interval: 5 })
  return c
}
