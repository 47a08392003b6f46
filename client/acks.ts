/**
 * Knowing what the server has stored. The server acknowledges every sync frame
 * that carries changes (SyncStep2 and Update) with one `SyncStatus`, in order,
 * per document, and only after the change is durably stored. So per room we
 * count the frames that actually went onto an open socket and match acks to
 * them first-in first-out. A change made while no socket was open, or whose
 * frame was in flight when the socket dropped, is only known to be stored once
 * the SyncStep2 of the next sync handshake — which carries everything the
 * server lacks — is acknowledged.
 *
 * (The provider's own `unsyncedChanges` counter is reset to 1 on every
 * reconnect and can reach 0 before the changes made offline are acknowledged,
 * so it is not used for this.)
 */
import * as decoding from 'lib0/decoding'
import { MessageType, SyncStep } from './protocol.ts'

/** Tracks one room's unacknowledged changes. */
export class AckTracker {
  /** Frames on the wire awaiting their ack, oldest first: whether each is a SyncStep2. */
  private readonly inFlight: boolean[] = []
  /** Changes exist that no frame in flight carries: only an acked SyncStep2 settles them. */
  private needsResync = false
  private readonly onChange: (unsaved: boolean) => void

  /** `onChange` is called whenever `unsaved` flips. */
  constructor(onChange: (unsaved: boolean) => void) {
    this.onChange = onChange
  }

  /** Whether some local change is not yet acknowledged (= durably stored) by the server. */
  get unsaved(): boolean {
    return this.needsResync || this.inFlight.length > 0
  }

  /** A frame carrying changes was handed to the socket; `open`: it went onto the wire now. */
  written(isStep2: boolean, open: boolean): void {
    this.update(() => {
      if (open) this.inFlight.push(isStep2)
      else this.needsResync = true
    })
  }

  /** A `SyncStatus` arrived; `applied` false means refused (e.g. read-only). */
  acked(applied: boolean): void {
    this.update(() => {
      const isStep2 = this.inFlight.shift()
      if (!applied) this.needsResync = true
      else if (isStep2) this.needsResync = false
    })
  }

  /** The socket (or the server's side of this document) closed: frames in flight may be lost. */
  disconnected(): void {
    this.update(() => {
      if (this.inFlight.length > 0) this.needsResync = true
      this.inFlight.length = 0
    })
  }

  private update(change: () => void): void {
    const before = this.unsaved
    change()
    if (this.unsaved !== before) this.onChange(this.unsaved)
  }
}

/** The parts of a Hocuspocus frame the client needs to route it. */
export interface FrameHead {
  documentName: string
  type: number
  /** Sync frames: the sync step; SyncStatus frames: 1 applied, 0 refused. */
  detail?: number
  /** Close frames: the reason string. */
  reason?: string
}

/** Read the head of a frame (document name, type, first field); undefined if it is not a document frame. */
export function readFrameHead(data: Uint8Array): FrameHead | undefined {
  if (data.byteLength <= 1) return undefined // connection-level ping/pong
  try {
    const decoder = decoding.createDecoder(data)
    const address = decoding.readVarString(decoder)
    const sep = address.indexOf('\0')
    const documentName = sep === -1 ? address : address.slice(0, sep)
    const type = decoding.readVarUint(decoder)
    if (type === MessageType.Sync) return { documentName, type, detail: decoding.readVarUint(decoder) }
    if (type === MessageType.SyncStatus) return { documentName, type, detail: decoding.readVarInt(decoder) }
    if (type === MessageType.Close) return { documentName, type, reason: decoding.readVarString(decoder) }
    return { documentName, type }
  } catch {
    // Not ours to judge: the provider decodes (and reports) the frame itself.
    return undefined
  }
}

/** Whether a sync step carries changes the server acknowledges. */
export function carriesChanges(step: number | undefined): boolean {
  return step === SyncStep.Step2 || step === SyncStep.Update
}
