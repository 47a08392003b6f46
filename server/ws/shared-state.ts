import * as Y from 'yjs'
import { SyncStep } from '../../client/protocol.ts'
import { syncMessage } from './frame.ts'

/** One document's whole state, encoded once, as the frames a socket that holds nothing is sent. */
export interface SharedState {
  /** The state as a Sync update message (not a SyncStep2: a provider counts itself synced only by the real answer after it). */
  readonly frame: Uint8Array
  /** The SyncStep1 handed to Hocuspocus instead of the client's empty one: the state vector of exactly what `frame` holds. */
  readonly step1: Uint8Array
  /** Bytes of `frame`. */
  readonly bytes: number
}

/**
 * One encoding of a loaded document's state, shared by every socket that asks
 * for it holding nothing (an empty state vector): a crowd joining a large
 * document costs one `Y.encodeStateAsUpdate`, not one per client, and every
 * socket is sent the same bytes.
 *
 * - Keyed by the `Y.Doc` itself, which is the document's epoch: a document
 *   unloaded and loaded again — deleted and created again under the same name,
 *   say — is a new `Y.Doc`, so nothing of the old one is ever served for it
 *   (an empty state vector repeats across epochs; a `Y.Doc` does not).
 * - Dropped at the document's next change, whatever made it (a client,
 *   another instance through Redis, a restore, the server: every change of a
 *   `Y.Doc` fires its `update` event), and when the document is destroyed.
 * - Built from the document (garbage-collected), or seeded with the stored
 *   snapshot the document was just built from and holds exactly — never from
 *   raw log entries, which may hold deleted content.
 * - Served only by the cold holds (server/ws/cold-hold.ts), that is, only
 *   to a socket whose authentication for that document has completed.
 *
 * Even a state that missed a change could not lose one: the SyncStep1 handed
 * on carries the state vector of what was sent, so Hocuspocus answers with
 * everything past it (and the whole delete set).
 */
export class SharedStates {
  private readonly states = new WeakMap<Y.Doc, SharedState>()
  private readonly watched = new WeakSet<Y.Doc>()
  private readonly onServe: ((bytes: number) => void) | undefined

  /** `onServe` is called with the bytes of every frame served from a shared state (metrics). */
  constructor(onServe?: (bytes: number) => void) {
    this.onServe = onServe
  }

  /** The shared state of `doc` (named `documentName` on the wire): encoded now unless it is still current. */
  get(documentName: string, doc: Y.Doc): SharedState {
    const current = this.states.get(doc)
    if (current) return current
    return this.keep(doc, state(documentName, Y.encodeStateAsUpdate(doc), Y.encodeStateVector(doc)))
  }

  /** `doc` was just built from a stored snapshot, sent as `frame` (a Sync update message), and holds exactly it, with `stateVector`. */
  seed(documentName: string, doc: Y.Doc, frame: Uint8Array, stateVector: Uint8Array): void {
    this.keep(doc, { frame, step1: syncMessage(documentName, SyncStep.Step1, stateVector), bytes: frame.byteLength })
  }

  /** Count one frame of `shared` sent to a socket. */
  served(shared: SharedState): void {
    this.onServe?.(shared.bytes)
  }

  private keep(doc: Y.Doc, shared: SharedState): SharedState {
    if (!this.watched.has(doc)) {
      this.watched.add(doc)
      const drop = () => this.states.delete(doc)
      doc.on('update', drop)
      doc.on('destroy', drop)
    }
    this.states.set(doc, shared)
    return shared
  }
}

function state(documentName: string, update: Uint8Array, stateVector: Uint8Array): SharedState {
  const frame = syncMessage(documentName, SyncStep.Update, update)
  return { frame, step1: syncMessage(documentName, SyncStep.Step1, stateVector), bytes: frame.byteLength }
}
