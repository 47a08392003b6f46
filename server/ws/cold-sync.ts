import type * as Y from 'yjs'
import type { StoredDocument } from '../storage/types.ts'
import { SyncStep } from '../../client/protocol.ts'
import { syncMessage } from './frame.ts'
import { SharedStates } from './shared-state.ts'

/**
 * Cold sync: a client's SyncStep1 is answered from bytes encoded once — the
 * stored snapshot while the document loads, then an answer shared by every
 * client that asks the same (server/ws/shared-state.ts) — instead of
 * Hocuspocus encoding the document again for each client.
 *
 * 1. the gateway holds a socket's first SyncStep1 for a document (and
 *    whatever the socket sends for it after that, in order) until Hocuspocus
 *    tells the socket it is authenticated for the document
 *    (server/ws/cold-hold.ts);
 * 2. a client that holds nothing (an empty state vector), for a document not
 *    loaded yet, then waits for its load here: persistence reads the stored
 *    state and offers it, and every socket waiting — and every one that joins
 *    until the load is over — gets the stored snapshot as it is (a Sync
 *    update message, so a provider does not count itself synced before the
 *    real answer), before the `Y.Doc` is built; the build waits (at most
 *    `FLUSH_WAIT_MS`) until it is out: building blocks the event loop, and a
 *    large frame only partly fits the socket's buffer. The snapshot becomes
 *    the document's shared answer for an empty state vector;
 * 3. once Hocuspocus has set up the socket's connection to the loaded
 *    document (its `connected` hook), the held SyncStep1 is answered at the
 *    door with the shared answer — the server's SyncStep1 and the SyncStep2
 *    Hocuspocus would have sent (only an empty one for a client sent the
 *    snapshot, while the document still holds exactly it) — and what the
 *    socket sent after it goes to Hocuspocus. The connection is set up
 *    first, so every change after the answer reaches the socket as usual.
 *
 * Nothing reaches a socket that was not authenticated for the document (a
 * refused socket's held frames are dropped, as Hocuspocus drops its queue).
 * Only a document stored as one compacted snapshot (as after an unload) is
 * served from storage: a log not yet folded may hold deleted content the
 * snapshot would have garbage-collected, or entries Yjs refuses; and only
 * while the document is still empty: content an earlier extension put in
 * while loading would otherwise be missed. A failed load hands the held
 * frames to Hocuspocus as they were. No private state of Hocuspocus is read
 * or written.
 */
export interface ColdWaiter {
  /** Write a frame to the socket; resolves once it is handed to the kernel (or the socket failed). */
  send(data: Uint8Array): Promise<void>
  /** Hand the held frames to Hocuspocus as they were (the load failed). */
  release(): void
  /** It was sent the stored snapshot. */
  servedSnapshot(): void
}

/** Served from storage: `flushed` resolves once the snapshot is out (or after FLUSH_WAIT_MS); call `built` after the build. */
export interface ColdSyncServed {
  flushed: Promise<void>
  /** The document is built from the snapshot: its state vector now, and whether it holds exactly the snapshot (nothing parked). */
  built(document: Y.Doc, stateVector: Uint8Array, exact: boolean): void
}

/** The longest a load waits for the stored state to leave (a slow client must not hold up the document for long). */
export const FLUSH_WAIT_MS = 100

/** One document's load, as the sockets waiting for it see it. */
interface Load {
  waiters: Set<ColdWaiter>
  /** The stored snapshot as a frame, once offered: sockets joining later get it at once. */
  frame?: Uint8Array
}

export interface ColdSyncOptions {
  /** Called for every socket sent the stored snapshot (metrics). */
  onServe?: () => void
  /** Where loaded documents' shared answers live (its `onServe` counts their bytes). */
  shared?: SharedStates
}

export class ColdSync {
  readonly shared: SharedStates
  private readonly loads = new Map<string, Load>()
  /** Documents persistence has loaded, until they are destroyed (unloaded). */
  private readonly documents = new Map<string, Y.Doc>()
  /** The state vector of the stored snapshot a document was built from (what the clients sent it hold). */
  private readonly snapshots = new WeakMap<Y.Doc, Uint8Array>()
  private readonly onServe: (() => void) | undefined

  constructor(options: ColdSyncOptions = {}) {
    this.onServe = options.onServe
    this.shared = options.shared ?? new SharedStates()
  }

  /** A socket authenticated for `documentName` that holds nothing: sent the stored snapshot if the document's load offers it. Returns a cancel. */
  join(documentName: string, waiter: ColdWaiter): () => void {
    if (this.documents.has(documentName)) return () => {}
    const load = this.loadOf(documentName)
    load.waiters.add(waiter)
    if (load.frame) void this.serveStored(load.frame, waiter)
    return () => {
      load.waiters.delete(waiter)
      if (load.waiters.size === 0 && !load.frame && this.loads.get(documentName) === load) this.loads.delete(documentName)
    }
  }

  /**
   * Persistence calls this with the stored state of a document it is loading.
   * When it is a snapshot alone and the document is still empty, the snapshot
   * is sent now to every socket waiting (and to those joining until `ready`),
   * and the result's `built` must be called after the build; otherwise undefined.
   */
  offer(documentName: string, stored: StoredDocument, documentIsEmpty: boolean): ColdSyncServed | undefined {
    if (!stored.snapshot || stored.updates.length > 0 || !documentIsEmpty) return undefined
    const load = this.loadOf(documentName)
    const frame = syncMessage(documentName, SyncStep.Update, stored.snapshot)
    load.frame = frame
    const sent = Promise.all([...load.waiters].map((w) => this.serveStored(frame, w))).then(() => undefined)
    let timer: NodeJS.Timeout | undefined
    const flushed = Promise.race([sent, new Promise<void>((resolve) => (timer = setTimeout(resolve, FLUSH_WAIT_MS)))]).finally(() => clearTimeout(timer))
    return {
      flushed,
      built: (document, stateVector, exact) => {
        this.snapshots.set(document, stateVector)
        if (exact) this.shared.seed(documentName, document, frame, stateVector)
      },
    }
  }

  /** The document is loaded (persistence's afterLoadDocument): its load is over for the sockets waiting, which are answered once connected. */
  ready(documentName: string, document: Y.Doc): void {
    this.documents.set(documentName, document)
    document.on('destroy', () => {
      if (this.documents.get(documentName) === document) this.documents.delete(documentName)
    })
    this.loads.delete(documentName)
  }

  /** The load of `documentName` failed: sockets waiting hand their frames to Hocuspocus as they were. */
  failed(documentName: string): void {
    const load = this.loads.get(documentName)
    this.loads.delete(documentName)
    for (const w of load?.waiters ?? []) w.release()
  }

  /** The state vector of the stored snapshot `document` was built from, if it was. */
  snapshotVector(document: Y.Doc): Uint8Array | undefined {
    return this.snapshots.get(document)
  }

  private loadOf(documentName: string): Load {
    let load = this.loads.get(documentName)
    if (!load) this.loads.set(documentName, (load = { waiters: new Set() }))
    return load
  }

  private serveStored(frame: Uint8Array, waiter: ColdWaiter): Promise<void> {
    waiter.servedSnapshot()
    this.onServe?.()
    return waiter.send(frame)
  }
}
