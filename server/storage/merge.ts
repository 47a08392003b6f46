import * as Y from 'yjs'
import type { StoredDocument } from './types.ts'

/**
 * Fold a snapshot and its log into one state update. Goes through a Y.Doc (not
 * Y.mergeUpdates) so deleted content is garbage-collected; updates still
 * waiting for missing dependencies are carried over, not dropped.
 */
export function foldState(stored: StoredDocument): Uint8Array {
  const doc = new Y.Doc()
  try {
    applyStored(doc, stored)
    return Y.encodeStateAsUpdate(doc)
  } finally {
    doc.destroy()
  }
}

/**
 * Apply stored state to a document. Each entry is applied on its own, so one
 * entry that Yjs refuses does not keep the rest of the document from loading;
 * the count of refused entries is returned for the caller to report.
 */
export function applyStored(doc: Y.Doc, stored: StoredDocument, origin?: unknown): number {
  let refused = 0
  const parts = stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates
  doc.transact(() => {
    for (const part of parts) {
      try {
        Y.applyUpdate(doc, part, origin)
      } catch {
        refused += 1
      }
    }
  }, origin)
  return refused
}
