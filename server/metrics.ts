import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { MessageType } from '../client/protocol.ts'

/** How often the event-loop lag is sampled, ms. */
const LAG_SAMPLE_MS = 100

/** Prometheus label for each message type. */
const TYPE_LABEL: Record<number, string> = {
  [MessageType.Sync]: 'sync',
  [MessageType.Awareness]: 'awareness',
  [MessageType.Auth]: 'auth',
  [MessageType.QueryAwareness]: 'query_awareness',
  [MessageType.SyncReply]: 'sync_reply',
  [MessageType.Stateless]: 'stateless',
  [MessageType.BroadcastStateless]: 'broadcast_stateless',
  [MessageType.Close]: 'close',
  [MessageType.SyncStatus]: 'sync_status',
  [MessageType.Ping]: 'ping',
  [MessageType.Pong]: 'pong',
}

export function typeLabel(type: number): string {
  return TYPE_LABEL[type] ?? 'other'
}

/** Slots of the per-type tallies: one per message type below OTHER, then pongs, then every other type. */
const OTHER = 16
const PONG_SLOT = OTHER
const OTHER_SLOT = OTHER + 1
const slotOf = (type: number) => (type === -1 ? PONG_SLOT : type >= 0 && type < OTHER ? type : OTHER_SLOT)
const slotLabel = (slot: number) => (slot === PONG_SLOT ? 'pong' : slot === OTHER_SLOT ? 'other' : typeLabel(slot))

/**
 * Frame counts and bytes, counted as plain numbers (prom-client's `inc`
 * hashes and validates labels on every call, a dozen times per edit here) and
 * handed to the Prometheus counters when scraped: each counter's `collect`
 * adds what was counted since the last scrape.
 */
class FrameTally {
  readonly received = new Float64Array(OTHER_SLOT + 1)
  readonly sent = new Float64Array(OTHER_SLOT + 1)
  bytesReceived = 0
  bytesSent = 0

  counter(registry: Registry, name: string, help: string, what: 'received' | 'sent' | 'bytesReceived' | 'bytesSent'): Counter {
    if (what === 'received' || what === 'sent') {
      const counts = this[what]
      const reported = new Float64Array(OTHER_SLOT + 1)
      return new Counter({
        name,
        help,
        labelNames: ['type'],
        registers: [registry],
        collect() {
          for (let slot = 0; slot < counts.length; slot++) {
            const delta = counts[slot]! - reported[slot]!
            if (delta > 0) this.inc({ type: slotLabel(slot) }, delta)
            reported[slot] = counts[slot]!
          }
        },
      })
    }
    let reported = 0
    const read = () => this[what]
    return new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const now = read()
        if (now > reported) this.inc(now - reported)
        reported = now
      },
    })
  }
}

/**
 * The server's Prometheus metrics, on a registry of its own (several servers
 * can live in one process, as in tests). Process metrics and event-loop lag
 * come from prom-client's defaults.
 */
export class Metrics {
  readonly registry = new Registry()
  // Per frame, on the hot path: plain numbers, handed to prom-client when scraped (see FrameTally).
  private readonly frames = new FrameTally()
  readonly messagesReceived = this.frames.counter(this.registry, 'collab_messages_received_total', 'Inbound frames accepted, by message type', 'received')
  readonly messagesSent = this.frames.counter(this.registry, 'collab_messages_sent_total', 'Outbound frames, by message type', 'sent')
  readonly bytesReceived = this.frames.counter(this.registry, 'collab_bytes_received_total', 'Inbound frame bytes accepted', 'bytesReceived')
  readonly echoesDropped = new Counter({ name: 'collab_echoes_dropped_total', help: "Broadcasts of a client's own update not sent back to it (server/ws/echo.ts)", registers: [this.registry] })
  readonly bytesSent = this.frames.counter(this.registry, 'collab_bytes_sent_total', 'Outbound frame bytes', 'bytesSent')
  readonly rejected = new Counter({ name: 'collab_messages_rejected_total', help: 'Inbound frames refused, by reason', labelNames: ['reason'], registers: [this.registry] })
  readonly persistSeconds = new Histogram({
    name: 'collab_persist_seconds',
    help: 'Time to durably append one update (group commit included)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  })
  readonly persistFailures = new Counter({ name: 'collab_persist_failures_total', help: 'Appends that failed (nothing was acknowledged)', registers: [this.registry] })
  readonly applySeconds = new Histogram({
    name: 'collab_update_apply_seconds',
    help: 'Time to apply one stored update to the document, ack and broadcast it',
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [this.registry],
  })
  readonly writesRefused = new Counter({
    name: 'collab_writes_refused_total',
    help: 'Writes the write pipeline refused, by door (socket, yws, rest, restore), catalogue reason and rule (e.g. the chat rule; unappliable = missing dependencies, deferred until the client syncs)',
    labelNames: ['door', 'reason', 'rule'],
    registers: [this.registry],
  })
  readonly foreignStructs = new Counter({
    name: 'collab_foreign_structs_dropped_total',
    help: 'Updates whose new structs under another user’s Yjs client id were taken out (client-id-owned), by door (who sent them and whose ids they were: in the log line)',
    labelNames: ['door'],
    registers: [this.registry],
  })
  readonly coldSyncs = new Counter({ name: 'collab_cold_syncs_total', help: 'Stored documents sent to a client that held nothing while they loaded (server/ws/cold-sync.ts)', registers: [this.registry] })
  readonly autoVersions = new Counter({ name: 'collab_auto_versions_total', help: 'Automatic version attempts, by outcome (covered: the newest automatic version, maybe saved by another instance, already held that state)', labelNames: ['outcome'], registers: [this.registry] })
  readonly clusterPresence = new Counter({ name: 'collab_cluster_presence_total', help: 'Presence across instances (Redis): leave-published, leave-applied (from another instance), dead-instance, dead-client-removed', labelNames: ['event'], registers: [this.registry] })
  readonly presenceRecorded = new Gauge({ name: 'collab_presence_recorded', help: 'With Redis: client ids hosted here whose record is in Redis (so they leave with this instance if it dies)', registers: [this.registry] })
  readonly webhookDeliveries = new Counter({ name: 'collab_webhook_deliveries_total', help: 'Webhook attempts, by outcome (delivered; failed: will be retried; parked: given up after WEBHOOK_RETRY_FOR_MS)', labelNames: ['outcome'], registers: [this.registry] })
  readonly webhookRetriesPending = new Gauge({ name: 'collab_webhook_retries_pending', help: 'Webhook endpoints waiting to retry a failed delivery', registers: [this.registry] })
  readonly webhookOldestPending = new Gauge({ name: 'collab_webhook_oldest_pending_seconds', help: 'Age of the oldest event an endpoint is waiting to retry (0: none)', registers: [this.registry] })
  readonly streamsEnded = new Counter({ name: 'collab_streams_ended_total', help: 'Event streams the server ended, by reason (slow-consumer, token-expired, server-shutting-down, cursor-gone)', labelNames: ['reason'], registers: [this.registry] })
  readonly compactions = new Counter({ name: 'collab_compactions_total', help: 'Log compactions, by outcome', labelNames: ['outcome'], registers: [this.registry] })
  readonly loadSeconds = new Histogram({
    name: 'collab_document_load_seconds',
    help: 'Time to load one document once admitted: storage read and build (waiting in the load queue not included)',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  })
  readonly sharedStateBytes = new Counter({ name: 'collab_shared_state_bytes_total', help: 'Bytes sent from a shared encoding of a loaded document to clients that held nothing (server/ws/shared-state.ts)', registers: [this.registry] })
  readonly eventLoopLag = new Histogram({
    name: 'collab_event_loop_lag_seconds',
    help: `How late a timer set every ${LAG_SAMPLE_MS} ms fires: the event loop's delay, as a histogram`,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  })
  private lagTimer: NodeJS.Timeout | undefined

  constructor() {
    collectDefaultMetrics({ register: this.registry })
    let expected = performance.now() + LAG_SAMPLE_MS
    this.lagTimer = setInterval(() => {
      const now = performance.now()
      this.eventLoopLag.observe(Math.max(0, now - expected) / 1000)
      expected = now + LAG_SAMPLE_MS
    }, LAG_SAMPLE_MS)
    this.lagTimer.unref()
  }

  /** Stop sampling the event loop (shutdown). */
  stop(): void {
    clearInterval(this.lagTimer)
  }

  /** The load queue's length, read at scrape time. */
  loadQueue(queue: { readonly length: number; readonly active: number }): void {
    new Gauge({ name: 'collab_load_queue_length', help: 'Document loads waiting for a slot (LOAD_CONCURRENCY)', registers: [this.registry], collect() { this.set(queue.length) } })
    new Gauge({ name: 'collab_loads_active', help: 'Document loads running now', registers: [this.registry], collect() { this.set(queue.active) } })
  }

  /** One inbound frame accepted (`type` -1: a pong). */
  frameReceived(type: number, bytes: number): void {
    this.frames.received[slotOf(type)]! += 1
    this.frames.bytesReceived += bytes
  }

  /** One outbound frame. */
  frameSent(type: number, bytes: number): void {
    this.frames.sent[slotOf(type)]! += 1
    this.frames.bytesSent += bytes
  }

  /** Gauges read at scrape time from the live server. */
  gauges(sources: { connections: () => number; documents: () => number }): void {
    new Gauge({ name: 'collab_connections', help: 'Open connections: WebSockets and HTTP fallback sessions', registers: [this.registry], collect() { this.set(sources.connections()) } })
    new Gauge({ name: 'collab_documents_loaded', help: 'Documents loaded in memory', registers: [this.registry], collect() { this.set(sources.documents()) } })
  }
}
