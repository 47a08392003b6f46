import { Redis as RedisExtension } from '@hocuspocus/extension-redis'
import type {
  Document,
  Extension,
  Hocuspocus,
  LocalTransactionOrigin,
  RedisTransactionOrigin,
  afterLoadDocumentPayload,
  afterUnloadDocumentPayload,
  beforeBroadcastStatelessPayload,
  beforeUnloadDocumentPayload,
  onAwarenessUpdatePayload,
  onChangePayload,
  onConfigurePayload,
} from '@hocuspocus/server'
import { isTransactionOrigin } from '@hocuspocus/server'
import { Redis as IORedis } from 'ioredis'
import type { Logger } from 'pino'
import * as Y from 'yjs'
import type { CheckState } from '../readiness.ts'
import { applyStored } from '../storage/merge.ts'
import type { Storage } from '../storage/types.ts'

export interface ScaleOutConfiguration {
  /** redis://host:port[/db] */
  url: string
  /** Channel and key prefix. */
  prefix: string
  /** The shared storage every instance writes before it acks (PostgreSQL across hosts). */
  storage: Storage
  logger: Logger
  /** How long a document load waits for its Redis subscription before going on without it. @default 2000 */
  subscribeTimeoutMs?: number
}

/** The Yjs update that changes nothing (no structs, no deletions). */
const EMPTY_UPDATE = Uint8Array.of(0, 0)

/** Transaction origin of changes that came from other instances (not stored again, not republished). */
const FROM_PEERS: RedisTransactionOrigin = { source: 'redis' }

/** Origin of the announcement after a resync: ours, so the stock extension publishes it. */
const RESYNCED: LocalTransactionOrigin = { source: 'local' }

/**
 * Several instances behind a load balancer, sharing edits and awareness through
 * Redis with `@hocuspocus/extension-redis`, made safe for failures:
 *
 * - No Redlock around storing: our persistence appends before every ack, so
 *   there is nothing for a lock to protect — and the stock extension skips the
 *   store (and may unload) when Redis is down.
 * - A document still loads while Redis is down: its subscription is awaited for
 *   at most `subscribeTimeoutMs`, then completes in the background.
 * - Pub/sub is at-most-once. Whenever the subscriber connection comes back
 *   (Redis restarted, connection cut), every loaded document is caught up from
 *   storage (which holds every acknowledged edit of every instance) and its
 *   state vector is published, so peers send back what they have and we lack,
 *   and fetch what we have. Quiet documents resynchronise too.
 *
 * Only the stock extension's public surface is used: its `pub`/`sub` clients
 * (readiness; the subscriber's `ready` starts a resync) and its hooks, called
 * with the payloads Hocuspocus gave us — or, for the announcement after a
 * resync, with one built in full the way Hocuspocus builds it for a change
 * that came from no connection.
 */
export class ScaleOut implements Extension {
  readonly extensionName = 'scale-out'
  readonly priority = 1000

  private readonly config: ScaleOutConfiguration
  private readonly redis: RedisExtension
  private instance: Hocuspocus | undefined
  private subscriberWasReady = false

  constructor(config: ScaleOutConfiguration) {
    this.config = config
    const { logger } = config
    this.redis = new RedisExtension({
      prefix: config.prefix,
      createClient: () => {
        const client = new IORedis(config.url, {
          // Keep commands queued across short outages, retry for ever, back off to 1 s.
          maxRetriesPerRequest: null,
          retryStrategy: (times) => Math.min(100 * times, 1000),
        })
        let down = false
        client.on('error', (error: Error) => {
          if (!down) logger.warn({ err: error, setting: 'REDIS_URL' }, 'redis: connection error; serving local clients only until it is back')
          down = true
        })
        client.on('ready', () => {
          if (down) logger.info('redis: connection back')
          down = false
        })
        return client
      },
    })
    // The subscriber is back (and has subscribed again): what it missed meanwhile is lost.
    this.redis.sub.on('ready', () => {
      if (this.subscriberWasReady) void this.resynchronise()
      this.subscriberWasReady = true
    })
  }

  /** Readiness: Redis down still serves (degraded). */
  health(): CheckState {
    return this.redis.pub.status === 'ready' && this.redis.sub.status === 'ready' ? 'ok' : 'degraded'
  }

  async onConfigure(payload: onConfigurePayload): Promise<void> {
    this.instance = payload.instance
    await this.redis.onConfigure(payload)
  }

  async afterLoadDocument(payload: afterLoadDocumentPayload): Promise<void> {
    const subscribed = this.redis.afterLoadDocument(payload).catch((error: unknown) => {
      this.config.logger.warn({ err: error, documentName: payload.documentName }, 'redis: subscribing failed; resync on reconnect')
    })
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.config.subscribeTimeoutMs ?? 2000)
    })
    await Promise.race([subscribed, timeout])
    clearTimeout(timer)
  }

  onChange(payload: onChangePayload): Promise<unknown> {
    return this.redis.onChange(payload)
  }

  /** Only our own clients' changes: the stock extension would publish again what it just received from a peer. */
  onAwarenessUpdate(payload: onAwarenessUpdatePayload): Promise<unknown> {
    if (isTransactionOrigin(payload.transactionOrigin) && payload.transactionOrigin.source === 'redis') return Promise.resolve()
    return this.redis.onAwarenessUpdate(payload)
  }

  beforeBroadcastStateless(payload: beforeBroadcastStatelessPayload): Promise<unknown> {
    return this.redis.beforeBroadcastStateless(payload)
  }

  beforeUnloadDocument(payload: beforeUnloadDocumentPayload): Promise<unknown> {
    return this.redis.beforeUnloadDocument(payload)
  }

  afterUnloadDocument(payload: afterUnloadDocumentPayload): Promise<unknown> {
    return this.redis.afterUnloadDocument(payload)
  }

  async onDestroy(): Promise<void> {
    await this.redis.onDestroy()
  }

  /** Catch every loaded document up from storage, then ask peers to exchange what differs. */
  async resynchronise(): Promise<void> {
    const instance = this.instance
    if (!instance) return
    const documents = [...instance.documents.values()]
    this.config.logger.info({ documents: documents.length }, 'redis: resynchronising loaded documents')
    await Promise.all(
      documents.map(async (document) => {
        let applied: Uint8Array = EMPTY_UPDATE
        try {
          const stored = await this.config.storage.load(document.name)
          const scratch = new Y.Doc()
          applyStored(scratch, stored)
          const missing = Y.encodeStateAsUpdate(scratch, Y.encodeStateVector(document))
          scratch.destroy()
          Y.applyUpdate(document, missing, FROM_PEERS)
          applied = missing
        } catch (error) {
          this.config.logger.error({ err: error, documentName: document.name }, 'resync from storage failed')
        }
        await this.announce(instance, document, applied)
      }),
    )
  }

  /**
   * Publish our state vector, through the stock extension's `onChange` (which
   * publishes one for every change not from Redis): peers reply with what we
   * lack and ask for what they lack. Even when storage had nothing new for us,
   * peers may lack what we did while we heard nothing. `update`: what the
   * resync applied (possibly nothing).
   */
  private announce(instance: Hocuspocus, document: Document, update: Uint8Array): Promise<unknown> {
    const payload: onChangePayload = {
      instance,
      clientsCount: document.getConnectionsCount(),
      document,
      documentName: document.name,
      requestHeaders: new Headers(),
      requestParameters: new URLSearchParams(),
      socketId: '',
      update,
      transactionOrigin: RESYNCED,
      context: {},
    }
    return this.redis.onChange(payload)
  }

  /** Close the Redis connections (shutdown). */
  async close(): Promise<void> {
    await this.redis.onDestroy().catch((error: unknown) => this.config.logger.warn({ err: error }, 'redis: closing failed'))
  }
}
