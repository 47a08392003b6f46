/**
 * Webhook endpoints and their delivery state on PostgreSQL, shared by every
 * instance. One instance at a time delivers for an endpoint: it holds the
 * endpoint's row lock (`FOR UPDATE SKIP LOCKED`, so the others skip it rather
 * than wait) for the whole turn, and writes the turn's progress before
 * letting go. An instance that dies mid-turn loses its connection, and so its
 * lock; its progress since the last turn was not written, so those events are
 * delivered again (at-least-once).
 */
import type pg from 'pg'
import { endpointOf, failureOf } from './sqlite-webhooks.ts'
import type { DeliveryOutcome, WebhookConfig, WebhookEndpoint, WebhookFailure, WebhookStore } from './types.ts'

type Row = Parameters<typeof endpointOf>[0]
type FRow = Parameters<typeof failureOf>[0]

export class PostgresWebhooks implements WebhookStore {
  private readonly pool: pg.Pool
  private readonly migrate: () => Promise<void>

  constructor(pool: pg.Pool, migrate: () => Promise<void>) {
    this.pool = pool
    this.migrate = migrate
  }

  async list(): Promise<WebhookEndpoint[]> {
    await this.migrate()
    return (await this.pool.query<Row>('SELECT * FROM collab_webhook_endpoints ORDER BY id')).rows.map(endpointOf)
  }

  async get(id: string): Promise<WebhookEndpoint | null> {
    await this.migrate()
    const row = (await this.pool.query<Row>('SELECT * FROM collab_webhook_endpoints WHERE id = $1', [id])).rows[0]
    return row ? endpointOf(row) : null
  }

  async put(e: WebhookConfig, cursor: number): Promise<WebhookEndpoint> {
    await this.migrate()
    await this.pool.query(
      `INSERT INTO collab_webhook_endpoints (id, url, secret, types, documents, source, created_by, cursor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (id) DO UPDATE SET url = excluded.url, secret = excluded.secret, types = excluded.types, documents = excluded.documents
       WHERE collab_webhook_endpoints.source = 'config' AND excluded.source = 'config'`,
      [e.id, e.url, e.secret, JSON.stringify(e.types), JSON.stringify(e.documents), e.source, e.createdBy, cursor],
    )
    return (await this.get(e.id))!
  }

  async delete(id: string): Promise<boolean> {
    await this.migrate()
    const { rowCount } = await this.pool.query('WITH f AS (DELETE FROM collab_webhook_failures WHERE endpoint = $1) DELETE FROM collab_webhook_endpoints WHERE id = $1', [id])
    return (rowCount ?? 0) > 0
  }

  async claim(id: string, now: number, work: (endpoint: WebhookEndpoint, replays: readonly WebhookFailure[]) => Promise<DeliveryOutcome>): Promise<boolean> {
    await this.migrate()
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      const row = (await client.query<Row>('SELECT * FROM collab_webhook_endpoints WHERE id = $1 FOR UPDATE SKIP LOCKED', [id])).rows[0]
      const replays = row ? (await client.query<FRow>('SELECT * FROM collab_webhook_failures WHERE endpoint = $1 AND replay ORDER BY id', [id])).rows.map(failureOf) : []
      if (!row || (Number(row.next_at) > now && replays.length === 0)) {
        await client.query('COMMIT')
        return false
      }
      const { state, parked, replayed } = await work(endpointOf(row), replays)
      const at = Date.now()
      await client.query('UPDATE collab_webhook_endpoints SET cursor = $2, attempts = $3, next_at = $4, first_failed_at = $5, last_error = $6 WHERE id = $1', [
        id,
        state.cursor,
        state.attempts,
        state.nextAt,
        state.firstFailedAt,
        state.lastError,
      ])
      for (const p of parked) {
        await client.query('INSERT INTO collab_webhook_failures (endpoint, event, attempts, last_error, failed_at) VALUES ($1, $2, $3, $4, $5)', [id, p.event, p.attempts, p.lastError, at])
      }
      for (const r of replayed) {
        if (r.delivered) await client.query('DELETE FROM collab_webhook_failures WHERE id = $1', [r.id])
        else await client.query('UPDATE collab_webhook_failures SET replay = false, last_error = $2, attempts = attempts + 1, failed_at = $3 WHERE id = $1', [r.id, r.error ?? 'failed', at])
      }
      await client.query('COMMIT')
      return true
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    } finally {
      client.release()
    }
  }

  async failures(endpoint: string): Promise<WebhookFailure[]> {
    await this.migrate()
    return (await this.pool.query<FRow>('SELECT * FROM collab_webhook_failures WHERE endpoint = $1 ORDER BY id', [endpoint])).rows.map(failureOf)
  }

  async replay(endpoint: string, failure: number): Promise<boolean> {
    await this.migrate()
    const { rowCount } = await this.pool.query('UPDATE collab_webhook_failures SET replay = true WHERE endpoint = $1 AND id = $2', [endpoint, failure])
    return (rowCount ?? 0) > 0
  }
}
