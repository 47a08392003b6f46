import * as Y from 'yjs'
import { SyncStep } from '../../client/protocol.ts'
import { syncMessage } from './frame.ts'

/** The server's answer to one SyncStep1, as the frames it is sent in. */
export interface SyncAnswer {
  /** In order: the server's own SyncStep1 (as Hocuspocus sends it), then the content, then — after a stored snapshot sent as an update — an empty SyncStep2. */
  readonly frames: readonly Uint8Array[]
  readonly bytes: number
}

/** Distinct state vectors answered per document state; past it, answers are encoded per client and not kept. */
const MAX_VECTORS = 32
const EMPTY_UPDATE = Y.encodeStateAsUpdate(new Y.Doc())

interface DocAnswers {
  byVector: Map<string, SyncAnswer>
  /** The stored snapshot the document was built from, while the document holds exactly it. */
  snapshot?: { vector: Uint8Array; done: SyncAnswer }
}

/**
 * One encoding of a loaded document's answer, shared by every client that
 * asks the same: the same state vector (an empty one — a client that holds
 * nothing —, or the same stored snapshot's after a restart) gets the same
 * bytes, encoded once until the document's next change. A crowd on a large
 * document costs one `Y.encodeStateAsUpdate`, not one per client (and a
 * client holding everything still costs one encode of the delete set per
 * distinct state vector, not one per client).
 *
 * - Keyed by the `Y.Doc` itself, which is the document's epoch: a document
 *   unloaded and loaded again — deleted and created again under the same name,
 *   say — is a new `Y.Doc`, so nothing of the old one is ever served for it
 *   (an empty state vector repeats across epochs; a `Y.Doc` does not).
 * - Dropped at the document's next change, whatever made it (a client,
 *   another instance through Redis, a restore, the server: every change of a
 *   `Y.Doc` fires its `update` event), and when the document is destroyed.
 * - Encoded from the document (garbage-collected), or seeded with the stored
 *   snapshot the document was just built from and holds exactly — never from
 *   raw log entries, which may hold deleted content.
 * - Served only by the cold holds (server/ws/cold-hold.ts), that is, only
 *   to a socket whose connection to that document Hocuspocus has set up (its
 *   authentication for the document completed).
 */
export class SharedStates {
  private readonly states = new WeakMap<Y.Doc, DocAnswers>()
  private readonly watched = new WeakSet<Y.Doc>()
  private readonly onServe: ((bytes: number) => void) | undefined

  /** `onServe` is called with the bytes of every shared answer sent (metrics). */
  constructor(onServe?: (bytes: number) => void) {
    this.onServe = onServe
  }

  /** The answer to a SyncStep1 carrying `stateVector` for `doc` (named `documentName` on the wire). */
  answer(documentName: string, doc: Y.Doc, stateVector: Uint8Array): SyncAnswer {
    const answers = this.answersOf(doc)
    const key = Buffer.from(stateVector).toString('latin1')
    const kept = answers.byVector.get(key)
    if (kept) return kept
    const content = Y.encodeStateAsUpdate(doc, stateVector)
    const made = answer([serverStep1(documentName, Y.encodeStateVector(doc)), syncMessage(documentName, SyncStep.Step2, content)])
    if (answers.byVector.size < MAX_VECTORS) answers.byVector.set(key, made)
    return made
  }

  /**
   * The answer for a client that was sent the stored snapshot while the
   * document loaded: nothing more while the document still holds exactly
   * that snapshot, else what is past the snapshot's state vector.
   */
  afterSnapshot(documentName: string, doc: Y.Doc, snapshotVector: Uint8Array): SyncAnswer {
    return this.states.get(doc)?.snapshot?.done ?? this.answer(documentName, doc, snapshotVector)
  }

  /** `doc` was just built from a stored snapshot, sent as `frame` (a Sync update message), and holds exactly it, with `stateVector`. */
  seed(documentName: string, doc: Y.Doc, frame: Uint8Array, stateVector: Uint8Array): void {
    const answers = this.answersOf(doc)
    const step1 = serverStep1(documentName, stateVector)
    const empty = syncMessage(documentName, SyncStep.Step2, EMPTY_UPDATE)
    answers.byVector.set(Buffer.from(Y.encodeStateVector(new Y.Doc())).toString('latin1'), answer([step1, frame, empty]))
    answers.snapshot = { vector: stateVector, done: answer([step1, empty]) }
  }

  /** Count one answer sent to a socket. */
  served(shared: SyncAnswer): void {
    this.onServe?.(shared.bytes)
  }

  private answersOf(doc: Y.Doc): DocAnswers {
    let answers = this.states.get(doc)
    if (answers) return answers
    if (!this.watched.has(doc)) {
      this.watched.add(doc)
      const drop = () => this.states.delete(doc)
      doc.on('update', drop)
      doc.on('destroy', drop)
    }
    this.states.set(doc, (answers = { byVector: new Map() }))
    return answers
  }
}

function answer(frames: Uint8Array[]): SyncAnswer {
  return { frames, bytes: frames.reduce((n, f) => n + f.byteLength, 0) }
}

/** The server's own SyncStep1, as Hocuspocus sends it to a client before its SyncStep2 answer (a Sync message: providers know no SyncReply). */
function serverStep1(documentName: string, stateVector: Uint8Array): Uint8Array {
  return syncMessage(documentName, SyncStep.Step1, stateVector)
}
