/**
 * Frames for the two wire dialects the targets speak.
 *
 * - `hocuspocus`: varString(documentName) + varUint(type) + payload; one socket
 *   may carry many documents; an Auth frame must precede the rest.
 * - `yws` (y-websocket): varUint(type) + payload, the room is in the URL.
 *
 * Builders return whole frames; `readFrame` splits an inbound frame into its
 * document, type and a decoder positioned at the payload.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { AuthType, MessageType, SyncStep } from '../../client/protocol.ts'

export type Dialect = 'hocuspocus' | 'yws'

export { AuthType, MessageType, SyncStep }

function header(dialect: Dialect, documentName: string, type: number): encoding.Encoder {
  const encoder = encoding.createEncoder()
  if (dialect === 'hocuspocus') encoding.writeVarString(encoder, documentName)
  encoding.writeVarUint(encoder, type)
  return encoder
}

export function authFrame(documentName: string, token: string): Uint8Array {
  const encoder = header('hocuspocus', documentName, MessageType.Auth)
  encoding.writeVarUint(encoder, AuthType.Token)
  encoding.writeVarString(encoder, token)
  return encoding.toUint8Array(encoder)
}

/** A y-protocols sync message: step 1 carries a state vector, step 2 and update carry an update. */
export function syncFrame(dialect: Dialect, documentName: string, step: number, payload: Uint8Array): Uint8Array {
  const encoder = header(dialect, documentName, MessageType.Sync)
  encoding.writeVarUint(encoder, step)
  encoding.writeVarUint8Array(encoder, payload)
  return encoding.toUint8Array(encoder)
}

export interface InboundFrame {
  /** Empty for the yws dialect. */
  documentName: string
  type: number
  decoder: decoding.Decoder
}

/** Split an inbound frame; throws on a frame that does not decode. */
export function readFrame(dialect: Dialect, data: Uint8Array): InboundFrame {
  const decoder = decoding.createDecoder(data)
  const documentName = dialect === 'hocuspocus' ? decoding.readVarString(decoder) : ''
  const type = decoding.readVarUint(decoder)
  return { documentName, type, decoder }
}

/** Read a sync payload: its step and the bytes (state vector or update). */
export function readSync(decoder: decoding.Decoder): { step: number; payload: Uint8Array } {
  const step = decoding.readVarUint(decoder)
  return { step, payload: decoding.readVarUint8Array(decoder) }
}

/** A y-protocols awareness update (the announce or removal of presence states). */
export function awarenessFrame(dialect: Dialect, documentName: string, update: Uint8Array): Uint8Array {
  const encoder = header(dialect, documentName, MessageType.Awareness)
  encoding.writeVarUint8Array(encoder, update)
  return encoding.toUint8Array(encoder)
}
