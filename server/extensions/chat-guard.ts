import type { Connection, Extension, afterHandleMessagePayload, afterLoadDocumentPayload, beforeSyncPayload } from '@hocuspocus/server'
import type { Logger } from 'pino'
import * as Y from 'yjs'
import { CloseCode, SyncStep } from '../../client/protocol.ts'
import { sessionOf } from '../auth/session.ts'
import { type Effects, Unappliable, effectsOf } from '../chat/effects.ts'
import { type GateKey, documentGate } from '../chat/gate.ts'
import { messageIds } from '../chat/ids.ts'
import { type Principal, Violation, checkEffects } from '../chat/rules.ts'
import { Zones } from '../chat/zones.ts'
import { syncMessage } from '../ws/frame.ts'
import { DocumentCloseError } from '../errors.ts'
import { dropParkedStructs, parkedStructs } from '../internals.ts'

export interface ChatGuardConfiguration {
  logger: Logger
  /** Called with every refusal (metrics). */
  onRefuse?: (result: { documentName: string; rule: string }) => void
}

/** The empty Yjs update (no structs, no deletions). */
const isEmptyUpdate = (update: Uint8Array) => update.byteLength === 2 && update[0] === 0 && update[1] === 0

const encodeBase64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')

/**
 * Chat integrity (docs/chat-data-model.md §7): every update a client sends is
 * checked before it is stored or applied.
 *
 * - Its effects are worked out against the live document without applying it
 *   (server/chat/effects.ts: each new item's parent and key as Yjs will
 *   resolve them, each live item it deletes), and the chat rules are checked
 *   on those (server/chat/rules.ts).
 * - A broken rule refuses the whole update: the guard throws before
 *   persistence (priority 10) appends, so nothing is stored, applied,
 *   acknowledged or broadcast, and Hocuspocus closes that document for the
 *   connection with `4422 policy-violation`.
 * - An update Yjs cannot apply yet (missing dependencies) is deferred: not
 *   stored or applied, answered SyncStatus(false), and the client is asked
 *   for a SyncStep2 that brings what it depends on.
 * - From its check until it is applied, an update holds its document's gate
 *   (server/chat/gate.ts), so a check never goes stale.
 *
 * Updates that do not touch the chat cost one more decode and a lookup per
 * item. With a token the user is the token's `sub` and `admin` its role; in
 * open mode there is no identity and only the structural rules apply.
 */
export class ChatGuard implements Extension {
  readonly extensionName = 'chat-guard'
  /** After auth (900) and the awareness guard (100); before persistence (10), which stores what passes. */
  readonly priority = 50

  private readonly config: ChatGuardConfiguration
  private readonly zones = new Zones()
  /** What each connection holds from its check until its update is applied. */
  private readonly holds = new WeakMap<Connection, () => void>()
  /** Connections whose current update was deferred (made read-only for this one message). */
  private readonly deferred = new WeakSet<Connection>()
  /** The document's state vector when each connection was last asked for a full sync. */
  private readonly askedAt = new WeakMap<Connection, string>()

  constructor(config: ChatGuardConfiguration) {
    this.config = config
  }

  async beforeSync({ type, payload, connection, context, document, documentName }: beforeSyncPayload): Promise<void> {
    if (type === SyncStep.Step1 || connection.readOnly) return
    // Messages of one connection are handled in order: its previous update is done.
    this.release(connection)
    if (isEmptyUpdate(payload)) return
    const session = sessionOf(context)
    const principal: Principal | null = session?.mode === 'token' && session.user ? { id: session.user.id, admin: session.role === 'admin' } : null
    const gate = documentGate(document)
    let retried = false
    for (;;) {
      let effects: Effects
      let touchesChat: boolean
      try {
        effects = effectsOf(document, payload)
        touchesChat = checkEffects(document, effects, principal, this.zones, () => messageIds(document))
      } catch (error) {
        // Checked against a document other updates are about to change: check again once they are in.
        const others = retried || !(error instanceof Violation || error instanceof Unappliable) ? undefined : gate.anyBusy()
        if (others) {
          retried = true
          await others
          continue
        }
        return this.refuse(error, connection, documentName, principal, payload.byteLength)
      }
      const keys: GateKey[] = touchesChat ? [...effects.clients, 'chat'] : effects.clients
      const wait = gate.busy(keys)
      if (!wait) {
        if (keys.length > 0) this.hold(connection, gate.hold(keys))
        return
      }
      await wait
    }
  }

  async afterHandleMessage({ connection, context }: afterHandleMessagePayload): Promise<void> {
    this.release(connection)
    if (!this.deferred.has(connection)) return
    this.deferred.delete(connection)
    // The role may have changed meanwhile (a fresh token): the session knows the current one.
    const session = sessionOf(context)
    connection.readOnly = session ? session.role === 'read' : false
    // Ask for everything the server lacks: the client answers with a SyncStep2 that carries the update and its dependencies.
    // Not twice for the same server state: a client holding structs whose dependencies nobody has would answer
    // with them again and again (an endless ask/answer loop); once the document changes, asking may help again.
    const stateVector = Y.encodeStateVector(connection.document)
    const asked = encodeBase64(stateVector)
    if (this.askedAt.get(connection) === asked) {
      this.config.logger.debug({ documentName: connection.document.name, socketId: connection.socketId }, 'not asking again: nothing changed since the last ask')
      return
    }
    this.askedAt.set(connection, asked)
    // A SyncStep1 with the document's state vector: "send me what I lack".
    connection.send(syncMessage(connection.messageAddress, SyncStep.Step1, stateVector))
  }

  /**
   * A broken rule closes the document (4422). An update Yjs cannot apply yet
   * (missing dependencies) is not stored or applied either, but answered
   * `SyncStatus(false)` with the document left open, and the client is asked
   * for a SyncStep2: a provider sends updates queued while offline before its
   * sync handshake, and those may depend on changes the server never got.
   */
  private refuse(error: unknown, connection: Connection, documentName: string, principal: Principal | null, bytes: number): void {
    const context = { documentName, socketId: connection.socketId, user: principal?.id, bytes }
    if (error instanceof Unappliable) {
      this.config.logger.info({ ...context, detail: error.message }, 'deferred an update Yjs cannot apply yet; asking the client for a full sync')
      this.config.onRefuse?.({ documentName, rule: 'unappliable' })
      // Hocuspocus answers a read-only connection's update with SyncStatus(false), and persistence skips it.
      connection.readOnly = true
      this.deferred.add(connection)
      return
    }
    if (error instanceof Violation) {
      this.config.logger.warn({ ...context, rule: error.rule, detail: error.message }, 'refused an update that breaks the chat rules')
      this.config.onRefuse?.({ documentName, rule: error.rule })
    } else {
      // What cannot be checked is refused; an error other than a broken rule is a guard bug.
      this.config.logger.error({ ...context, err: error }, 'chat guard failed; refusing the update')
      this.config.onRefuse?.({ documentName, rule: 'guard-error' })
    }
    throw new DocumentCloseError(CloseCode.PolicyViolation, error)
  }

  /**
   * Structs Yjs parked while loading (missing dependencies, written before this
   * guard existed) were never checked and would be integrated unchecked the day
   * their dependency arrives: drop them.
   */
  async afterLoadDocument({ document, documentName }: afterLoadDocumentPayload): Promise<void> {
    const parked = parkedStructs(document)
    if (!parked) return
    this.config.logger.warn({ documentName, ...parked }, 'dropped parked Yjs structs that were never checked (missing dependencies)')
    dropParkedStructs(document)
  }

  private hold(connection: Connection, release: () => void): void {
    if (!this.holds.has(connection)) connection.onClose(() => this.release(connection))
    this.holds.set(connection, release)
  }

  private release(connection: Connection): void {
    const release = this.holds.get(connection)
    if (!release) return
    this.holds.set(connection, () => {})
    release()
  }
}
