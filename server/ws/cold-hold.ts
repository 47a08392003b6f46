import { MessageType, SyncStep } from '../../client/protocol.ts'
import type { ColdSync } from './cold-sync.ts'
import type { Frame } from './frame.ts'

/** What one socket may have held for one document before it is handed on (then Hocuspocus's own limits apply). */
const MAX_HELD_FRAMES = 64
const MAX_HELD_BYTES = 1 << 20
/** The longest a socket waits for a load that never offered its stored state (a hook refused it, say). */
const LOAD_WAIT_MS = 30_000

interface Held {
  frames: Uint8Array[]
  bytes: number
  /** Waiting for the auth reply, or (authenticated) for the load. */
  phase: 'auth' | 'load'
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
 * One socket's side of cold sync (server/ws/cold-sync.ts): an empty SyncStep1
 * for a document this socket has not authenticated yet is held at the door,
 * with what the socket sends for that document after it (but its Auth), until the auth reply
 * — then served by cold sync at once (the document is loaded) or by its load.
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
    const cold =
      frame.type === MessageType.Sync &&
      frame.syncStep === SyncStep.Step1 &&
      frame.address === frame.documentName &&
      frame.stateVector !== undefined &&
      isEmptyStateVector(frame.stateVector) &&
      !this.authenticated?.has(frame.address)
    if (!cold) return false
    this.held ??= new Map()
    this.held.set(frame.address, { frames: [bytes], bytes: bytes.byteLength, phase: 'auth' })
    return true
  }

  /** Hocuspocus answered the socket's Auth for `address` (after the reply went out). */
  authReply(address: string, authenticated: boolean): void {
    if (authenticated) (this.authenticated ??= new Set()).add(address)
    const held = this.held?.get(address)
    if (!held || held.phase !== 'auth') return
    // Refused: Hocuspocus drops what it queued for the document; so do we.
    if (!authenticated) return this.drop(address)
    // Authenticated: served now if the document is loaded, else by its load (server/ws/cold-sync.ts).
    held.phase = 'load'
    held.timer = setTimeout(() => this.release(address), LOAD_WAIT_MS)
    held.timer.unref()
    const cancel = this.options.coldSync.join(address, { send: (data) => this.options.send(data), release: (step1) => this.release(address, step1) })
    if (this.held?.get(address) === held) held.cancel = cancel
  }

  /** The socket closed. */
  close(): void {
    for (const address of [...(this.held?.keys() ?? [])]) this.drop(address)
  }

  private release(address: string, step1?: Uint8Array): void {
    const held = this.take(address)
    if (!held) return
    if (step1) held.frames[0] = step1
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
