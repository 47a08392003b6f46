import { randomUUID } from 'node:crypto'
import { type Document, type Extension, type Hocuspocus, type onAwarenessUpdatePayload, type onConfigurePayload } from '@hocuspocus/server'
import { Redis as IORedis } from 'ioredis'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { Logger } from 'pino'
import { applyAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness'
import { removalUpdate, removalsIn } from '../presence/awareness-codec.ts'
import { Heartbeat } from '../presence/heartbeat.ts'
import { type HostedEntry, presenceKeys } from '../presence/keys.ts'
import type { AwarenessGuard } from './awareness-guard.ts'
import { FROM_PEERS, originKind } from '../origin.ts'

export interface ClusterPresenceConfiguration {
  /** redis://host:port[/db] */
  url: string
  /** The Redis prefix of the deployment (REDIS_PREFIX). */
  prefix: string
  logger: Logger
  /** Who speaks for which awareness client id here. */
  guard: AwarenessGuard
  /** PRESENCE_HEARTBEAT_MS: announce this instance, and look at the others, this often. */
  heartbeatMs: number
  /** PRESENCE_DEAD_AFTER_MS: an instance silent this long is dead; its clients leave. */
  deadAfterMs: number
  /** Metrics: leaves published, leaves applied from other instances, clients removed with a dead instance. */
  onEvent?: (event: 'leave-published' | 'leave-applied' | 'dead-instance' | 'dead-client-removed', count: number) => void
  /** Metrics: Redis holds the record of all `size` client ids hosted here. */
  onRecorded?: (size: number) => void
}

/** A removal made here for a client of ours: by its connection, or (origin null) because the connection went. */
function isLocalRemoval(origin: unknown): boolean {
  return origin === null || originKind(origin) === 'connection'
}

function encodeLeave(instanceId: string, documentName: string, update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarString(e, instanceId)
  encoding.writeVarString(e, documentName)
  encoding.writeVarUint8Array(e, update)
  return encoding.toUint8Array(e)
}

/**
 * Presence across instances, on top of the stock Redis extension (which fans
 * the awareness states out):
 *
 * - **Leaves within a second.** The stock extension publishes awareness only
 *   while the document still has a connection here, and Hocuspocus removes
 *   that connection before the hook runs, so the last client of an instance to
 *   leave a document stayed on the others until their 30 s awareness timeout.
 *   Every removal of one of our clients is published here, on a channel of our
 *   own (`<prefix>~leaves`), whatever is left.
 * - **Dead instances within seconds.** A heartbeat worker announces this
 *   instance and its hosted client ids, and reports the instances that stopped
 *   announcing; their clients are removed here, and our peers see them leave.
 *   When our own announcement had lapsed (frozen, cut off from Redis), our
 *   clients are asked to announce themselves again.
 */
export class ClusterPresence implements Extension {
  readonly extensionName = 'cluster-presence'

  private readonly config: ClusterPresenceConfiguration
  private readonly instanceId = randomUUID()
  private readonly keys
  private readonly pub: IORedis
  private readonly sub: IORedis
  private readonly heartbeat: Heartbeat
  private instance: Hocuspocus | undefined

  constructor(config: ClusterPresenceConfiguration) {
    this.config = config
    this.keys = presenceKeys(config.prefix)
    const connect = () => new IORedis(config.url, { maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(100 * times, 1000) })
    this.pub = connect()
    this.sub = connect()
    let down = false
    for (const client of [this.pub, this.sub]) {
      client.on('error', (error: Error) => {
        if (!down) config.logger.warn({ err: error }, 'cluster presence: redis connection error; leaves wait until it is back')
        down = true
      })
      client.on('ready', () => (down = false))
    }
    this.sub.subscribe(this.keys.leaves).catch((error: unknown) => config.logger.error({ err: error }, 'cluster presence: subscribing failed'))
    this.sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => this.received(message))
    this.heartbeat = new Heartbeat({
      url: config.url,
      prefix: config.prefix,
      instanceId: this.instanceId,
      heartbeatMs: config.heartbeatMs,
      deadAfterMs: config.deadAfterMs,
      logger: config.logger,
      onDead: (instanceId, entries, decidedAt) => this.removeDead(instanceId, entries, decidedAt),
      onRevived: () => this.reannounce(),
      onRecorded: config.onRecorded,
      hostedNow: () => [...(this.instance?.documents.values() ?? [])].flatMap((d) => config.guard.ownership.held(d).map(([id]): HostedEntry => [d.name, id])),
    })
    config.guard.ownership.listen({
      bound: (documentName, clientId) => this.heartbeat.hosted(documentName, clientId, true),
      released: (documentName, clientId) => this.heartbeat.hosted(documentName, clientId, false),
    })
  }

  /**
   * Resolves once this instance has announced itself (so a crash right after
   * start still takes its clients along), or after `timeoutMs` with a warning
   * (Redis unreachable: it announces itself when Redis is back).
   */
  async announced(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)))
    if ((await Promise.race([this.heartbeat.announced, late])) === 'late') {
      this.config.logger.warn({ timeoutMs }, 'cluster presence: not announced yet; serving anyway')
    }
    clearTimeout(timer)
  }

  async onConfigure({ instance }: onConfigurePayload): Promise<void> {
    this.instance = instance
  }

  /** Publish every removal of one of our clients (the stock extension skips it when nobody is left here). */
  async onAwarenessUpdate({ documentName, awareness, removed, transactionOrigin }: onAwarenessUpdatePayload): Promise<void> {
    if (removed.length === 0 || !isLocalRemoval(transactionOrigin)) return
    const update = removalUpdate(removed.map((id) => ({ id, clock: awareness.meta.get(id)?.clock ?? 0 })))
    try {
      await this.pub.publish(this.keys.leaves, Buffer.from(encodeLeave(this.instanceId, documentName, update)))
      this.config.onEvent?.('leave-published', removed.length)
    } catch (error) {
      this.config.logger.warn({ err: error, documentName, removed }, 'cluster presence: could not publish a leave; peers drop it after the awareness timeout')
    }
  }

  /** A leave from another instance: apply its removals, except of ids a connection of ours speaks for. */
  private received(message: Buffer): void {
    let from: string, documentName: string, removals: ReturnType<typeof removalsIn>
    try {
      const decoder = decoding.createDecoder(new Uint8Array(message))
      from = decoding.readVarString(decoder)
      documentName = decoding.readVarString(decoder)
      removals = removalsIn(decoding.readVarUint8Array(decoder))
    } catch (error) {
      return this.config.logger.warn({ err: error }, 'cluster presence: ignored a malformed leave message')
    }
    if (from === this.instanceId) return
    const document = this.instance?.documents.get(documentName)
    if (!document) return
    const gone = removals.filter(({ id }) => document.awareness.states.has(id) && !this.config.guard.ownership.heldHere(document, id))
    if (gone.length === 0) return
    applyAwarenessUpdate(document.awareness, removalUpdate(gone), FROM_PEERS)
    this.config.onEvent?.('leave-applied', gone.length)
  }

  /** Another instance is dead: its clients leave every document loaded here (unless they came back meanwhile). */
  private removeDead(instanceId: string, entries: HostedEntry[], decidedAt: number): void {
    const byDocument = new Map<string, number[]>()
    for (const [documentName, clientId] of entries) byDocument.set(documentName, [...(byDocument.get(documentName) ?? []), clientId])
    let removed = 0
    for (const [documentName, ids] of byDocument) {
      const document: Document | undefined = this.instance?.documents.get(documentName)
      if (!document) continue
      const { awareness } = document
      const gone = ids.filter((id) => awareness.states.has(id) && (awareness.meta.get(id)?.lastUpdated ?? 0) <= decidedAt && !this.config.guard.ownership.heldHere(document, id))
      if (gone.length === 0) continue
      removeAwarenessStates(awareness, gone, FROM_PEERS)
      removed += gone.length
    }
    this.config.onEvent?.('dead-instance', 1)
    this.config.onEvent?.('dead-client-removed', removed)
    this.config.logger.warn({ deadInstance: instanceId, hosted: entries.length, removed }, 'cluster presence: an instance stopped announcing itself; its clients left')
  }

  /** Our announcement had lapsed, so the others removed our clients: each is asked to announce itself again. */
  private reannounce(): void {
    for (const document of this.instance?.documents.values() ?? []) this.config.guard.reannounce(document)
  }

  /** Shutdown, after the connections closed (their leaves are published): withdraw the announcement, close Redis. */
  async close(): Promise<void> {
    await this.heartbeat.stop()
    // QUIT goes after the publishes still queued; do not wait for a Redis that is away.
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, 500)))
    await Promise.race([this.pub.quit().catch(() => undefined), late])
    clearTimeout(timer)
    this.pub.disconnect()
    this.sub.disconnect()
  }
}
