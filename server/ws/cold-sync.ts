import type { StoredDocument } from '../storage/types.ts'
import { SyncStep } from '../../client/protocol.ts'
import { syncMessage } from './frame.ts'

/**
 * Cold sync: a client that holds nothing gets a stored document while it
 * loads, not after.
 *
 * Loading a large document is mostly Yjs building the `Y.Doc` from the stored
 * state, and then Hocuspocus encoding that whole state again to answer the
 * client's SyncStep1. When the client's SyncStep1 says it has nothing (an
 * empty state vector), the stored bytes already are that answer. So it is
 * answered at the door, before Hocuspocus sees it (server/ws/cold-hold.ts):
 *
 * 1. the gateway holds the empty SyncStep1 (and whatever the socket sends for
 *    that document after it, in order) until Hocuspocus tells the socket it is
 *    authenticated for the document; if the document is not loaded or loading
 *    then, its load is about to start, for this socket, and the socket waits
 *    here;
 * 2. persistence reads the stored state and offers it: every socket waiting
 *    for that document gets the stored snapshot as it is (a Sync update
 *    message, so a provider does not count itself synced before the real
 *    answer), before the `Y.Doc` is built — and the build waits (at most
 *    `FLUSH_WAIT_MS`) until it is out: building blocks the event loop, and a
 *    large frame only partly fits the socket's buffer;
 * 3. once it is built, each socket's held SyncStep1 goes to Hocuspocus
 *    carrying the loaded document's state vector instead, so Hocuspocus
 *    answers with only what changed since (usually nothing), followed by what
 *    the socket sent after it.
 *
 * Nothing reaches a socket that was not authenticated (a refused socket's
 * held frames are dropped, as Hocuspocus drops its queue). Only a document
 * stored as one compacted snapshot (as after an unload) is served: a log not
 * yet folded may hold deleted content the snapshot would have
 * garbage-collected, or entries Yjs refuses; and only while the document is
 * still empty: content an earlier extension put in while loading would
 * otherwise be counted in the state vector without having been sent. In every
 * other case the held frames go to Hocuspocus as they were, and it answers as
 * usual. No private state of Hocuspocus is read or written.
 */
export interface ColdWaiter {
  /** Write a frame to the socket; resolves once it is handed to the kernel (or the socket failed). */
  send(data: Uint8Array): Promise<void>
  /** Hand the held frames to Hocuspocus, in order; the held SyncStep1 replaced by `step1` when given. */
  release(step1?: Uint8Array): void
}

/** Served: call `release` with the loaded document's state vector; `flushed` resolves once the snapshot is out (or after FLUSH_WAIT_MS). */
export interface ColdSyncServed {
  flushed: Promise<void>
  release(stateVector: Uint8Array): void
}

/** The longest a load waits for the stored state to leave (a slow client must not hold up the document for long). */
export const FLUSH_WAIT_MS = 100

export class ColdSync {
  private readonly waiting = new Map<string, Set<ColdWaiter>>()
  private readonly onServe: (() => void) | undefined

  /** `onServe` is called for every cold sync served (metrics). */
  constructor(onServe?: () => void) {
    this.onServe = onServe
  }

  /** A socket authenticated for `documentName` waits with an empty SyncStep1 for its load; returns a cancel. */
  wait(documentName: string, waiter: ColdWaiter): () => void {
    let set = this.waiting.get(documentName)
    if (!set) this.waiting.set(documentName, (set = new Set()))
    set.add(waiter)
    return () => {
      set.delete(waiter)
      if (set.size === 0 && this.waiting.get(documentName) === set) this.waiting.delete(documentName)
    }
  }

  /**
   * Persistence calls this with the stored state of a document it is loading.
   * When sockets wait for it, the stored state is sent to them now, and the
   * result's `release` must be called with the loaded document's state
   * vector; otherwise undefined. `loaded` must follow either way.
   */
  offer(documentName: string, stored: StoredDocument, documentIsEmpty: boolean): ColdSyncServed | undefined {
    const set = this.waiting.get(documentName)
    if (!set || !stored.snapshot || stored.updates.length > 0 || !documentIsEmpty) return undefined
    this.waiting.delete(documentName)
    const waiters = [...set]
    const frame = syncMessage(documentName, SyncStep.Update, stored.snapshot)
    const sent = Promise.all(waiters.map((w) => w.send(frame))).then(() => undefined)
    for (let i = 0; i < waiters.length; i++) this.onServe?.()
    let timer: NodeJS.Timeout | undefined
    const flushed = Promise.race([sent, new Promise<void>((resolve) => (timer = setTimeout(resolve, FLUSH_WAIT_MS)))]).finally(() => clearTimeout(timer))
    return {
      flushed,
      release: (stateVector) => {
        const step1 = syncMessage(documentName, SyncStep.Step1, stateVector)
        for (const w of waiters) w.release(step1)
      },
    }
  }

  /** The load of `documentName` is over (built, or failed): sockets still waiting hand their frames to Hocuspocus as they were. */
  loaded(documentName: string): void {
    const set = this.waiting.get(documentName)
    if (!set) return
    this.waiting.delete(documentName)
    for (const w of set) w.release()
  }
}
