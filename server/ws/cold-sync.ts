import type * as Y from 'yjs'
import type { StoredDocument } from '../storage/types.ts'
import { SyncStep } from '../../client/protocol.ts'
import { syncMessage } from './frame.ts'
import { SharedStates } from './shared-state.ts'

/**
 * Cold sync: a client that holds nothing gets a document from bytes encoded
 * once — the stored snapshot while the document loads, a shared encoding of
 * it once loaded — never from a `Y.encodeStateAsUpdate` of its own.
 *
 * Loading a large document is mostly Yjs building the `Y.Doc` from the stored
 * state, and then Hocuspocus encoding that whole state again for each client
 * that sent an empty SyncStep1. So those are answered at the door, before
 * Hocuspocus sees them (server/ws/cold-hold.ts):
 *
 * 1. the gateway holds the empty SyncStep1 (and whatever the socket sends for
 *    that document after it, in order) until Hocuspocus tells the socket it is
 *    authenticated for the document; then the socket `join`s here;
 * 2. the document loaded: the socket is sent its shared state
 *    (server/ws/shared-state.ts) and its SyncStep1 goes to Hocuspocus carrying
 *    the state vector of what was sent, so Hocuspocus answers with only what
 *    is past it (usually nothing);
 * 3. the document not loaded yet: the socket waits for its load. Persistence
 *    reads the stored state and offers it: every socket waiting — and every
 *    one that joins until the load is over — gets the stored snapshot as it is
 *    (a Sync update message, so a provider does not count itself synced
 *    before the real answer), before the `Y.Doc` is built; the build waits (at
 *    most `FLUSH_WAIT_MS`) until it is out: building blocks the event loop,
 *    and a large frame only partly fits the socket's buffer. The snapshot
 *    becomes the document's shared state;
 * 4. once the document is loaded (`ready`), each waiting socket's SyncStep1
 *    goes to Hocuspocus carrying the state vector of what it was sent
 *    (sockets that came after a declined offer are sent the shared state
 *    first), followed by what the socket sent after it.
 *
 * Nothing reaches a socket that was not authenticated for the document (a
 * refused socket's held frames are dropped, as Hocuspocus drops its queue).
 * Only a document stored as one compacted snapshot (as after an unload) is
 * served from storage: a log not yet folded may hold deleted content the
 * snapshot would have garbage-collected, or entries Yjs refuses; and only
 * while the document is still empty: content an earlier extension put in
 * while loading would otherwise be counted in the state vector without having
 * been sent. A failed load hands the held frames to Hocuspocus as they were.
 * No private state of Hocuspocus is read or written.
 */
export interface ColdWaiter {
  /** Write a frame to the socket; resolves once it is handed to the kernel (or the socket failed). */
  send(data: Uint8Array): Promise<void>
  /** Hand the held frames to Hocuspocus, in order; the held SyncStep1 replaced by `step1` when given. */
  release(step1?: Uint8Array): void
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
  /** Waiters the stored snapshot was sent to. */
  served: Set<ColdWaiter>
  /** After the build: a SyncStep1 with the snapshot's state vector (what the served waiters hold). */
  step1?: Uint8Array
}

export interface ColdSyncOptions {
  /** Called for every socket served the stored snapshot (metrics). */
  onServe?: () => void
  /** Where loaded documents' shared states live (its `onServe` counts their bytes). */
  shared?: SharedStates
}

export class ColdSync {
  readonly shared: SharedStates
  private readonly loads = new Map<string, Load>()
  /** Documents persistence has loaded, until they are destroyed (unloaded). */
  private readonly documents = new Map<string, Y.Doc>()
  private readonly onServe: (() => void) | undefined

  constructor(options: ColdSyncOptions = {}) {
    this.onServe = options.onServe
    this.shared = options.shared ?? new SharedStates()
  }

  /** A socket authenticated for `documentName` with an empty SyncStep1: served now if the document is loaded, else by its load. Returns a cancel. */
  join(documentName: string, waiter: ColdWaiter): () => void {
    const document = this.documents.get(documentName)
    if (document) {
      this.serveShared(documentName, document, waiter)
      return () => {}
    }
    const load = this.loadOf(documentName)
    load.waiters.add(waiter)
    if (load.frame) void this.serveStored(load, load.frame, waiter)
    return () => {
      load.waiters.delete(waiter)
      load.served.delete(waiter)
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
    const sent = Promise.all([...load.waiters].map((w) => this.serveStored(load, frame, w))).then(() => undefined)
    let timer: NodeJS.Timeout | undefined
    const flushed = Promise.race([sent, new Promise<void>((resolve) => (timer = setTimeout(resolve, FLUSH_WAIT_MS)))]).finally(() => clearTimeout(timer))
    return {
      flushed,
      built: (document, stateVector, exact) => {
        load.step1 = syncMessage(documentName, SyncStep.Step1, stateVector)
        if (exact) this.shared.seed(documentName, document, frame, stateVector)
      },
    }
  }

  /** The document is loaded (persistence's afterLoadDocument): every socket waiting is answered, as are those joining from now on. */
  ready(documentName: string, document: Y.Doc): void {
    this.documents.set(documentName, document)
    document.on('destroy', () => {
      if (this.documents.get(documentName) === document) this.documents.delete(documentName)
    })
    const load = this.loads.get(documentName)
    this.loads.delete(documentName)
    if (!load) return
    for (const w of load.waiters) {
      if (!load.served.has(w)) this.serveShared(documentName, document, w)
      else w.release(load.step1)
    }
  }

  /** The load of `documentName` failed: sockets waiting hand their frames to Hocuspocus as they were. */
  failed(documentName: string): void {
    const load = this.loads.get(documentName)
    this.loads.delete(documentName)
    for (const w of load?.waiters ?? []) w.release()
  }

  private loadOf(documentName: string): Load {
    let load = this.loads.get(documentName)
    if (!load) this.loads.set(documentName, (load = { waiters: new Set(), served: new Set() }))
    return load
  }

  private serveStored(load: Load, frame: Uint8Array, waiter: ColdWaiter): Promise<void> {
    load.served.add(waiter)
    this.onServe?.()
    return waiter.send(frame)
  }

  private serveShared(documentName: string, document: Y.Doc, waiter: ColdWaiter): void {
    const shared = this.shared.get(documentName, document)
    this.shared.served(shared)
    void waiter.send(shared.frame)
    waiter.release(shared.step1)
  }
}
