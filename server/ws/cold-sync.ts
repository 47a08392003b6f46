import * as decoding from 'lib0/decoding'
import { MessageType, SyncStep } from '../../client/protocol.ts'
import type { StoredDocument } from '../storage/types.ts'
import { syncMessage } from './frame.ts'

/**
 * Cold sync: a client that holds nothing gets a stored document while it
 * loads, not after.
 *
 * Loading a large document is mostly Yjs building the `Y.Doc` from the stored
 * state, and then Hocuspocus encoding that whole state again to answer the
 * client's SyncStep1. When the client's SyncStep1 says it has nothing (an
 * empty state vector), the stored bytes already are that answer. So, while
 * persistence loads a document for the connection that asked for it:
 *
 * 1. the stored snapshot goes to that socket as it is (a Sync update message,
 *    so a provider does not count itself synced before the real answer),
 *    before the `Y.Doc` is built — and the build waits (at most
 *    `FLUSH_WAIT_MS`) until it is out: building blocks the event loop, and a
 *    large frame only partly fits the socket's buffer;
 * 2. once it is built, that client's SyncStep1 — still waiting in
 *    Hocuspocus's queue for the document — is replaced by one carrying the
 *    loaded document's state vector, so Hocuspocus answers with only what
 *    changed since (usually nothing) instead of the whole document again.
 *
 * Only the connection that triggered the load is served: Hocuspocus loads a
 * document for a socket only after that socket authenticated for it, so
 * nothing reaches a socket that was refused. Only a document stored as one
 * compacted snapshot (as after an unload) is served: a log not yet folded may
 * hold deleted content the snapshot would have garbage-collected, or entries
 * Yjs refuses. And only while the document is still empty: content an
 * earlier extension put in while loading would otherwise be counted in the
 * rewritten state vector without having been sent. Anything unusual (a
 * session address, an address this socket has not authenticated, a state
 * vector that is not empty, a queue that is not there) falls back to
 * Hocuspocus's ordinary answer.
 *
 * The queue is Hocuspocus 4's `ClientConnection.incomingMessageQueue`, a private
 * field; `test/integration/cold-sync.test.ts` fails if that changes.
 */
export interface ColdSyncClient {
  /** Write a frame to the socket (through the gateway's counters); resolves once it is handed to the kernel (or the socket failed). */
  send(data: Uint8Array): Promise<void>
  /** Messages Hocuspocus holds for `address` until its connection to the document is set up; undefined when none, or when this socket has not authenticated `address`. */
  queue(address: string): Uint8Array[] | undefined
}

/** An empty state vector: no clients (varUint 0). */
const isEmptyStateVector = (sv: Uint8Array) => sv.byteLength === 1 && sv[0] === 0

function isEmptyStep1(data: Uint8Array, address: string): boolean {
  try {
    const decoder = decoding.createDecoder(data)
    if (decoding.readVarString(decoder) !== address) return false
    if (decoding.readVarUint(decoder) !== MessageType.Sync) return false
    if (decoding.readVarUint(decoder) !== SyncStep.Step1) return false
    return isEmptyStateVector(decoding.readVarUint8Array(decoder))
  } catch {
    return false
  }
}

/** Served: call `release` with the loaded document's state vector; `flushed` resolves once the snapshot is out (or after FLUSH_WAIT_MS). */
export interface ColdSyncServed {
  flushed: Promise<void>
  release(stateVector: Uint8Array): void
}

/** The longest a load waits for the stored state to leave (a slow client must not hold up the document for long). */
export const FLUSH_WAIT_MS = 100

export class ColdSync {
  private readonly clients = new Map<string, ColdSyncClient>()
  private readonly onServe: (() => void) | undefined

  /** `onServe` is called for every cold sync served (metrics). */
  constructor(onServe?: () => void) {
    this.onServe = onServe
  }

  /** The gateway registers every native-protocol socket by Hocuspocus's socket id... */
  register(socketId: string, client: ColdSyncClient): void {
    this.clients.set(socketId, client)
  }

  /** ...and forgets it when it closes. */
  unregister(socketId: string): void {
    this.clients.delete(socketId)
  }

  /**
   * Persistence calls this with the stored state of a document it is loading
   * for `socketId`. When that socket waits with an empty SyncStep1 for it, the
   * stored state is sent now, and the result's `release` must be called with
   * the loaded document's state vector; otherwise undefined.
   */
  offer(socketId: string | undefined, documentName: string, stored: StoredDocument, documentIsEmpty: boolean): ColdSyncServed | undefined {
    const client = socketId === undefined ? undefined : this.clients.get(socketId)
    if (!client || !stored.snapshot || stored.updates.length > 0 || !documentIsEmpty) return undefined
    const queue = client.queue(documentName)
    if (!queue) return undefined
    const index = queue.findIndex((data) => isEmptyStep1(data, documentName))
    if (index === -1) return undefined
    const step1 = queue[index]
    const sent = client.send(syncMessage(documentName, SyncStep.Update, stored.snapshot))
    this.onServe?.()
    let timer: NodeJS.Timeout | undefined
    const flushed = Promise.race([sent, new Promise<void>((resolve) => (timer = setTimeout(resolve, FLUSH_WAIT_MS)))]).finally(() => clearTimeout(timer))
    return {
      flushed,
      release: (stateVector) => {
        // Still waiting where it was (Hocuspocus only appends until it processes the queue).
        if (queue[index] === step1) queue[index] = syncMessage(documentName, SyncStep.Step1, stateVector)
      },
    }
  }
}
