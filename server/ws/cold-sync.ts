import * as Y from 'yjs'
import type { StoredDocument } from '../storage/types.ts'
import { SyncStep } from '../../client/protocol.ts'
import { syncMessage } from './frame.ts'
import { SharedStates } from './shared-state.ts'
import { Turns } from './turns.ts'

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
 *    until the load is over — is answered from the stored snapshot as it is,
 *    before the `Y.Doc` is built: the snapshot (a Sync update message), then
 *    an empty SyncStep2 (the answer to its SyncStep1: it now holds all the
 *    server holds — nothing can change a document before it is built). The
 *    build waits until those copies are out: building blocks the event loop,
 *    and a large frame only partly fits the socket's buffer. For a large
 *    snapshot (`HOLD_BUILD_BYTES`), it waits while its readers are being
 *    served: until every copy is out and none joined for `QUIET_MS`; no
 *    longer once, for `STALL_MS`, no reader joined and no copy finished (a
 *    stalled reader does not hold it for long), once an authenticated socket
 *    waiting for it sends the document an edit (`wanted`: a writer waits for
 *    the build), or after `HOLD_BUILD_MAX_MS`. Its copies take turns, a few
 *    at a time (server/ws/turns.ts), as large answers to a crowd on a loaded
 *    document do: a crowd is synced at the speed of its sockets instead of
 *    behind a build of seconds. The snapshot becomes the document's shared
 *    answer for an empty state vector;
 * 3. once Hocuspocus has set up the socket's connection to the loaded
 *    document (its `connected` hook), the held SyncStep1 is answered at the
 *    door with the shared answer — the server's SyncStep1 and the SyncStep2
 *    Hocuspocus would have sent; to a socket already answered from the
 *    snapshot, the server's SyncStep1 alone (and, as an update, whatever
 *    changed since the snapshot: content another extension or instance put
 *    in meanwhile) — and what the socket sent after it goes to Hocuspocus.
 *    The connection is set up first, so every change after the answer
 *    reaches the socket as usual.
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
  /** It was sent the stored snapshot and the empty SyncStep2 answering its SyncStep1. */
  servedSnapshot(): void
}

/** Served from storage: `flushed` resolves when the build may start (the copies are out, see `held`); call `built` after the build. */
export interface ColdSyncServed {
  flushed: Promise<void>
  /** The document is built from the snapshot: its state vector now, and whether it holds exactly the snapshot (nothing parked). */
  built(document: Y.Doc, stateVector: Uint8Array, exact: boolean): void
}

/** The longest a load waits for the stored state to leave (a slow client must not hold up the document for long). */
export const FLUSH_WAIT_MS = 100
/** A stored snapshot this large holds its build while readers arrive (building it blocks the event loop for ~0.1 s per MiB). */
export const HOLD_BUILD_BYTES = 1 << 20
/** Once every reader has its copy, a held build waits this long for the next one to join (a crowd arrives over a second or so). */
export const QUIET_MS = 50
/**
 * A held build starts when, for this long, no copy was finished and no reader
 * joined (readers that slow do not hold it). Copies to a crowd go out side by
 * side and finish close together, so this is well above the gaps between them.
 */
export const STALL_MS = 2000
/** The longest a build is held for readers. */
export const HOLD_BUILD_MAX_MS = 10_000

const EMPTY_UPDATE = Y.encodeStateAsUpdate(new Y.Doc())

/** One document's load, as the sockets waiting for it see it. */
interface Load {
  waiters: Set<ColdWaiter>
  /** The stored snapshot as frames, once offered (the update, then the empty SyncStep2): sockets joining later get them at once. */
  frames?: readonly [Uint8Array, Uint8Array]
  /** Waiters whose copy is still to be written, or being written. */
  inFlight: Set<ColdWaiter>
  /** The snapshot is large (HOLD_BUILD_BYTES): its copies take turns (server/ws/turns.ts) while the build is held. */
  large?: boolean
  /** When a reader last joined or a copy last finished (performance.now()). */
  progressAt: number
  /** Readers that left before their copy went out: not written, and not waited for. */
  cancelled: WeakSet<ColdWaiter>
  /** Told when a copy is out or a socket joins, until the build may start. */
  settle?: () => void
  /** Ends the hold: the build starts now. */
  release?: () => void
}

export interface ColdSyncOptions {
  /** Called for every socket sent the stored snapshot (metrics). */
  onServe?: () => void
  /** Where loaded documents' shared answers live (its `onServe` counts their bytes). */
  shared?: SharedStates
}

export class ColdSync {
  readonly shared: SharedStates
  /** Large copies and answers of a document take turns. */
  readonly turns = new Turns()
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
    if (load.frames) {
      this.serveStored(load, waiter)
      load.settle?.()
    }
    return () => {
      load.waiters.delete(waiter)
      if (load.inFlight.delete(waiter)) {
        load.cancelled.add(waiter)
        load.settle?.()
      }
      if (load.waiters.size === 0 && !load.frames && this.loads.get(documentName) === load) this.loads.delete(documentName)
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
    load.frames = [frame, syncMessage(documentName, SyncStep.Step2, EMPTY_UPDATE)]
    // A large one is held even with nobody waiting yet: the socket that asked for the load may send its SyncStep1 just after.
    load.large = stored.snapshot.byteLength >= HOLD_BUILD_BYTES
    const flushed = load.waiters.size === 0 && !load.large ? Promise.resolve() : this.held(load)
    for (const w of load.waiters) this.serveStored(load, w)
    load.settle?.()
    return {
      flushed,
      built: (document, stateVector, exact) => {
        // Its snapshot is served no more (were a later load hook to fail, the next load may be built from a newer one).
        if (this.loads.get(documentName) === load) this.loads.delete(documentName)
        this.snapshots.set(document, stateVector)
        if (exact) this.shared.seed(documentName, document, frame, stateVector)
      },
    }
  }

  /** Resolves when the build may start: every copy out (and, for a large snapshot, no one joining for QUIET_MS, see the class comment), or at the latest after the wait allowed. */
  private held(load: Load): Promise<void> {
    const large = load.large === true
    return new Promise<void>((resolve) => {
      let quiet: NodeJS.Timeout | undefined
      const done = () => {
        clearTimeout(latest)
        clearTimeout(quiet)
        clearInterval(watchdog)
        load.settle = undefined
        load.release = undefined
        // The build starts: every copy still waiting its turn goes out now, ahead of what the socket is sent once connected.
        this.turns.flush(load)
        resolve()
      }
      const latest = setTimeout(done, large ? HOLD_BUILD_MAX_MS : FLUSH_WAIT_MS).unref()
      load.release = done
      load.settle = () => {
        clearTimeout(quiet)
        if (load.inFlight.size > 0) return
        if (!large) return done()
        quiet = setTimeout(done, QUIET_MS).unref()
      }
      // A crowd still arriving or being served holds the build; copies that all stopped going out do not.
      const watchdog = large
        ? setInterval(() => {
            if (load.inFlight.size > 0 && performance.now() - load.progressAt >= STALL_MS) done()
          }, STALL_MS / 4).unref()
        : undefined
    })
  }

  /** A socket sent `documentName` an edit while its load is held for readers: the build starts now. */
  wanted(documentName: string): void {
    this.loads.get(documentName)?.release?.()
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
    if (!load) this.loads.set(documentName, (load = { waiters: new Set(), inFlight: new Set(), progressAt: performance.now(), cancelled: new WeakSet() }))
    return load
  }

  private serveStored(load: Load, waiter: ColdWaiter): void {
    waiter.servedSnapshot()
    this.onServe?.()
    load.progressAt = performance.now()
    load.inFlight.add(waiter)
    const [snapshot, answer] = load.frames!
    const write = async () => {
      if (load.cancelled.has(waiter)) return
      await Promise.all([waiter.send(snapshot), waiter.send(answer)])
      load.inFlight.delete(waiter)
      load.progressAt = performance.now()
      load.settle?.()
    }
    if (load.large && load.settle) this.turns.take(load, write)
    else void write()
  }
}
