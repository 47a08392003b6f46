/**
 * The storage contract. Every backend keeps, per document, an append-only log of
 * Yjs updates and at most one snapshot (the log folded up to some point).
 *
 * The durability rule the server builds on: when `append` resolves, the update
 * is in the storage that the next `load` reads. The server acknowledges an
 * update to a client only after that.
 */
export interface StoredDocument {
  /** The folded state, or null if the document was never compacted. */
  snapshot: Uint8Array | null
  /** Updates appended after the snapshot, oldest first. */
  updates: Uint8Array[]
}

export interface DocumentInfo {
  name: string
  /** Bytes held for the document (snapshot + log). */
  bytes: number
  /** Last append or compaction, ms since the epoch. */
  updatedAt: number
}

export interface Storage {
  /** Read the document's snapshot and the log after it. A missing document reads as empty. */
  load(name: string): Promise<StoredDocument>
  /** Durably append one update. Resolves only when it is stored. */
  append(name: string, update: Uint8Array): Promise<void>
  /**
   * Fold the snapshot and log into a new snapshot in one transaction, never
   * losing an append that races it. Returns the number of log entries folded.
   */
  compact(name: string): Promise<number>
  /** Number and bytes of log entries not yet folded into the snapshot. */
  logSize(name: string): Promise<{ count: number; bytes: number }>
  /** Known documents, ordered by name, paged. */
  list(options?: { after?: string; limit?: number }): Promise<DocumentInfo[]>
  /** Remove a document and its log. */
  delete(name: string): Promise<void>
  /** Throws when the storage cannot currently write `bytes` more (a write that is rolled back). */
  checkWritable(bytes?: number): Promise<void>
  close(): Promise<void>
}
