import * as Y from 'yjs'
import { SyncStep } from '../../client/protocol.ts'
import { syncMessage } from './frame.ts'

/** The server's answer to one SyncStep1, as the frames it is sent in. */
export interface SyncAnswer {
  /** In order: the server's own SyncStep1 (as Hocuspocus sends it), then the content (a SyncStep2; or the whole state as an update, then a SyncStep2 with what changed since). */
  readonly frames: readonly Uint8Array[]
  readonly bytes: number
}

/** Distinct state vectors answered per document state; past it, answers are encoded per client and not kept. */
const MAX_VECTORS = 32
const EMPTY_UPDATE = Y.encodeStateAsUpdate(new Y.Doc())

interface DocAnswers {
  /** Answers for the document's current state, by state vector; cleared at every change. */
  byVector: Map<string, SyncAnswer>
  /** The stored snapshot the document was built from, while the document holds exactly it. */
  snapshot?: { vector: Uint8Array; done: SyncAnswer }
  /** A whole state of the document (a Sync update message) and its state vector: kept across changes, what a client holding nothing is sent first. */
  base?: { frame: Uint8Array; vector: Uint8Array }
}

/** A new whole state is encoded once what changed since the kept one is larger than this share of it. */
const REBASE_SHARE = 0.25
const EMPTY_KEY = Buffer.from(Y.encodeStateVector(new Y.Doc())).toString('latin1')

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
 *   Only the whole state a client holding nothing is sent first is kept
 *   across changes — always followed by everything since, delete set
 *   included — until what changed since is a quarter of it.
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

  /**
   * The answer to a SyncStep1 carrying `stateVector` for `doc` (named
   * `documentName` on the wire). A client that holds nothing is sent the kept
   * whole state as an update, then a SyncStep2 with what changed since it
   * (with the delete set, so nothing deleted since survives): one whole-state
   * encoding serves many changes of a document being edited while a crowd joins.
   */
  answer(documentName: string, doc: Y.Doc, stateVector: Uint8Array): SyncAnswer {
    const answers = this.answersOf(doc)
    const key = Buffer.from(stateVector).toString('latin1')
    const kept = answers.byVector.get(key)
    if (kept) return kept
    const step1 = serverStep1(documentName, Y.encodeStateVector(doc))
    let made: SyncAnswer | undefined
    if (key === EMPTY_KEY) {
      const base = answers.base
      const since = base ? Y.encodeStateAsUpdate(doc, base.vector) : undefined
      if (base && since && since.byteLength <= base.frame.byteLength * REBASE_SHARE) {
        made = answer([step1, base.frame, syncMessage(documentName, SyncStep.Step2, since)])
      } else {
        answers.base = { frame: syncMessage(documentName, SyncStep.Update, Y.encodeStateAsUpdate(doc)), vector: Y.encodeStateVector(doc) }
        made = answer([step1, answers.base.frame, syncMessage(documentName, SyncStep.Step2, EMPTY_UPDATE)])
      }
    } else {
      made = answer([step1, syncMessage(documentName, SyncStep.Step2, Y.encodeStateAsUpdate(doc, stateVector))])
    }
    if (answers.byVector.size < MAX_VECTORS) answers.byVector.set(key, made)
    return made
  }

  /**
   * What a client answered from the stored snapshot while the document loaded
   * (the snapshot and an empty SyncStep2, server/ws/cold-sync.ts) is sent once
   * connected: the server's SyncStep1, and — unless the document still holds
   * exactly that snapshot — what is past the snapshot's state vector, as an
   * update (its SyncStep1 is answered already).
   */
  afterSnapshot(documentName: string, doc: Y.Doc, snapshotVector: Uint8Array): SyncAnswer {
    const done = this.states.get(doc)?.snapshot?.done
    if (done) return done
    return answer([serverStep1(documentName, Y.encodeStateVector(doc)), syncMessage(documentName, SyncStep.Update, Y.encodeStateAsUpdate(doc, snapshotVector))])
  }

  /** `doc` was just built from a stored snapshot, sent as `frame` (a Sync update message), and holds exactly it, with `stateVector`. */
  seed(documentName: string, doc: Y.Doc, frame: Uint8Array, stateVector: Uint8Array): void {
    const answers = this.answersOf(doc)
    const step1 = serverStep1(documentName, stateVector)
    const empty = syncMessage(documentName, SyncStep.Step2, EMPTY_UPDATE)
    answers.base = { frame, vector: stateVector }
    answers.byVector.set(EMPTY_KEY, answer([step1, frame, empty]))
    answers.snapshot = { vector: stateVector, done: answer([step1]) }
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
      // A change: no answer for the old state is served again (the kept whole state stays, as a base).
      doc.on('update', () => {
        const changed = this.states.get(doc)
        if (!changed) return
        changed.byVector.clear()
        changed.snapshot = undefined
      })
      doc.on('destroy', () => this.states.delete(doc))
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
