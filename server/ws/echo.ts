import { outboundUpdate, sameBytes } from './frame.ts'

/** How many of a socket's recent updates are remembered (a few are in flight at most; older ones were broadcast already). */
const REMEMBERED = 8

/**
 * The echo of a client's own update. Hocuspocus 4.7's `Document` broadcasts
 * every applied update to every connection of the document, the sender
 * included: one socket write per edit that tells the sender nothing. The
 * gateway remembers the updates a socket sent and drops an outbound Sync
 * Update frame to that socket only when its update is byte for byte one of
 * them — never one that carries anybody else's changes (a broadcast that
 * merged several clients' updates, or Yjs encoding the change differently,
 * is sent as usual). Dropping it is safe: the sender made those changes.
 */
export class EchoFilter {
  private sent: Uint8Array[] | undefined

  /** An update this socket sent, on its way to the document. */
  remember(update: Uint8Array): void {
    this.sent ??= []
    if (this.sent.length >= REMEMBERED) this.sent.shift()
    this.sent.push(update)
  }

  /** Whether `frame`, about to go to this socket, only echoes an update it sent (then it is forgotten). */
  isEcho(frame: Uint8Array): boolean {
    if (!this.sent || this.sent.length === 0) return false
    const update = outboundUpdate(frame)
    if (!update) return false
    const index = this.sent.findIndex((u) => sameBytes(u, update))
    if (index === -1) return false
    this.sent.splice(index, 1)
    return true
  }
}
