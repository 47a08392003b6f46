import { outboundUpdate } from './frame.ts'

/** How many of a socket's recent updates are remembered (a few are in flight at most). */
const REMEMBERED = 8
/** An update whose echo did not come within this many update frames to its socket was merged or re-encoded: forgotten. */
const PATIENCE = 32

interface Sent {
  update: Uint8Array
  /** Update frames to this socket still to look at before it is forgotten. */
  patience: number
}

/** Whether `frame` ends with the bytes of `update` (an update message's payload is its last bytes). */
function endsWith(frame: Uint8Array, update: Uint8Array): boolean {
  const offset = frame.byteLength - update.byteLength
  if (offset < 3) return false
  for (let i = update.byteLength - 1; i >= 0; i--) if (frame[offset + i] !== update[i]) return false
  return true
}

/**
 * The echo of a client's own update. Hocuspocus 4.7's `Document` broadcasts
 * every applied update to every connection of the document, the sender
 * included: one socket write per edit that tells the sender nothing. The
 * gateway remembers the updates a socket sent and drops an outbound Sync
 * Update frame to that socket only when its update is byte for byte one of
 * them — never one that carries anybody else's changes (a broadcast that
 * merged several clients' updates, or Yjs encoding the change differently,
 * is sent as usual, and the remembered update is forgotten soon after).
 * Dropping it is safe: the sender made those changes.
 */
export class EchoFilter {
  private sent: Sent[] | undefined

  /** An update this socket sent, on its way to the document. */
  remember(update: Uint8Array): void {
    this.sent ??= []
    if (this.sent.length >= REMEMBERED) this.sent.shift()
    this.sent.push({ update, patience: PATIENCE })
  }

  /** Whether `frame` (a Sync message), about to go to this socket, only echoes an update it sent (then it is forgotten). */
  isEcho(frame: Uint8Array): boolean {
    const sent = this.sent
    if (!sent || sent.length === 0) return false
    let match = -1
    for (let i = 0; i < sent.length; i++) {
      if (match === -1 && endsWith(frame, sent[i]!.update)) match = i
    }
    // A cheap tail match first; then the frame is read to be sure it is an update message carrying exactly that update.
    const found = match === -1 ? undefined : sent[match]!
    if (found) {
      const update = outboundUpdate(frame)
      if (update !== undefined && update.byteLength === found.update.byteLength) {
        sent.splice(match, 1)
        return true
      }
    }
    for (let i = sent.length - 1; i >= 0; i--) if (--sent[i]!.patience <= 0) sent.splice(i, 1)
    return false
  }
}
