import type * as Y from 'yjs'
import { MessageType, SyncStep } from '../../client/protocol.ts'
import { HOLD_BUILD_BYTES, type ColdSync } from './cold-sync.ts'
import type { Frame } from './frame.ts'

/** What one socket may have held for one document before it is handed on (then Hocuspocus's own limits apply). */
const MAX_HELD_FRAMES = 64
const MAX_HELD_BYTES = 1 << 20
/** The longest a socket waits for its connection to a document (a load that never finished, a hook that refused it). */
const LOAD_WAIT_MS = 30_000
const EMPTY_STATE_VECTOR = Uint8Array.of(0)

interface Held {
  /** The SyncStep1 first, then what the socket sent for the document after it. */
  frames: Uint8Array[]
  bytes: number
  /** The state vector of the held SyncStep1. */
  stateVector: Uint8Array
  /** Waiting for the auth reply, or (authenticated) for the connection to the document. */
  phase: 'auth' | 'connect'
  /** Answered from the stored snapshot while the document loaded (server/ws/cold-sync.ts). */
  gotSnapshot: boolean
  cancel?: () => void
  timer?: NodeJS.Timeout
}

export interface ColdHoldOptions {
  coldSync: ColdSync
  /** Hand a frame to Hocuspocus. */
  forward(frame: Uint8Array): void
  /** Write a frame to the socket. */
  send(frame: Uint8Array): Promise<void>
}

/** An empty state vector: no clients (varUint 0). */
const isEmptyStateVector = (sv: Uint8Array) => sv.byteLength === 1 && sv[0] === 0

/** A document this socket is connected to (Hocuspocus's `connected` hook), while that connection lasts. */
interface Connected {
  document: Y.Doc
  open(): boolean
}

/**
 * One socket's side of cold sync (server/ws/cold-sync.ts): the first
 * SyncStep1 for a document is answered at the door from the document's shared
 * answer. Sent before the socket is connected to the loaded document, it is
 * held, with what the socket sends for that document after it (but its Auth):
 * until the auth reply — dropped if refused —, then until Hocuspocus has
 * connected the socket to the loaded document, when it is answered and the
 * rest handed on. Sent once connected (a client whose Auth was answered
 * before its SyncStep1 arrived), it is answered at once.
 */
export class ColdHolds {
  private readonly options: ColdHoldOptions
  private held: Map<string, Held> | undefined
  private authenticated: Set<string> | undefined
  /** Addresses whose first SyncStep1 was seen: later ones go to Hocuspocus. */
  private asked: Set<string> | undefined
  private connections: Map<string, Connected> | undefined
  /** Released after being answered from the stored snapshot: owed the rest of that answer once connected. */
  private snapshotAnswered: Set<string> | undefined

  constructor(options: ColdHoldOptions) {
    this.options = options
  }

  /** An inbound frame the gateway accepted: true when it is held or answered here, not to be handed on now. */
  inbound(frame: Extract<Frame, { kind: 'document' }>, bytes: Uint8Array): boolean {
    const held = this.held?.get(frame.address)
    // The Auth itself is never held: it is what the hold waits for (a client may send it after its SyncStep1).
    if (held && frame.type !== MessageType.Auth) {
      // An edit from an authenticated socket waits for the document's build: a build held for readers starts now.
      if (held.phase === 'connect' && frame.type === MessageType.Sync && frame.syncStep !== SyncStep.Step1) this.options.coldSync.wanted(frame.documentName)
      held.frames.push(bytes)
      held.bytes += bytes.byteLength
      if (held.frames.length > MAX_HELD_FRAMES || held.bytes > MAX_HELD_BYTES) this.release(frame.address)
      return true
    }
    const first =
      frame.type === MessageType.Sync &&
      frame.syncStep === SyncStep.Step1 &&
      frame.address === frame.documentName &&
      frame.stateVector !== undefined &&
      !this.asked?.has(frame.address)
    if (!first || !frame.stateVector) return false
    ;(this.asked ??= new Set()).add(frame.address)
    const connected = this.connections?.get(frame.address)
    if (connected) {
      if (!connected.open() || connected.document.isDestroyed) return false
      this.answer(frame.address, connected.document, frame.stateVector, false, connected.open)
      return true
    }
    this.held ??= new Map()
    this.held.set(frame.address, { frames: [bytes], bytes: bytes.byteLength, stateVector: frame.stateVector, phase: 'auth', gotSnapshot: false })
    if (this.authenticated?.has(frame.address)) this.awaitConnection(frame.address)
    return true
  }

  /** Hocuspocus answered the socket's Auth for `address` (after the reply went out). */
  authReply(address: string, authenticated: boolean): void {
    if (authenticated) (this.authenticated ??= new Set()).add(address)
    else this.authenticated?.delete(address)
    const held = this.held?.get(address)
    // Refused (also after an Authenticated, when setting up the connection failed): Hocuspocus drops what it queued for the document; so do we.
    if (!authenticated) {
      this.snapshotAnswered?.delete(address)
      if (held) this.drop(address)
      return
    }
    if (held?.phase === 'auth') this.awaitConnection(address)
  }

  /**
   * Hocuspocus connected this socket to the loaded `document` (its `connected`
   * hook; `open`: whether the connection is still attached). A held
   * SyncStep1 is answered here, the rest handed on.
   */
  connected(address: string, document: Y.Doc, open: () => boolean): void {
    const connections = (this.connections ??= new Map())
    connections.set(address, { document, open })
    document.once('destroy', () => {
      if (connections.get(address)?.document === document) connections.delete(address)
    })
    // Released while it waited, after it was answered from the stored snapshot: the rest of that answer.
    if (this.snapshotAnswered?.delete(address)) {
      if (open()) this.answer(address, document, EMPTY_STATE_VECTOR, true, open)
      return
    }
    const held = this.held?.get(address)
    if (!held || held.phase !== 'connect') return
    this.take(address)
    if (!open()) return
    this.answer(address, document, held.stateVector, held.gotSnapshot, open)
    for (const frame of held.frames.slice(1)) this.options.forward(frame)
  }

  /** Authenticated: wait for the connection to the loaded document (a client that holds nothing may get the stored snapshot meanwhile). */
  private awaitConnection(address: string): void {
    const held = this.held!.get(address)!
    held.phase = 'connect'
    held.timer = setTimeout(() => this.release(address), LOAD_WAIT_MS)
    held.timer.unref()
    if (isEmptyStateVector(held.stateVector)) {
      held.cancel = this.options.coldSync.join(address, {
        send: (data) => this.options.send(data),
        release: () => this.release(address),
        servedSnapshot: () => (held.gotSnapshot = true),
      })
    }
  }

  /**
   * Answer a SyncStep1 carrying `stateVector` from the shared answer (answered
   * from the stored snapshot already: the rest, so one SyncStep2 per
   * SyncStep1). A large answer takes its turn among the document's
   * (server/ws/turns.ts), and is not sent if the connection closed meanwhile.
   */
  private answer(address: string, document: Y.Doc, stateVector: Uint8Array, gotSnapshot: boolean, open: () => boolean): void {
    const { coldSync } = this.options
    const answer = gotSnapshot
      ? coldSync.shared.afterSnapshot(address, document, coldSync.snapshotVector(document) ?? EMPTY_STATE_VECTOR)
      : coldSync.shared.answer(address, document, stateVector)
    const send = async () => {
      if (!open()) return
      coldSync.shared.served(answer)
      await Promise.all(answer.frames.map((frame) => this.options.send(frame)))
    }
    if (answer.bytes >= HOLD_BUILD_BYTES) coldSync.turns.take(document, send)
    else void send()
  }

  /** The socket closed. */
  close(): void {
    for (const address of [...(this.held?.keys() ?? [])]) this.drop(address)
    this.connections?.clear()
  }

  /**
   * Hand the held frames to Hocuspocus as they were: it answers as usual —
   * but a SyncStep1 already answered from the stored snapshot is not handed
   * on (a second SyncStep2, and a whole encode): the rest of its answer is
   * sent once connected.
   */
  private release(address: string): void {
    const held = this.take(address)
    if (!held) return
    if (held.gotSnapshot) (this.snapshotAnswered ??= new Set()).add(address)
    for (const frame of held.gotSnapshot ? held.frames.slice(1) : held.frames) this.options.forward(frame)
  }

  private drop(address: string): void {
    this.take(address)
  }

  private take(address: string): Held | undefined {
    const held = this.held?.get(address)
    if (!held) return undefined
    this.held!.delete(address)
    held.cancel?.()
    clearTimeout(held.timer)
    return held
  }
}
