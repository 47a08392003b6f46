import type {
  Connection,
  Document,
  Extension,
  beforeHandleAwarenessPayload,
  beforeHandleMessagePayload,
  onAwarenessUpdatePayload,
} from '@hocuspocus/server'
import * as decoding from 'lib0/decoding'
import type { Logger } from 'pino'
import { applyAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness'
import { MessageType } from '../../client/protocol.ts'
import { sessionOf } from '../auth/session.ts'
import { originKind } from '../origin.ts'
import { ownersOf } from '../pipeline/owners.ts'
import { reannounceFrames, stateUpdate } from '../presence/awareness-codec.ts'
import { AwarenessOwnership } from '../presence/ownership.ts'
import { type AwarenessEntry, type DecodedFrames, readAwarenessUpdate } from '../ws/frame.ts'

export interface AwarenessGuardConfiguration {
  logger: Logger
  /** Largest awareness state (JSON bytes) a client may publish; larger ones are dropped. */
  maxStateBytes: number
  /** Awareness updates per second per connection (bursts up to as many); more are throttled to the latest. */
  maxRate: number
  /** What the gateway decoded of awareness frames. */
  frames?: DecodedFrames
}

/** The entries of an awareness frame, or undefined for another message type. */
function readAwarenessFrame(frame: Uint8Array): AwarenessEntry[] | undefined {
  const decoder = decoding.createDecoder(frame)
  decoding.readVarString(decoder)
  if (decoding.readVarUint(decoder) !== MessageType.Awareness) return undefined
  return readAwarenessUpdate(decoding.readVarUint8Array(decoder))
}

type SentEntry = AwarenessEntry

/** Per document connection. */
interface GuardState {
  /** The one awareness client id this connection speaks for (the first it sent). */
  boundId?: number
  /** The id it asked for while another entry held it; it gets it when that entry goes. */
  waitingFor?: number
  /** The clock at which it was last asked to announce itself again (once per clock). */
  reannouncedAt?: number
  /**
   * Entries of the awareness frame being handled: set in beforeHandleMessage for
   * every awareness frame, taken by its beforeHandleAwareness (no hook on every
   * other message to clear it).
   */
  pending?: SentEntry[]
  tokens: number
  refilledAt: number
  /** The latest state held back by the rate limit, published when the bucket allows. */
  trailing?: { clock: number; state: Record<string, unknown> }
  trailingTimer?: NodeJS.Timeout
}

/**
 * Presence that cannot be spoofed. Each document connection speaks for one
 * awareness client id — the first it publishes that is not already in use.
 * Entries for any other id are dropped, so nobody can set or remove another
 * client's presence. With a token, `user` is overwritten
 * with the token's identity (`{ id, name, color }`). States over
 * `maxStateBytes` are dropped; updates beyond `maxRate` per second are held
 * back and only the latest is published once the rate allows.
 *
 * A connection's own removal is forwarded (Hocuspocus 4.7 drops removals when
 * it re-encodes an update), and when it leaves, Hocuspocus removes its state
 * for everyone.
 *
 * A client whose entry was removed here while it stayed (it timed out, left
 * another instance after arriving here, or its old instance was declared
 * dead) re-sends a clock y-protocols ignores; it is asked to announce itself
 * again (`reannounceFrames`). One that asked for an id still held by another
 * entry gets it when that entry goes (`AwarenessOwnership`).
 */
export class AwarenessGuard implements Extension {
  readonly extensionName = 'awareness-guard'
  /** After auth (900), before other guards (100) see the states. */
  readonly priority = 800

  private readonly config: AwarenessGuardConfiguration
  private readonly guards = new WeakMap<Connection, GuardState>()
  /** Which connection holds which client id, per document; cluster presence listens to it. */
  readonly ownership = new AwarenessOwnership()

  constructor(config: AwarenessGuardConfiguration) {
    this.config = config
  }

  async beforeHandleMessage({ connection, update }: beforeHandleMessagePayload): Promise<void> {
    // As the gateway decoded it (server/ws/frame.ts); a frame that came another way is read here.
    const entries = this.config.frames?.awarenessOf(update) ?? readAwarenessFrame(update)
    if (entries) this.guardOf(connection).pending = entries
  }

  async beforeHandleAwareness({ connection, states, document }: beforeHandleAwarenessPayload): Promise<void> {
    if (!connection) return // not from a client (server-side or another instance)
    const guard = this.guardOf(connection)
    const sent = guard.pending
    guard.pending = undefined
    if (!sent) {
      this.config.logger.error({ documentName: document.name }, 'awareness update without its frame; dropped')
      return states.clear()
    }
    const byId = new Map(sent.map((entry) => [entry.id, entry]))
    // Hocuspocus decodes into a scratch Awareness that holds a local state of its own: drop what the client did not send.
    for (const id of [...states.keys()]) if (!byId.has(id)) states.delete(id)

    if (guard.boundId === undefined) this.bind(connection, guard, document, sent)
    const own = guard.boundId
    const foreign = [...states.keys()].filter((id) => id !== own)
    for (const id of foreign) states.delete(id)
    // Echoes of states we already hold (a client answering QueryAwareness sends everybody's) are no attempt.
    const spoofed = foreign.filter((id) => byId.get(id)!.clock > (document.awareness.meta.get(id)?.clock ?? 0))
    if (spoofed.length > 0) {
      this.config.logger.warn({ ...this.who(connection), own, foreign: spoofed }, 'dropped awareness states for client ids this connection does not own')
    }
    if (own === undefined) return

    const entry = byId.get(own)
    if (entry?.removal) return this.removeOwn(connection, guard, document, own, entry.clock)
    const state = states.get(own)
    if (!entry || !state) return
    if (entry.bytes > this.config.maxStateBytes) {
      states.delete(own)
      this.config.logger.warn({ ...this.who(connection), bytes: entry.bytes, max: this.config.maxStateBytes }, 'dropped an awareness state over the size limit')
      return
    }
    const held = document.awareness.meta.get(own)?.clock
    if (held !== undefined && entry.clock <= held && !document.awareness.states.has(own)) {
      // Removed here at a clock the client has not passed: y-protocols would ignore this state.
      states.delete(own)
      if (guard.reannouncedAt !== held) {
        guard.reannouncedAt = held
        this.askToReannounce(connection, own, held)
      }
      return
    }
    const user = sessionOf(connection.context)?.user
    if (user) state.user = { id: user.id, name: user.name, color: user.color }
    if (this.take(guard)) {
      guard.trailing = undefined
      return
    }
    states.delete(own)
    guard.trailing = { clock: entry.clock, state }
    this.scheduleTrailing(connection, guard, document, own)
  }

  private guardOf(connection: Connection): GuardState {
    let guard = this.guards.get(connection)
    if (!guard) {
      guard = { tokens: this.config.maxRate, refilledAt: Date.now() }
      this.guards.set(connection, guard)
      const created = guard
      connection.onClose((document) => {
        clearTimeout(created.trailingTimer)
        if (created.waitingFor !== undefined) this.ownership.release(document, created.waitingFor, connection)
        const own = created.boundId
        if (own === undefined || this.ownership.holder(document, own) !== connection) return
        this.ownership.release(document, own, connection)
        // Hocuspocus removes the ids it saw *added* by this connection; one that came back after
        // its own removal counts as updated, not added, so make sure it goes too.
        if (document.awareness.states.has(own)) removeAwarenessStates(document.awareness, [own], null)
      })
    }
    return guard
  }

  /** Entries that went: a connection waiting for one of those ids gets it, and announces itself again. */
  async onAwarenessUpdate({ document, added, removed, transactionOrigin }: onAwarenessUpdatePayload): Promise<void> {
    // A peer instance's client: its instance bound the id and stamped the token's user (Redis carries it).
    if (originKind(transactionOrigin) === 'redis') {
      for (const id of added) {
        const user = (document.awareness.getStates().get(id) as { user?: { id?: unknown } } | undefined)?.user?.id
        if (typeof user === 'string') ownersOf(document).bind(id, user)
      }
    }
    for (const id of removed) {
      const next = this.ownership.nextWaiting(document, id)
      if (!next) continue
      const guard = this.guardOf(next)
      if (guard.boundId !== undefined) continue
      guard.boundId = id
      guard.waitingFor = undefined
      this.ownership.bind(document, id, next)
      this.claim(document, id, next)
      this.askToReannounce(next, id, document.awareness.meta.get(id)?.clock ?? 0)
    }
  }

  /** Ask every connection of the document that speaks for an id to announce itself again (its instance was given up for dead). */
  reannounce(document: Document): void {
    for (const [id, connection] of this.ownership.held(document)) this.askToReannounce(connection, id, document.awareness.meta.get(id)?.clock ?? 0)
  }

  private askToReannounce(connection: Connection, id: number, clock: number): void {
    for (const frame of reannounceFrames(connection.messageAddress, { id, clock })) connection.send(frame)
  }

  /** Bind the first client id the connection publishes, unless another entry holds it. */
  private bind(connection: Connection, guard: GuardState, document: Document, sent: SentEntry[]): void {
    const first = sent.find((entry) => !entry.removal)
    if (!first) return
    const holder = this.ownership.holder(document, first.id)
    // Held by another live connection here, or present without an owner here (another instance's client, or
    // the old state of a reconnecting client): it waits, and gets the id when that entry goes.
    const taken = holder ? holder !== connection && document.hasConnection(holder) : document.awareness.states.has(first.id)
    if (taken) {
      if (guard.waitingFor === first.id) return
      guard.waitingFor = first.id
      this.ownership.wait(document, first.id, connection)
      this.config.logger.info({ ...this.who(connection), clientId: first.id }, 'awareness client id in use; bound when its entry goes')
      return
    }
    guard.boundId = first.id
    guard.waitingFor = undefined
    this.ownership.bind(document, first.id, connection)
    this.claim(document, first.id, connection)
  }

  /** The connection speaks for the id: with a token, its user owns that Yjs client id unless somebody does (server/pipeline/owners.ts). */
  private claim(document: Document, id: number, connection: Connection): void {
    const user = sessionOf(connection.context)?.user
    if (user) ownersOf(document).bind(id, user.id)
  }

  private removeOwn(connection: Connection, guard: GuardState, document: Document, own: number, clock: number): void {
    clearTimeout(guard.trailingTimer)
    guard.trailing = undefined
    const current = document.awareness.meta.get(own)?.clock ?? 0
    if (document.awareness.states.has(own) && clock > current) {
      removeAwarenessStates(document.awareness, [own], { source: 'connection', connection })
    }
  }

  /** Token bucket: `maxRate` per second, bursts up to `maxRate`. */
  private take(guard: GuardState): boolean {
    const now = Date.now()
    const { maxRate } = this.config
    guard.tokens = Math.min(maxRate, guard.tokens + ((now - guard.refilledAt) * maxRate) / 1000)
    guard.refilledAt = now
    if (guard.tokens < 1) return false
    guard.tokens -= 1
    return true
  }

  private scheduleTrailing(connection: Connection, guard: GuardState, document: Document, own: number): void {
    if (guard.trailingTimer !== undefined) return
    const wait = Math.ceil(((1 - guard.tokens) * 1000) / this.config.maxRate)
    guard.trailingTimer = setTimeout(() => {
      guard.trailingTimer = undefined
      const trailing = guard.trailing
      if (!trailing || !document.hasConnection(connection)) return
      if (!this.take(guard)) return this.scheduleTrailing(connection, guard, document, own)
      guard.trailing = undefined
      // Already checked and stamped; an older clock than what was published since is ignored by Yjs.
      applyAwarenessUpdate(document.awareness, stateUpdate(own, trailing.clock, trailing.state), { source: 'connection', connection })
    }, Math.max(1, wait)).unref()
  }

  private who(connection: Connection): Record<string, unknown> {
    return { documentName: connection.document.name, socketId: connection.socketId, user: sessionOf(connection.context)?.user?.id }
  }
}
