/**
 * The one typed value a write travels through the pipeline as, whatever door
 * it came in by, and the interface every check has.
 */
import * as Y from 'yjs'
import { type DecodedUpdate, type Effects, Unappliable, effectsOf } from '../chat/effects.ts'
import { quickRoots, surelyIntegrates } from '../chat/quick.ts'
import { changedRoots, rootName } from './roots.ts'
import type { Principal } from '../chat/rules.ts'
import { Refusal } from '../errors.ts'
import type { ClientClaim, NewEvent } from '../storage/types.ts'

/** No change-feed events (one shared empty list). */
export const NO_EVENTS: readonly NewEvent[] = []

export { Refusal } from '../errors.ts'
export type { Principal } from '../chat/rules.ts'

/**
 * Where a write came in: the Hocuspocus socket, the y-websocket endpoint, a
 * REST update, a restore (the server's own write, made for an admin).
 */
export type Door = 'socket' | 'yws' | 'http' | 'rest' | 'restore'

export type Role = 'read' | 'write' | 'admin'

/** Who writes: the role on this document, and the user (null in open mode: no identity). */
export interface Writer {
  readonly role: Role
  readonly principal: Principal | null
}

/**
 * One write: a Yjs update for one loaded document. It is decoded once, at the
 * door (the frame guard for sockets, the REST handler for bodies); its effects
 * (the items it inserts and deletes, server/chat/effects.ts) are worked out
 * only when a check asks, at most once per document state.
 */
export class Write {
  readonly door: Door
  readonly documentName: string
  readonly document: Y.Doc
  readonly update: Uint8Array
  readonly writer: Writer
  /** Client-id claims that must commit with this write's append (set by the ownership check). */
  claims: readonly ClientClaim[] = []
  /** Change-feed events the server's door says this write makes (a restore's `version.restored`): they commit with its append. */
  readonly events: readonly NewEvent[]
  /** Whether its append committed (with `events`); false when there was nothing to store (a Replace that left nothing, say). */
  appended = false
  private decodedUpdate: DecodedUpdate | undefined
  private worked: Effects | Unappliable | undefined
  /** The clients, when the update surely integrates now without working out its effects (null: it may not; undefined: not asked yet). */
  private sure: number[] | null | undefined

  constructor(fields: { door: Door; documentName: string; document: Y.Doc; update: Uint8Array; writer: Writer; decoded?: DecodedUpdate; events?: readonly NewEvent[] }) {
    this.door = fields.door
    this.documentName = fields.documentName
    this.document = fields.document
    this.update = fields.update
    this.writer = fields.writer
    this.decodedUpdate = fields.decoded
    this.events = fields.events ?? NO_EVENTS
  }

  /** The update's structs and delete set. */
  get decoded(): DecodedUpdate {
    return (this.decodedUpdate ??= Y.decodeUpdate(this.update))
  }

  /**
   * What the update would do to the document as it is now. Throws
   * `Unappliable` when Yjs could not apply it completely now (the
   * dependencies check turns that into a refusal before any other check asks).
   */
  effects(): Effects {
    this.worked ??= tryEffects(this.document, this.update, this.decoded)
    if (this.worked instanceof Unappliable) throw this.worked
    return this.worked
  }

  /** Whether the update surely integrates completely now (server/chat/quick.ts); when not, only `effects()` can tell. */
  surelyIntegrates(): boolean {
    if (this.sure === undefined) this.sure = surelyIntegrates(this.document, this.update, this.decoded)
    return this.sure !== null
  }

  /** The client ids the update has structs for (the gate's keys). */
  clients(): number[] {
    return this.surelyIntegrates() ? this.sure! : this.effects().clients
  }

  /** The root shared types the write changes (the change feed's `types`): read from the document when it surely integrates, else from its effects. */
  roots(): readonly string[] {
    const quick = this.surelyIntegrates() ? quickRoots(this.document, this.decoded, rootName) : null
    return quick ?? changedRoots(this.effects())
  }

  /** The same write as another update (a check's Replace): what the later checks see, and what is stored and applied. */
  replacedBy(update: Uint8Array): Write {
    const write = new Write({ door: this.door, documentName: this.documentName, document: this.document, update, writer: this.writer, events: this.events })
    write.claims = this.claims
    return write
  }

  /** Forget the effects: the document changed since they were worked out (the pipeline checks again). */
  forgetEffects(): void {
    this.worked = undefined
    this.sure = undefined
  }
}

function tryEffects(document: Y.Doc, update: Uint8Array, decoded: DecodedUpdate): Effects | Unappliable {
  try {
    return effectsOf(document, update, decoded)
  } catch (error) {
    if (error instanceof Unappliable) return error
    throw error
  }
}

/**
 * A check's verdict that the write goes on without part of it: `update` is
 * the rest (the later checks see it, and it is what is stored and applied),
 * `why` says what was taken out (a catalogue entry, for logs), `dropped`
 * whose client ids it was under, and whose they are (logs, metrics).
 */
export class Replace {
  readonly update: Uint8Array
  readonly why: Refusal
  readonly dropped: readonly ClientClaim[]
  constructor(update: Uint8Array, why: Refusal, dropped: readonly ClientClaim[]) {
    this.update = update
    this.why = why
    this.dropped = dropped
  }
}

/**
 * One rule every write must pass, at every door. `check` is synchronous: it
 * sees the document as it is, and the pipeline holds the document's gate from
 * the check until the write is applied, so what it saw still holds.
 * Returns a Refusal (a catalogue entry and why), a Replace (go on with the
 * rest of the update), or undefined to allow.
 */
export interface WriteCheck {
  readonly name: string
  check(write: Write): Refusal | Replace | undefined
}

/** What the pipeline decided about a write. */
export type Outcome =
  | { readonly allowed: true; readonly empty: boolean }
  | { readonly allowed: false; readonly refusal: Refusal }

export const refuse = (...args: ConstructorParameters<typeof Refusal>): Refusal => new Refusal(...args)
