/**
 * The one write path. Every update that reaches a document — from a socket,
 * the y-websocket endpoint, REST, a restore — goes through `admit`: the
 * checks in order (the first refusal wins), then the durable append, and only
 * then may the door apply it (and so broadcast and acknowledge it).
 */
import type { Logger } from 'pino'
import * as Y from 'yjs'
import { Errors } from '../../client/protocol.ts'
import { type GateKey, documentGate } from '../chat/gate.ts'
import { Refusal, WriteRefused } from '../errors.ts'
import { type TransactionOrigin } from '../origin.ts'
import type { ClientClaim, NewEvent } from '../storage/types.ts'
import { ChatCheck } from './checks/chat.ts'
import { dependenciesCheck } from './checks/dependencies.ts'
import { documentSizeCheck } from './checks/document-size.ts'
import { ownershipCheck } from './checks/ownership.ts'
import { roleCheck } from './checks/role.ts'
import { updateSizeCheck } from './checks/update-size.ts'
import { ownersOf } from './owners.ts'
import { NO_EVENTS, Replace, type Write, type WriteCheck } from './write.ts'

/** Where admitted writes are stored (persistence): appended, awaited until committed. */
export interface Journal {
  /** With `claims`: committed with them, or — when one is another owner's — not stored, resolving with the winners (Storage.append). */
  append(documentName: string, update: Uint8Array, claims?: readonly ClientClaim[], change?: WriteChange): Promise<ClientClaim[] | void>
  /** Bytes stored for a loaded document (snapshot + log). */
  storedBytes(documentName: string): number | undefined
}

/** What an admitted write changes, for the change feed (docs/events.md): who, the chat events born of it, the root types. */
export interface WriteChange {
  readonly actor: string
  readonly events: readonly NewEvent[]
  readonly types: () => readonly string[]
}

/** The actor of a write in open mode (no identity). */
export const ANONYMOUS = 'anonymous'

export interface PipelineConfiguration {
  journal: Journal
  logger: Logger
  maxUpdateBytes: number
  maxDocumentBytes?: number
  /** Checks of an embedder (or a test), after ours. */
  extraChecks?: readonly WriteCheck[]
  /** Every refusal (metrics). */
  onRefuse?: (write: Write, refusal: Refusal) => void
  /** Every write a check took part out of (metrics). */
  onReplace?: (write: Write, replace: Replace) => void
}

/**
 * Admitted and stored: apply `update`, then `release` (the document's gate).
 * `update` is the write's own, or — when a check took part of it out
 * (`replaced`) — the rest, which the door applies instead (possibly nothing).
 * Or refused, nothing stored.
 */
export type Admission =
  | { readonly ok: true; readonly update: Uint8Array; readonly replaced?: Replace; release(): void }
  | { readonly ok: false; readonly refusal: Refusal }

/** The checks' verdict on a write: the write as it goes on (a Replace's rest), or a refusal. */
interface Verdict {
  readonly write: Write
  readonly replaced?: Replace
  readonly refusal?: Refusal
}

const NOTHING_HELD = () => {}

/** The empty Yjs update (no structs, no deletions): nothing to check or store. */
export const isEmptyUpdate = (update: Uint8Array): boolean => update.byteLength === 2 && update[0] === 0 && update[1] === 0

/** Nothing left to store or apply (e.g. a Replace took every struct out). */
const isNothing = (write: Write): boolean => isEmptyUpdate(write.update) || (write.decoded.structs.length === 0 && write.decoded.ds.clients.size === 0)

export class WritePipeline {
  /** The rules, in order. Adding one is a file in checks/ and a line here. */
  readonly checks: readonly WriteCheck[]
  private readonly chat = new ChatCheck()
  private readonly config: PipelineConfiguration

  constructor(config: PipelineConfiguration) {
    this.config = config
    this.checks = [
      roleCheck,
      updateSizeCheck(config.maxUpdateBytes),
      documentSizeCheck(config.maxDocumentBytes, (name) => config.journal.storedBytes(name)),
      ownershipCheck,
      dependenciesCheck,
      this.chat,
      ...(config.extraChecks ?? []),
    ]
  }

  /**
   * Check, hold the document's gate, append. From its check until the door
   * has applied it, a write holds the gate for each client id it has structs
   * for (and `chat` when it touches the chat), so what the checks saw still
   * holds when it is applied; a write that must wait checks again after.
   */
  async admit(original: Write): Promise<Admission> {
    if (isEmptyUpdate(original.update)) return { ok: true, update: original.update, release: NOTHING_HELD }
    const gate = documentGate(original.document)
    let rechecked = false
    for (;;) {
      const { write, replaced, refusal } = this.verdict(original)
      if (refusal) {
        // Checked against a document other writes are about to change: once more after they are in.
        const others = refusal.mayBeStale && !rechecked ? gate.anyBusy() : undefined
        if (others) {
          rechecked = true
          await others
          original.forgetEffects()
          continue
        }
        if (replaced) this.replaced(original, replaced)
        this.config.onRefuse?.(original, refusal)
        return { ok: false, refusal }
      }
      const keys: GateKey[] = this.chat.touches(write) ? [...write.clients(), 'chat'] : write.clients()
      const wait = gate.busy(keys)
      if (wait) {
        await wait
        original.forgetEffects()
        continue
      }
      const release = keys.length > 0 ? gate.hold(keys) : NOTHING_HELD
      if (!isNothing(write)) {
        let lost: ClientClaim[] | void
        try {
          lost = await this.config.journal.append(write.documentName, write.update, write.claims, this.changeOf(write))
        } catch (error) {
          release()
          const refusal = new Refusal(Errors.StorageUnavailable, error instanceof Error ? error.message : String(error))
          this.config.onRefuse?.(original, refusal)
          return { ok: false, refusal }
        }
        // Another user (on another instance) claimed a client id first: nothing was stored; check again knowing it.
        if (lost || write.claims.length > 0) ownersOf(write.document).record(lost || write.claims)
        if (lost) {
          release()
          original.forgetEffects()
          continue
        }
        original.appended = true
      }
      if (replaced) this.replaced(original, replaced)
      return { ok: true, update: write.update, replaced, release }
    }
  }

  /**
   * A server-side door (REST, restore): admit, apply with `origin` (durable:
   * persistence does not store it again), broadcast now — so every connected
   * client has been sent the change by the time the caller answers — and let
   * the gate go. Throws WriteRefused; nothing was stored then. Resolves with
   * the Replace when a check took part of the update out (the rest was applied).
   */
  async apply(write: Write, origin: TransactionOrigin, flush: () => void): Promise<Replace | undefined> {
    const admission = await this.admit(write)
    if (!admission.ok) throw new WriteRefused(admission.refusal)
    try {
      if (!isEmptyUpdate(admission.update)) Y.applyUpdate(write.document, admission.update, origin)
      flush()
    } finally {
      admission.release()
    }
    return admission.replaced
  }

  /** The checks in order: the first refusal wins; after a Replace the later checks see the rest of the update. */
  private verdict(original: Write): Verdict {
    let write = original
    let replaced: Replace | undefined
    for (const check of this.checks) {
      let verdict: Refusal | Replace | undefined
      try {
        verdict = check.check(write)
      } catch (error) {
        // What cannot be checked is refused; a check that throws is a bug.
        this.config.logger.error({ err: error, check: check.name, documentName: write.documentName, door: write.door }, 'a write check failed; refusing the write')
        return { write, refusal: new Refusal(Errors.PolicyViolation, `check ${check.name} failed`, { rule: 'check-failed' }) }
      }
      if (verdict instanceof Replace) {
        replaced = verdict
        write = write.replacedBy(verdict.update)
      } else if (verdict) return { write, replaced, refusal: verdict }
    }
    return { write, replaced }
  }

  private changeOf(write: Write): WriteChange {
    const actor = write.writer.principal?.id ?? ANONYMOUS
    const born = this.chat.events(write)
    const chat = born.length === 0 ? NO_EVENTS : born.map((e) => ({ type: e.type, document: write.documentName, actor, data: e.data }))
    const events = write.events.length === 0 ? chat : [...chat, ...write.events]
    return { actor, events, types: () => write.roots() }
  }

  private replaced(write: Write, replace: Replace): void {
    const { documentName, door, writer } = write
    this.config.logger.warn(
      { documentName, door, user: writer.principal?.id, reason: replace.why.error.reason, detail: replace.why.detail, dropped: replace.dropped },
      'took part of an update out (not applied, stored or broadcast); the rest goes on',
    )
    this.config.onReplace?.(write, replace)
  }
}
