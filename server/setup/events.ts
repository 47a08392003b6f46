/**
 * The change feed wired from the configuration (docs/events.md): the
 * coalescer the persistence appends through, the feed readers follow, and
 * (later) the streams and webhooks on top.
 */
import { randomUUID } from 'node:crypto'
import type { Hocuspocus } from '@hocuspocus/server'
import type { Logger } from 'pino'
import * as Y from 'yjs'
import { type CollabConfig, ConfigError } from '../config.ts'
import type { Metrics } from '../metrics.ts'
import { loadWebhooksFile } from '../events/webhook-config.ts'
import { WebhookDelivery } from '../events/webhooks.ts'
import { Coalescer, type DocumentState } from '../events/coalescer.ts'
import { Feed } from '../events/feed.ts'
import { Tickets } from '../http/api/tickets.ts'
import { Streams } from '../http/stream.ts'
import type { Persistence } from '../extensions/persistence.ts'
import { foldState } from '../storage/merge.ts'
import { PostgresStorage } from '../storage/postgres.ts'
import type { NewEvent, Storage } from '../storage/types.ts'

export interface EventsSetup {
  readonly feed: Feed
  readonly coalescer: Coalescer
  /** The long-lived streams (SSE) and their tickets. */
  readonly streams: Streams
  readonly tickets: Tickets
  readonly webhooks: WebhookDelivery
  /** Write events outside an append (document.deleted, version.*). Never throws: a failure is logged. */
  publish(events: readonly NewEvent[]): Promise<void>
  /** Once Hocuspocus exists: where a document's state is read from. */
  attach(hocuspocus: Hocuspocus, persistence: Persistence): void
  /** Follow the outbox; pay marks left by a crash. */
  start(): Promise<void>
  /** Shutdown, after the last append and before storage closes: write what is pending. */
  close(): Promise<void>
}

/** Throws ConfigError for an unusable WEBHOOKS_FILE. */
export function createEvents(config: CollabConfig, deps: { storage: Storage; logger: Logger; metrics: Metrics }): EventsSetup | undefined {
  if (!config.events) return undefined
  const { storage, logger, metrics } = deps
  let configured: ReturnType<typeof loadWebhooksFile> = []
  try {
    if (config.webhooksFile) configured = loadWebhooksFile(config.webhooksFile)
  } catch (error) {
    throw new ConfigError([`WEBHOOKS_FILE=${JSON.stringify(config.webhooksFile)} is not valid: ${error instanceof Error ? error.message : String(error)}`])
  }
  const instance = randomUUID()
  let hocuspocus: Hocuspocus | undefined
  let persistence: Persistence | undefined
  const feed = new Feed({ events: storage.events, logger, retentionMs: config.eventsRetentionMs })
  const stateOf = async (name: string): Promise<DocumentState> => {
    const loaded = hocuspocus?.documents.get(name)
    if (loaded) return { stateVector: Buffer.from(Y.encodeStateVector(loaded)).toString('base64'), size: persistence?.storedBytes(name) ?? 0 }
    const stored = await storage.load(name)
    const state = foldState(stored)
    const size = (stored.snapshot?.byteLength ?? 0) + stored.updates.reduce((s, u) => s + u.byteLength, 0)
    return { stateVector: Buffer.from(Y.encodeStateVectorFromUpdate(state)).toString('base64'), size }
  }
  const coalescer = new Coalescer({ events: storage.events, logger, instance, windowMs: config.eventsWindowMs, stateOf, onWritten: (events) => feed.written(events), sendersSince: (document, since) => storage.senders(document, since) })
  // A mark (or SQLite line) not renewed for this long is a dead instance's, paid by whoever sees it.
  const shared = storage instanceof PostgresStorage
  const graceMs = 10 * config.eventsWindowMs + 30_000
  let sweep: NodeJS.Timeout | undefined
  let retry: NodeJS.Timeout | undefined
  let closed = false
  const begin = async (): Promise<void> => {
    await storage.events.begin(instance)
    await feed.start()
    // What dead instances owe: at once for those known dead (SQLite: a process no longer running), else after the grace.
    await recover(Date.now() - graceMs)
    sweep = setInterval(() => {
      void storage.events.alive(instance).catch((error: unknown) => logger.warn({ err: error }, 'could not say this instance is alive'))
      void recover(Date.now() - graceMs)
    }, Math.floor(graceMs / 3))
    sweep.unref()
    // The deployment's endpoints: new ones start with the next event; those no longer in the file go.
    const head = feed.newest
    for (const endpoint of configured) await storage.webhooks.put(endpoint, head)
    for (const old of await storage.webhooks.list()) {
      if (old.source === 'config' && !configured.some((e) => e.id === old.id)) await storage.webhooks.delete(old.id)
    }
    webhooks.start()
  }
  const recover = (before: number) =>
    coalescer.recover(before).catch((error: unknown) => {
      logger.error({ err: error }, 'could not write the events owed from before a restart; trying again later')
    })
  const streams = new Streams(config, logger)
  streams.onEnd = (why) => {
    if (why) metrics.streamsEnded.inc({ reason: why.reason })
  }
  const webhooks = new WebhookDelivery({
    store: storage.webhooks,
    events: storage.events,
    logger,
    timeoutMs: config.webhookTimeoutMs,
    retryForMs: config.webhookRetryForMs,
    backoffMs: config.webhookBackoffMs,
    allowPrivate: config.webhookAllowPrivate,
    onAttempt: (outcome) => metrics.webhookDeliveries.inc({ outcome }),
    onBacklog: (pending, oldest) => {
      metrics.webhookRetriesPending.set(pending)
      metrics.webhookOldestPending.set(oldest)
    },
  })
  feed.onEvents(() => webhooks.wake())
  return {
    feed,
    coalescer,
    streams,
    tickets: new Tickets(),
    webhooks,
    publish: async (events) => {
      try {
        await feed.publish(events)
      } catch (error) {
        logger.error({ err: error, types: events.map((e) => e.type) }, 'could not store events')
      }
    },
    attach(h, p) {
      hocuspocus = h
      persistence = p
    },
    async start() {
      // Storage may be unreachable at start (PostgreSQL down): the server starts anyway, and this is tried again.
      const boot = async (): Promise<void> => {
        try {
          await begin()
        } catch (error) {
          if (closed) return
          logger.error({ err: error }, 'the change feed could not start (storage unreachable?); trying again in 5 s')
          retry = setTimeout(() => void boot(), 5000)
          retry.unref()
        }
      }
      // SQLite: marks left by a crash are paid before the first client comes; PostgreSQL may be slow to answer: in the background.
      if (shared) void boot()
      else await boot()
    },
    async close() {
      closed = true
      streams.closeAll()
      clearTimeout(retry)
      if (sweep) clearInterval(sweep)
      // Everything paid: this instance's line can go (else it stays, and is paid after the grace).
      if (await coalescer.close()) await storage.events.end(instance).catch((error: unknown) => logger.warn({ err: error }, 'could not end this instance’s event line'))
      await webhooks.close()
      await feed.close()
    },
  }
}
