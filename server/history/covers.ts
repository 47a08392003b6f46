import * as Y from 'yjs'

/**
 * Whether the document state `stored` already holds everything in `state`
 * (both full states, `Y.encodeStateAsUpdate`): every item `state` has, and
 * every deletion. Compared as Yjs snapshots (state vector + delete set) rather
 * than bytes, so a replica that is behind (holds less than `stored`) counts as
 * covered too, and how either replica split or merged its items does not matter.
 */
export function covers(stored: Uint8Array, state: Uint8Array): boolean {
  const doc = new Y.Doc({ gc: false })
  try {
    Y.applyUpdate(doc, stored)
    const before = Y.snapshot(doc)
    Y.applyUpdate(doc, state)
    return Y.equalSnapshots(before, Y.snapshot(doc))
  } finally {
    doc.destroy()
  }
}
