import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { onTestFinished } from 'vitest'
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
  /** SyncStep1 frames sent so far, per document address (the server answers each with one SyncStep2). */
  step1Sent: Map<string, number>
  /** Resolves with the first frame received from index `from` on that `match`es; rejects if the socket closes first. */
  next(match: (data: Uint8Array) => boolean, from?: number): Promise<Uint8Array>
}

/** Open a raw WebSocket to the server; terminated when the test ends. */
export async function rawClient(url: string): Promise<RawClient> {
  const ws = new WebSocket(url)
  ws.binaryType = 'arraybuffer'
  const received: Uint8Array[] = []
  const waiters = new Set<(data: Uint8Array) => void>()
  ws.on('message', (d) => {
    const data = new Uint8Array(d as ArrayBuffer)
    received.push(data)
    for (const w of [...waiters]) w(data)
  })
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
  onTestFinished(() => ws.terminate())
  const next = (predicate: (data: Uint8Array) => boolean, from = 0) =>
    new Promise<Uint8Array>((resolve, reject) => {
      // A frame the predicate cannot read (a 1-byte ping, say) is not a match.
      const match = (data: Uint8Array) => {
        try {
          return predicate(data)
        } catch {
          return false
        }
      }
      const seen = received.slice(from).find(match)
      if (seen) return resolve(seen)
      const waiter = (data: Uint8Array) => {
        if (!match(data)) return
        waiters.delete(waiter)
        resolve(data)
      }
      waiters.add(waiter)
      void closed.then((code) => {
        if (!waiters.delete(waiter)) return
        reject(new Error(`socket closed (${code}) before the frame came`))
      })
    })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const step1Sent = new Map<string, number>()
  const send = (data: Uint8Array | string) => {
    if (typeof data !== 'string' && syncStep(data) === SyncStep.Step1) {
      const { address } = readFrame(data)
      step1Sent.set(address, (step1Sent.get(address) ?? 0) + 1)
    }
    ws.send(data)
  }
  return { ws, received, closed, send, step1Sent, next }
}

/** The sync step of a Sync frame; undefined for any other frame, or one that cannot be read. */
export function syncStep(data: Uint8Array): number | undefined {
  try {
    const { type, decoder } = readFrame(data)
    return type === MessageType.Sync ? decoding.readVarUint(decoder) : undefined
  } catch {
    return undefined
  }
}

/**
 * A positive barrier on one document of a raw socket: send a SyncStep1 and
 * wait for the server's SyncStep2 answer. The server handles one socket's
 * messages for a document in order and writes its frames in order, so once the
 * answer is here, everything the server sent for earlier messages is here too.
 * (Hocuspocus 4 sends nothing back for a QueryAwareness from a connection.)
 * Resolves 'open', or 'closed' if the server closed the socket first.
 */
export async function barrier(c: RawClient, documentName: string, stateVector = BARRIER_STATE_VECTOR): Promise<'open' | 'closed'> {
  return (await barrierAt(c, documentName, stateVector)) === -1 ? 'closed' : 'open'
}

/** As `barrier`; the index of the answer in `c.received`, or -1 if the socket closed first. */
export async function barrierAt(c: RawClient, documentName: string, stateVector = BARRIER_STATE_VECTOR): Promise<number> {
  if (c.ws.readyState !== c.ws.OPEN) return -1
  // Each SyncStep1 gets one SyncStep2, in order: ours is the answer after those to the ones sent before.
  const earlier = c.step1Sent.get(documentName) ?? 0
  c.send(updateFrame(documentName, stateVector, SyncStep.Step1))
  let answers = 0
  const answer = c.next((d) => readFrame(d).address === documentName && syncStep(d) === SyncStep.Step2 && answers++ === earlier)
  return Promise.race([answer.then((d) => c.received.indexOf(d), () => -1), c.closed.then(() => -1)])
}

/** A state vector that knows nothing, but is not empty (an empty one asks for a cold sync while a document loads). */
const BARRIER_STATE_VECTOR = Uint8Array.of(1, 1, 0)

/** A raw client that has authenticated `documentName` (open mode) and got its reply. */
export async function authenticatedClient(url: string, documentName: string): Promise<RawClient> {
  const c = await rawClient(url)
  c.send(authFrame(documentName))
  await c.next((d) => authReply(d) !== null)
  return c
}
