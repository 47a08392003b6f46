/**
 * The socket door of the write pipeline: the one Hocuspocus extension that
 * brackets a client's update, for the Hocuspocus protocol and the y-websocket
 * endpoint alike.
 *
 * Hocuspocus awaits `beforeSync` before it applies an update and sends the
 * `SyncStatus` ack, then calls `afterHandleMessage`. In between:
 * 1. `beforeSync`: the role change of a fresh token waits (the session's hold);
 *    the update, as the gateway decoded it, goes through `WritePipeline.admit`
 *    — the checks, then the durable append;
 * 2. Hocuspocus applies it (and broadcasts it) and acks it — unless a check
 *    took part of it out: then the rest is applied here and the update is
 *    answered `SyncStatus(false)`;
 * 3. `afterHandleMessage`: the document's gate and the session are released.
 *
 * A refusal is answered by its catalogue scope: `socket` closes the socket
 * (storage unavailable: the provider reconnects and sends the update again),
 * `document` closes that document for the connection, `write` leaves both
 * open and answers `SyncStatus(false)` — for missing dependencies the client
 * is also asked, once per server state, for a full sync that brings them.
 * `connection.readOnly` is Hocuspocus's public way to make it answer
 * `SyncStatus(false)` without applying: set here for that one message and put
 * back from the session's role after it. Nothing else writes it but auth.
 */
import type { Connection, Extension, afterHandleMessagePayload, afterLoadDocumentPayload, beforeSyncPayload } from '@hocuspocus/server'
import type { Logger } from 'pino'
import * as Y from 'yjs'
import { type CloseCodeInfo, Errors, SyncStep } from '../../client/protocol.ts'
import { type AuthSession, sessionOf } from '../auth/session.ts'
import { DocumentCloseError, type Refusal } from '../errors.ts'
import { dropParkedStructs, parkedStructs } from '../internals.ts'
import { type DecodedFrames, syncMessage } from '../ws/frame.ts'
import { type WritePipeline, isEmptyUpdate } from './pipeline.ts'
import { Write, type Writer } from './write.ts'

export interface SocketDoorConfiguration {
  pipeline: WritePipeline
  frames: DecodedFrames
  logger: Logger
  /** Seconds from the append's end to `afterHandleMessage`: apply, ack and broadcast (metrics). */
  onApplied?: (seconds: number) => void
}

/** Per connection: what its update in flight holds. Messages of one connection are handled one at a time. */
interface InFlight {
  release: (() => void) | undefined
  stored: number | undefined
  /** `connection.readOnly` was set for this one message (a `write`-scoped refusal): put it back after. */
  notAcknowledged: boolean
  /** The refusal was missing dependencies: ask the client for them. */
  deferred: boolean
  /** The document's state vector when this connection was last asked for a full sync. */
  askedAt: string | undefined
}

function writerOf(session: AuthSession | undefined): Writer {
  if (!session) return { role: 'write', principal: null }
  const principal = session.mode === 'token' && session.user ? { id: session.user.id, admin: session.role === 'admin' } : null
  return { role: session.role, principal }
}

const encodeBase64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')

export class SocketDoor implements Extension {
  readonly extensionName = 'write-pipeline'
  /** After auth (900) and the awareness guard (800), which decide who the connection is. */
  readonly priority = 50

  private readonly config: SocketDoorConfiguration
  private readonly inFlight = new WeakMap<Connection, InFlight>()

  constructor(config: SocketDoorConfiguration) {
    this.config = config
  }

  async beforeSync({ type, payload, connection, context, document, documentName }: beforeSyncPayload): Promise<void> {
    if (type === SyncStep.Step1) return
    const session = sessionOf(context)
    session?.hold()
    const state = this.stateOf(connection)
    if (connection.readOnly) return // Hocuspocus answers SyncStatus(false) and applies nothing
    const atDoor = this.config.frames.find(payload)
    const write = new Write({ door: atDoor?.door ?? 'socket', documentName, document, update: payload, writer: writerOf(session), decoded: atDoor?.decoded })
    const admission = await this.config.pipeline.admit(write)
    if (admission.ok) {
      state.release = admission.release
      state.stored = performance.now()
      if (admission.replaced) this.applyRest(connection, state, document, admission.update)
      return
    }
    this.answer(connection, state, admission.refusal, write)
  }

  async afterHandleMessage({ connection, context }: afterHandleMessagePayload): Promise<void> {
    const state = this.inFlight.get(connection)
    const session = sessionOf(context)
    session?.release()
    if (!state) return
    state.release?.()
    state.release = undefined
    if (state.stored !== undefined) {
      this.config.onApplied?.((performance.now() - state.stored) / 1000)
      state.stored = undefined
    }
    if (!state.notAcknowledged) return
    state.notAcknowledged = false
    // The role may have changed meanwhile (a fresh token): the session knows the current one.
    connection.readOnly = session ? session.role === 'read' : false
    if (state.deferred) this.askForWhatIsMissing(connection, state)
  }

  /**
   * Structs Yjs parked while loading (missing dependencies, written before
   * these checks existed) were never checked and would be integrated
   * unchecked the day their dependency arrives: drop them.
   */
  async afterLoadDocument({ document, documentName }: afterLoadDocumentPayload): Promise<void> {
    const parked = parkedStructs(document)
    if (!parked) return
    this.config.logger.warn({ documentName, ...parked }, 'dropped parked Yjs structs that were never checked (missing dependencies)')
    dropParkedStructs(document)
  }

  /**
   * A check took part of the update out: Hocuspocus must not apply the frame
   * it holds, so the connection is read-only for this one message (it answers
   * `SyncStatus(false)`: the sender is not told the part taken out was
   * saved), and the rest — stored already — is applied here, as the
   * connection's change (broadcast like any).
   */
  private applyRest(connection: Connection, state: InFlight, document: Y.Doc, rest: Uint8Array): void {
    connection.readOnly = true
    state.notAcknowledged = true
    if (!isEmptyUpdate(rest)) Y.applyUpdate(document, rest, { source: 'connection', connection })
  }

  private stateOf(connection: Connection): InFlight {
    let state = this.inFlight.get(connection)
    if (!state) {
      state = { release: undefined, stored: undefined, notAcknowledged: false, deferred: false, askedAt: undefined }
      this.inFlight.set(connection, state)
      connection.onClose(() => state?.release?.())
    }
    return state
  }

  private answer(connection: Connection, state: InFlight, refusal: Refusal, write: Write): void {
    const { error, detail, rule } = refusal
    const log = { documentName: write.documentName, socketId: connection.socketId, door: write.door, user: write.writer.principal?.id, bytes: write.update.byteLength, reason: error.reason, rule, detail }
    if (error.scope === 'write') {
      this.config.logger.info(log, error === Errors.MissingDependencies ? 'deferred an update Yjs cannot apply yet; asking the client for a full sync' : 'write not acknowledged')
      connection.readOnly = true
      state.notAcknowledged = true
      state.deferred = error === Errors.MissingDependencies
      return
    }
    this.config.logger.warn(log, 'refused an update')
    const info = error as CloseCodeInfo
    // Close the socket, not just the document, when the catalogue says so: for
    // storage, the provider then reconnects with backoff and sends the update again.
    if (error.scope === 'socket') connection.webSocket.close(info.code, info.reason)
    throw new DocumentCloseError(info)
  }

  private askForWhatIsMissing(connection: Connection, state: InFlight): void {
    state.deferred = false
    // Not twice for the same server state: a client holding structs whose dependencies nobody has would answer
    // with them again and again (an endless ask/answer loop); once the document changes, asking may help again.
    const stateVector = Y.encodeStateVector(connection.document)
    const asked = encodeBase64(stateVector)
    if (state.askedAt === asked) {
      this.config.logger.debug({ documentName: connection.document.name, socketId: connection.socketId }, 'not asking again: nothing changed since the last ask')
      return
    }
    state.askedAt = asked
    // A SyncStep1 with the document's state vector: "send me what I lack".
    connection.send(syncMessage(connection.messageAddress, SyncStep.Step1, stateVector))
  }
}
