import { MessageType, SyncStep } from '../../client/protocol.ts'

/** How many of a socket's recent updates are remembered (a few are in flight at most). */
const REMEMBERED = 8
/** An update whose echo did not come within this many update frames to its socket was merged or re-encoded: forgotten. */
const PATIENCE = 32
/** Larger updates are not remembered (their echo is sent): what a socket makes the server keep stays small. */
const MAX_REMEMBERED_BYTES = 2048

const utf8 = new TextEncoder()

interface Sent {
  /** The address (document name, or `name\0session`) as the frame header carries it: UTF-8. */
  address: Uint8Array
  /** A copy of the update: never a view of the inbound frame, which would keep it (and its decoded structs) alive. */
  update: Uint8Array
  /** The byte length of the Sync Update frame that would carry it back (most frames are told apart by that alone). */
  frameLength: number
  /** The socket's update-frame count past which this is forgotten. */
  due: number
}

/** Bytes of `n` as a varUint. */
const varUintLength = (n: number) => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5)

function equalAt(frame: Uint8Array, at: number, bytes: Uint8Array): boolean {
  for (let i = bytes.byteLength - 1; i >= 0; i--) if (frame[at + i] !== bytes[i]) return false
  return true
}

/**
 * The echo of a client's own update. Hocuspocus 4.7's `Document` broadcasts
 * every applied update to every connection of the document, the sender
 * included: one socket write per edit that tells the sender nothing. The
 * gateway remembers, per socket, the small updates it sent and for which
 * address; an outbound Sync Update frame to that socket is dropped only when
 * it is for that same address (another session of the document on the same
 * socket is another receiver) and its update is byte for byte one of them —
 * never one that carries anybody else's changes (a broadcast that merged
 * several clients' updates, or Yjs encoding the change differently, is sent
 * as usual, and the remembered update is forgotten soon after). Dropping it
 * is safe: that session made those changes.
 */
export class EchoFilter {
  private sent: Sent[] | undefined
  /** Update frames looked at so far (the clock of `due`). */
  private frames = 0
  /** The last address remembered, and its UTF-8 (a socket's updates are mostly for one document). */
  private lastAddress = ''
  private lastEncoded: Uint8Array = new Uint8Array(0)

  /** An update this socket sent for `address`, on its way to the document. */
  remember(address: string, update: Uint8Array): void {
    if (update.byteLength > MAX_REMEMBERED_BYTES) return
    this.sent ??= []
    if (this.sent.length >= REMEMBERED) this.sent.shift()
    if (address !== this.lastAddress) {
      this.lastAddress = address
      this.lastEncoded = utf8.encode(address)
    }
    const encoded = this.lastEncoded
    const frameLength = varUintLength(encoded.byteLength) + encoded.byteLength + 2 + varUintLength(update.byteLength) + update.byteLength
    this.sent.push({ address: encoded, update: update.slice(), frameLength, due: this.frames + PATIENCE })
  }

  /** Whether `frame`, about to go to this socket, only echoes an update it sent for the frame's address (then it is forgotten). */
  isEcho(frame: Uint8Array): boolean {
    const sent = this.sent
    if (!sent || sent.length === 0) return false
    const frames = ++this.frames
    let candidate = false
    for (let i = 0; i < sent.length; i++) if (sent[i]!.frameLength === frame.byteLength) candidate = true
    if (!candidate) {
      // Oldest first: forget what waited too long.
      while (sent.length > 0 && sent[0]!.due <= frames) sent.shift()
      return false
    }
    // The header: address (varString), message type and sync step (one byte each: Sync 0, Update 2), the update (varUint8Array) to the end.
    let pos = 0
    let addressLength = 0
    let shift = 1
    let byte: number
    do {
      byte = frame[pos++] ?? 0
      addressLength += (byte & 0x7f) * shift
      shift *= 128
    } while (byte >= 0x80 && pos < 8)
    const addressAt = pos
    pos += addressLength
    if (frame[pos] !== MessageType.Sync || frame[pos + 1] !== SyncStep.Update) return false
    pos += 2
    let size = 0
    shift = 1
    const sizeAt = pos
    do {
      byte = frame[pos++] ?? 0
      size += (byte & 0x7f) * shift
      shift *= 128
    } while (byte >= 0x80 && pos < sizeAt + 8)
    if (pos + size !== frame.byteLength) return false
    for (let i = 0; i < sent.length; i++) {
      const s = sent[i]!
      if (s.update.byteLength !== size || s.address.byteLength !== addressLength) continue
      if (!equalAt(frame, pos, s.update) || !equalAt(frame, addressAt, s.address)) continue
      sent.splice(i, 1)
      return true
    }
    // Oldest first: forget what waited too long.
    while (sent.length > 0 && sent[0]!.due <= frames) sent.shift()
    return false
  }
}
