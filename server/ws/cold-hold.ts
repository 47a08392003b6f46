import type * as Y from 'yjs'
import { MessageType, SyncStep } from '../../client/protocol.ts'
import type { ColdSync } from './cold-sync.ts'
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

/**
 * One socket's side of cold sync (server/ws/cold-sync.ts): the first
 * SyncStep1 for a document this socket has not authenticated yet is held at
 * the door, with what the socket sends for that document after it (but its
 * Auth), until the auth reply — dropped if refused —, then until Hocuspocus
 * has connected the socket to the loaded document, when it is answered from
 * the document's shared answer and the rest is handed on.
 */
export class ColdHolds {
  private readonly options: ColdHoldOptions
  private held: Map<string, Held> | undefined
  private authenticated: Set<string> | undefined

  constructor(options: ColdHoldOptions) {
    this.options = options
  }

  /** An inbound frame the gateway accepted: true when it is held here, not to be handed on now. */
  inbound(frame: Extract<Frame, { kind: 'document' }>, bytes: Uint8Array): boolean {
    const held = this.held?.get(frame.address)
    // The Auth itself is never held: it is what the hold waits for (a client may send it after its SyncStep1).
    if (held && frame.type !== MessageType.Auth) {
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
      !this.authenticated?.has(frame.address)
    if (!first || !frame.stateVector) return false
    this.held ??= new Map()
    this.held.set(frame.address, { frames: [bytes], bytes: bytes.byteLength, stateVector: frame.stateVector, phase: 'auth', gotSnapshot: false })
    return true
  }

  /** Hocuspocus answered the socket's Auth for `address` (after the reply went out). */
  authReply(address: string, authenticated: boolean): void {
    if (authenticated) (this.authenticated ??= new Set()).add(address)
    const held = this.held?.get(address)
    if (!held || held.phase !== 'auth') return
    // Refused: Hocuspocus drops what it queued for the document; so do we.
    if (!authenticated) return this.drop(address)
    held.phase = 'connect'
    held.timer = setTimeout(() => this.release(address), LOAD_WAIT_MS)
    held.timer.unref()
    // A client that holds nothing may get the stored snapshot while the document loads.
    if (isEmptyStateVector(held.stateVector)) {
      held.cancel = this.options.coldSync.join(address, {
        send: (data) => this.options.send(data),
        release: () => this.release(address),
        servedSnapshot: () => (held.gotSnapshot = true),
      })
    }
  }

  /**
   * Hocuspocus connected this socket to the loaded `document` (its `connected`
   * hook; `open`: the connection is still attached). The held SyncStep1 is
   * answered here, the rest handed on.
   */
  connected(address: string, document: Y.Doc, open: boolean): void {
    const held = this.held?.get(address)
    if (!held || held.phase !== 'connect') return
    this.take(address)
    if (!open) return
    const { coldSync } = this.options
    // Answered from the stored snapshot already: the rest (one SyncStep2 per SyncStep1).
    const answer = held.gotSnapshot
      ? coldSync.shared.afterSnapshot(address, document, coldSync.snapshotVector(document) ?? EMPTY_STATE_VECTOR)
      : coldSync.shared.answer(address, document, held.stateVector)
    coldSync.shared.served(answer)
    for (const frame of answer.frames) void this.options.send(frame)
    for (const frame of held.frames.slice(1)) this.options.forward(frame)
  }

  /** The socket closed. */
  close(): void {
    for (const address of [...(this.held?.keys() ?? [])]) this.drop(address)
  }

  /** Hand the held frames to Hocuspocus as they were: it answers as usual. */
  private release(address: string): void {
    const held = this.take(address)
    if (!held) return
    for (const frame of held.frames) this.options.forward(frame)
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
