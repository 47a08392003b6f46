import type { SocketDoorName } from './door-socket.ts'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { AuthType, Errors, MessageType, SyncStep } from '../../client/protocol.ts'
import type { DecodedUpdate } from '../chat/effects.ts'

/**
 * The one decoder of inbound frames. Every frame is read completely here,
 * before Hocuspocus sees it: a frame that does not decode — a truncated Yjs
 * update, a bad awareness entry, an unknown or server-only message type — is
 * refused as a whole, so nothing of it reaches a document or the disk.
 *
 * The frame must be a view over its own ArrayBuffer (ws `binaryType =
 * 'arraybuffer'`): lib0 creates sub-views from the underlying buffer, which
 * would read past the frame into neighbouring data if the frame were a slice of
 * a pooled Node Buffer.
 */
export type Frame =
  | { kind: 'pong' }
  | {
      kind: 'document'
      /** The address: `documentName` or `documentName\0sessionId`. */
      address: string
      documentName: string
      type: MessageType
      /** For Sync/SyncReply: the y-protocols sub-type. */
      syncStep?: number
      /** For Sync Step1: the state vector it carries. */
      stateVector?: Uint8Array
      /** For Sync Step2/Update: the Yjs update it carries... */
      update?: Uint8Array
      /** ...and its structs and delete set, decoded once here for the write pipeline. */
      decoded?: DecodedUpdate
      /** For Awareness: its entries, as the client sent them. */
      awareness?: AwarenessEntry[]
    }

/** Why a frame is refused: an entry of the catalogue. */
export type FrameRejection = typeof Errors.MalformedMessage | typeof Errors.UnsupportedMessage

export type FrameVerdict = { ok: true; frame: Frame } | { ok: false; error: FrameRejection; detail: string }

class Rejection extends Error {
  readonly error: FrameRejection
  constructor(error: FrameRejection, detail: string) {
    super(detail)
    this.error = error
  }
}

/** Decode and validate one inbound binary frame. Never throws. */
export function inspectFrame(data: Uint8Array): FrameVerdict {
  if (data.byteLength === 1 && data[0] === MessageType.Pong) return { ok: true, frame: { kind: 'pong' } }
  try {
    return { ok: true, frame: decodeFrame(decoding.createDecoder(data)) }
  } catch (error) {
    if (error instanceof Rejection) return { ok: false, error: error.error, detail: error.message }
    return { ok: false, error: Errors.MalformedMessage, detail: error instanceof Error ? error.message : String(error) }
  }
}

function decodeFrame(decoder: decoding.Decoder): Frame {
  const address = decoding.readVarString(decoder)
  const sep = address.indexOf('\0')
  const documentName = sep === -1 ? address : address.slice(0, sep)
  if (documentName.length === 0) throw new Rejection(Errors.MalformedMessage, 'empty document name')
  const type = decoding.readVarUint(decoder) as MessageType
  const frame: Frame = { kind: 'document', address, documentName, type }

  switch (type) {
    case MessageType.Sync:
    case MessageType.SyncReply: {
      const step = decoding.readVarUint(decoder)
      frame.syncStep = step
      const payload = decoding.readVarUint8Array(decoder)
      if (step === SyncStep.Step1) {
        Y.decodeStateVector(payload)
        frame.stateVector = payload
      } else if (step === SyncStep.Step2 || step === SyncStep.Update) {
        frame.decoded = Y.decodeUpdate(payload)
        frame.update = payload
      } else throw new Rejection(Errors.MalformedMessage, `unknown sync step ${step}`)
      break
    }
    case MessageType.Awareness:
      frame.awareness = readAwarenessUpdate(decoding.readVarUint8Array(decoder))
      break
    case MessageType.Auth: {
      const authType = decoding.readVarUint(decoder)
      if (authType !== AuthType.Token) throw new Rejection(Errors.UnsupportedMessage, `auth sub-type ${authType} from a client`)
      decoding.readVarString(decoder)
      if (decoding.hasContent(decoder)) decoding.readVarString(decoder) // provider version
      break
    }
    case MessageType.Stateless:
      decoding.readVarString(decoder)
      break
    case MessageType.QueryAwareness:
    case MessageType.Close:
      break
    default:
      throw new Rejection(Errors.UnsupportedMessage, `message type ${type} may not be sent by a client`)
  }
  return frame
}

/** One entry of an inbound awareness update, as the client sent it. */
export interface AwarenessEntry {
  readonly id: number
  readonly clock: number
  /** Bytes of its JSON state. */
  readonly bytes: number
  /** The state is null: the client removes itself. */
  readonly removal: boolean
}

/** Read a y-protocols awareness update fully. */
export function readAwarenessUpdate(update: Uint8Array): AwarenessEntry[] {
  const decoder = decoding.createDecoder(update)
  const count = decoding.readVarUint(decoder)
  const entries: AwarenessEntry[] = []
  for (let i = 0; i < count; i++) {
    const id = decoding.readVarUint(decoder)
    const clock = decoding.readVarUint(decoder)
    const json = decoding.readVarString(decoder)
    const state: unknown = JSON.parse(json)
    if (state !== null && (typeof state !== 'object' || Array.isArray(state))) {
      throw new Rejection(Errors.MalformedMessage, 'awareness state is not an object or null')
    }
    entries.push({ id, clock, bytes: Buffer.byteLength(json), removal: state === null })
  }
  if (decoding.hasContent(decoder)) throw new Rejection(Errors.MalformedMessage, 'trailing bytes after awareness entries')
  return entries
}

/** The message type of an outbound frame (for metrics); -1 if it cannot be read. */
export function peekType(data: Uint8Array): number {
  if (data.byteLength === 1) return data[0]!
  try {
    const decoder = decoding.createDecoder(data)
    const nameLength = decoding.readVarUint(decoder)
    decoder.pos += nameLength
    return decoding.readVarUint(decoder)
  } catch {
    return -1
  }
}

/** An outbound Auth reply: for which address, and whether it authenticated (else: permission denied). */
export function authReplyOf(data: Uint8Array): { address: string; authenticated: boolean } | undefined {
  try {
    const d = decoding.createDecoder(data)
    const address = decoding.readVarString(d)
    if (decoding.readVarUint(d) !== MessageType.Auth) return undefined
    const authType = decoding.readVarUint(d)
    if (authType === AuthType.Authenticated) return { address, authenticated: true }
    if (authType === AuthType.PermissionDenied) return { address, authenticated: false }
    return undefined
  } catch {
    return undefined
  }
}

/** The update an outbound Sync Update frame carries, or undefined for any other frame. */
export function outboundUpdate(data: Uint8Array): Uint8Array | undefined {
  try {
    const decoder = decoding.createDecoder(data)
    const addressLength = decoding.readVarUint(decoder)
    decoder.pos += addressLength
    if (decoding.readVarUint(decoder) !== MessageType.Sync || decoding.readVarUint(decoder) !== SyncStep.Update) return undefined
    return decoding.readVarUint8Array(decoder)
  } catch {
    return undefined
  }
}

/** Whether two byte arrays hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
}

/** A server Sync message: `address`, the y-protocols step, its payload (a state vector or an update). */
export function syncMessage(address: string, step: number, payload: Uint8Array): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarString(e, address)
  encoding.writeVarUint(e, MessageType.Sync)
  encoding.writeVarUint(e, step)
  encoding.writeVarUint8Array(e, payload)
  return encoding.toUint8Array(e)
}

/** What the door decoded of one update: the write pipeline takes it instead of decoding again. */
export interface DecodedAtDoor {
  readonly update: Uint8Array
  readonly decoded: DecodedUpdate
  /** The Hocuspocus socket, the y-websocket endpoint or the HTTP fallback. */
  readonly door: SocketDoorName
}

/** The slot a DecodedFrames keeps its entry in, on the frame's own ArrayBuffer. */
type Slots = Record<symbol, DecodedAtDoor | AwarenessEntry[] | undefined>

/**
 * What the gateway decoded, found again by the hooks that need it — the write
 * pipeline from the payload Hocuspocus hands `beforeSync` (a view of the same
 * frame: each frame is its own ArrayBuffer, at the same offset), the awareness
 * guard from the frame `beforeHandleMessage` gets. Kept on the frame's
 * ArrayBuffer under a symbol of this instance: an entry goes with its frame,
 * with no weak table for the collector to trace (a WeakMap entry per frame
 * showed in profiles).
 */
export class DecodedFrames {
  private readonly updateKey = Symbol('decoded update')
  private readonly awarenessKey = Symbol('decoded awareness')

  record(update: Uint8Array, decoded: DecodedUpdate, door: DecodedAtDoor['door']): void {
    ;(update.buffer as unknown as Slots)[this.updateKey] = { update, decoded, door }
  }

  recordAwareness(frame: Uint8Array, entries: AwarenessEntry[]): void {
    ;(frame.buffer as unknown as Slots)[this.awarenessKey] = entries
  }

  /** What the door decoded of `payload`, or undefined when it came another way. */
  find(payload: Uint8Array): DecodedAtDoor | undefined {
    const found = (payload.buffer as unknown as Slots)[this.updateKey] as DecodedAtDoor | undefined
    if (!found || found.update.byteOffset !== payload.byteOffset || found.update.byteLength !== payload.byteLength) return undefined
    return found
  }

  /** The entries of an awareness frame the door decoded; undefined for any other frame. */
  awarenessOf(frame: Uint8Array): AwarenessEntry[] | undefined {
    return (frame.buffer as unknown as Slots)[this.awarenessKey] as AwarenessEntry[] | undefined
  }
}
