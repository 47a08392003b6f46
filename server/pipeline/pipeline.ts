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
import { ChatCheck } from './checks/chat.ts'
import { dependenciesCheck } from './checks/dependencies.ts'
import { documentSizeCheck } from './checks/document-size.ts'
import { roleCheck } from './checks/role.ts'
import { updateSizeCheck } from './checks/update-size.ts'
import type { Write, WriteCheck } from './write.ts'

/** Where admitted writes are stored (persistence): appended, awaited until committed. */
export interface Journal {
  append(documentName: string, update: Uint8Array): Promise<void>
  /** Bytes stored for a loaded document (snapshot + log). */
  storedBytes(documentName: string): number | undefined
}

export interface PipelineConfiguration {
  journal: Journal
  logger: Logger
  maxUpdateBytes: number
  maxDocumentBytes?: number
  /** Checks of an embedder (or a test), after ours. */
  extraChecks?: readonly WriteCheck[]
  /** Every refusal (metrics). */
  onRefuse?: (write: Write, refusal: Refusal) => void
}

/** Admitted and stored: apply it, then `release` (the document's gate). Or refused, nothing stored. */
export type Admission = { readonly ok: true; release(): void } | { readonly ok: false; readonly refusal: Refusal }

const NOTHING_HELD = () => {}

/** The empty Yjs update (no structs, no deletions): nothing to check or store. */
export const isEmptyUpdate = (update: Uint8Array): boolean => update.byteLength === 2 && update[0] === 0 && update[1] === 0

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
  async admit(write: Write): Promise<Admission> {
    if (isEmptyUpdate(write.update)) return { ok: true, release: NOTHING_HELD }
    const gate = documentGate(write.document)
    let rechecked = false
    let release = NOTHING_HELD
    for (;;) {
      const refusal = this.firstRefusal(write)
      if (refusal) {
        // Checked against a document other writes are about to change: once more after they are in.
        const others = refusal.mayBeStale && !rechecked ? gate.anyBusy() : undefined
        if (others) {
          rechecked = true
          await others
          write.forgetEffects()
          continue
        }
        this.config.onRefuse?.(write, refusal)
        return { ok: false, refusal }
      }
      const keys: GateKey[] = this.chat.touches(write) ? [...write.effects().clients, 'chat'] : write.effects().clients
      const wait = gate.busy(keys)
      if (wait) {
        await wait
        write.forgetEffects()
        continue
      }
      if (keys.length > 0) release = gate.hold(keys)
      break
    }
    try {
      await this.config.journal.append(write.documentName, write.update)
    } catch (error) {
      release()
      const refusal = new Refusal(Errors.StorageUnavailable, error instanceof Error ? error.message : String(error))
      this.config.onRefuse?.(write, refusal)
      return { ok: false, refusal }
    }
    return { ok: true, release }
  }

  /**
   * A server-side door (REST, restore): admit, apply with `origin` (durable:
   * persistence does not store it again), broadcast now — so every connected
   * client has been sent the change by the time the caller answers — and let
   * the gate go. Throws WriteRefused; nothing was stored then.
   */
  async apply(write: Write, origin: TransactionOrigin, flush: () => void): Promise<void> {
    const admission = await this.admit(write)
    if (!admission.ok) throw new WriteRefused(admission.refusal)
    try {
      Y.applyUpdate(write.document, write.update, origin)
      flush()
    } finally {
      admission.release()
    }
  }

  private firstRefusal(write: Write): Refusal | undefined {
    for (const check of this.checks) {
      let refusal: Refusal | undefined
      try {
        refusal = check.check(write)
      } catch (error) {
        // What cannot be checked is refused; a check that throws is a bug.
        this.config.logger.error({ err: error, check: check.name, documentName: write.documentName, door: write.door }, 'a write check failed; refusing the write')
        return new Refusal(Errors.PolicyViolation, `check ${check.name} failed`, { rule: 'check-failed' })
      }
      if (refusal) return refusal
    }
    return undefined
  }
}
