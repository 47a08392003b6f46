/**
 * Webhook delivery (docs/events.md#webhooks): for each endpoint, the events
 * after its stored cursor that match its filters, in order, signed the
 * Standard Webhooks way (the `standardwebhooks` package). A failure is
 * retried with exponential backoff and full jitter until `retryForMs` has
 * passed since its first failure; then it is parked and the endpoint goes
 * on. Each turn runs while the storage lets this instance alone deliver for
 * the endpoint (WebhookStore.claim), and its progress is stored when it ends:
 * at-least-once across restarts and instances.
 */
import type { Logger } from 'pino'
import { Webhook } from 'standardwebhooks'
import type { DeliveryOutcome, DeliveryState, EventStore, FeedEvent, WebhookEndpoint, WebhookFailure, WebhookStore } from '../storage/types.ts'
import { documentFilter, envelope, typeFilter } from './envelope.ts'
import { type SendResult, send } from './webhook-send.ts'
import { Rerun } from './rerun.ts'

export interface WebhookDeliveryConfiguration {
  store: WebhookStore
  events: EventStore
  logger: Logger
  timeoutMs: number
  retryForMs: number
  /** The first retry's delay; each next one doubles, up to MAX_BACKOFF_MS. */
  backoffMs: number
  allowPrivate: boolean
  /** Look for work at least this often (retries falling due, other instances' events). @default 1000 */
  tickMs?: number
  /** Each attempt's outcome (metrics). */
  onAttempt?: (outcome: 'delivered' | 'failed' | 'parked') => void
  /** After each round: endpoints waiting to retry, and the age of the oldest event not yet delivered (s). */
  onBacklog?: (retriesPending: number, oldestPendingSeconds: number) => void
}

/** Longest wait between two attempts. */
export const MAX_BACKOFF_MS = 600_000
/** Events delivered per endpoint per turn (the turn's progress is stored after it). */
const BATCH = 100
/**
 * Endpoints delivered for at once. A turn holds a database connection on
 * PostgreSQL (its row lock) for as long as its requests take: a few at a
 * time, so the appends always find connections in the pool.
 */
const CONCURRENT_TURNS = 3
/** A turn takes no new event after this long. */
const TURN_MS = 60_000

/** The wait before attempt `attempts + 1`: exponential, capped, with full jitter in its upper half. */
export function backoff(attempts: number, baseMs: number, random = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempts - 1))
  return Math.round(ceiling * (0.5 + random() / 2))
}

export class WebhookDelivery {
  private readonly config: WebhookDeliveryConfiguration
  private timer: NodeJS.Timeout | undefined
  private readonly rounds = new Rerun(
    () => this.round(),
    (error) => this.config.logger.error({ err: error }, 'webhook delivery round failed; trying again'),
  )
  private closed = false
  /** Per endpoint: the time of the oldest event it has not had (for the metric). */
  private readonly oldest = new Map<string, number>()
  private readonly signers = new Map<string, Webhook>()

  constructor(config: WebhookDeliveryConfiguration) {
    this.config = config
  }

  start(): void {
    this.timer = setInterval(() => this.wake(), this.config.tickMs ?? 1000)
    this.timer.unref()
    this.wake()
  }

  /** New events, or a retry may be due: deliver now (one round at a time). */
  wake(): void {
    if (!this.closed) this.rounds.wake()
  }

  private async round(): Promise<void> {
    const endpoints = await this.config.store.list()
    const queue = [...endpoints]
    const worker = async () => {
      for (let e = queue.shift(); e && !this.closed; e = queue.shift()) await this.config.store.claim(e.id, Date.now(), (endpoint, replays) => this.turn(endpoint, replays))
    }
    await Promise.all(Array.from({ length: CONCURRENT_TURNS }, worker))
    for (const id of this.oldest.keys()) if (!endpoints.some((e) => e.id === id)) this.oldest.delete(id)
    const retrying = (await this.config.store.list()).filter((e) => e.attempts > 0).length
    const oldest = Math.min(...this.oldest.values())
    this.config.onBacklog?.(retrying, Number.isFinite(oldest) ? Math.max(0, (Date.now() - oldest) / 1000) : 0)
  }

  private signer(endpoint: WebhookEndpoint): Webhook {
    let signer = this.signers.get(endpoint.secret)
    if (!signer) this.signers.set(endpoint.secret, (signer = new Webhook(endpoint.secret)))
    return signer
  }

  private async post(endpoint: WebhookEndpoint, event: FeedEvent): Promise<SendResult> {
    const body = JSON.stringify(envelope(event))
    const id = String(event.id)
    const now = new Date()
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': this.signer(endpoint).sign(id, now, body),
    }
    return send(endpoint.url, body, headers, { timeoutMs: this.config.timeoutMs, allowPrivate: this.config.allowPrivate })
  }

  /** One endpoint's turn: replays asked for, then its events in order until one fails (or a batch is done). */
  private async turn(endpoint: WebhookEndpoint, replays: readonly WebhookFailure[]): Promise<DeliveryOutcome> {
    const replayed: Array<{ id: number; delivered: boolean; error?: string }> = []
    for (const f of replays) {
      const event = (await this.config.events.read(f.event - 1, 1))[0]
      if (!event || event.id !== f.event) {
        replayed.push({ id: f.id, delivered: false, error: 'the event is no longer kept (EVENTS_RETENTION_MS)' })
        continue
      }
      const result = await this.post(endpoint, event)
      replayed.push({ id: f.id, delivered: result.ok, error: result.error })
    }
    let state: DeliveryState = endpoint
    const parked: Array<{ event: number; attempts: number; lastError: string }> = []
    if (endpoint.nextAt > Date.now()) return { state, parked, replayed }
    const types = typeFilter(endpoint.types)
    const documents = documentFilter(endpoint.documents)
    const events = await this.config.events.read(endpoint.cursor, BATCH)
    this.oldest.delete(endpoint.id)
    const started = Date.now()
    for (const event of events) {
      // A turn is short: its progress is stored when it ends, and its hold on the endpoint is let go.
      if (this.closed || Date.now() - started > TURN_MS) break
      if (!types(event.type) || !documents(event.document)) {
        state = { ...state, cursor: event.id }
        continue
      }
      const result = await this.post(endpoint, event)
      if (result.ok) {
        this.config.onAttempt?.('delivered')
        state = { cursor: event.id, attempts: 0, nextAt: 0, firstFailedAt: null, lastError: null }
        continue
      }
      const now = Date.now()
      const attempts = state.attempts + 1
      const first = state.firstFailedAt ?? now
      const error = result.error ?? 'failed'
      if (now - first >= this.config.retryForMs) {
        this.config.onAttempt?.('parked')
        this.config.logger.warn({ endpoint: endpoint.id, event: event.id, attempts, error }, 'webhook delivery given up after WEBHOOK_RETRY_FOR_MS; parked (it can be replayed)')
        parked.push({ event: event.id, attempts, lastError: error })
        state = { cursor: event.id, attempts: 0, nextAt: 0, firstFailedAt: null, lastError: error }
        continue
      }
      this.config.onAttempt?.('failed')
      this.oldest.set(endpoint.id, event.time)
      state = { cursor: state.cursor, attempts, nextAt: now + backoff(attempts, this.config.backoffMs), firstFailedAt: first, lastError: error }
      this.config.logger.info({ endpoint: endpoint.id, event: event.id, attempts, error, retryInMs: state.nextAt - now }, 'webhook delivery failed; will retry')
      // Sooner than the next tick, when the retry is due sooner.
      if (state.nextAt - now < (this.config.tickMs ?? 1000)) setTimeout(() => this.wake(), state.nextAt - now + 1).unref()
      break
    }
    // A full batch went (or the turn was cut short): there may be more now.
    if (state.attempts === 0 && state.cursor < (events.at(-1)?.id ?? 0)) this.rounds.another()
    if (events.length === BATCH && state.attempts === 0) this.rounds.another()
    return { state, parked, replayed }
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    await this.rounds.settled()
  }
}
