/**
 * Webhook endpoints and their delivery state in the SQLite file. Several
 * processes of one host may share the file, so an endpoint is delivered for
 * under a lease written in its row (taken by compare-and-set, so two
 * processes cannot both take it): held until the turn's progress is written,
 * and free again when it runs out (LEASE_MS) or its process is gone
 * (sqlite-liveness.ts). Within a process, a set of the endpoints being
 * delivered for.
 */
import { randomUUID } from 'node:crypto'
import type Database from 'better-sqlite3'
import { HOST, mayRun } from './sqlite-liveness.ts'
import type { DeliveryOutcome, WebhookConfig, WebhookEndpoint, WebhookFailure, WebhookStore } from './types.ts'

interface EndpointRow {
  id: string
  url: string
  secret: string
  types: string
  documents: string
  source: string
  created_by: string | null
  cursor: number
  attempts: number
  next_at: number
  first_failed_at: number | null
  last_error: string | null
  lease_by?: string | null
  lease_host?: string | null
  lease_pid?: number | null
  lease_until?: number | null
}

/** Longest a lease holds without its turn ending (a turn stops taking new events after a minute; requests time out). */
const LEASE_MS = 600_000

interface FailureRow {
  id: number
  endpoint: string
  event: number
  attempts: number
  last_error: string
  failed_at: number
  replay: number
}

export const endpointOf = (r: EndpointRow): WebhookEndpoint => ({
  id: r.id,
  url: r.url,
  secret: r.secret,
  types: JSON.parse(r.types) as string[],
  documents: JSON.parse(r.documents) as string[],
  source: r.source === 'config' ? 'config' : 'api',
  createdBy: r.created_by,
  cursor: Number(r.cursor),
  attempts: Number(r.attempts),
  nextAt: Number(r.next_at),
  firstFailedAt: r.first_failed_at === null ? null : Number(r.first_failed_at),
  lastError: r.last_error,
})

export const failureOf = (r: FailureRow): WebhookFailure => ({
  id: Number(r.id),
  endpoint: r.endpoint,
  event: Number(r.event),
  attempts: Number(r.attempts),
  lastError: r.last_error,
  failedAt: Number(r.failed_at),
  replay: Boolean(r.replay),
})

export class SqliteWebhooks implements WebhookStore {
  private readonly db: Database.Database
  private readonly busy = new Set<string>()
  /** This process, in the leases it takes. */
  private readonly me = randomUUID()
  private readonly stmt
  private readonly finish: Database.Transaction<(id: string, outcome: DeliveryOutcome, now: number) => void>

  constructor(db: Database.Database) {
    this.db = db
    this.stmt = {
      list: db.prepare<[], EndpointRow>('SELECT * FROM webhook_endpoints ORDER BY id'),
      get: db.prepare<[string], EndpointRow>('SELECT * FROM webhook_endpoints WHERE id = ?'),
      insert: db.prepare(
        `INSERT INTO webhook_endpoints (id, url, secret, types, documents, source, created_by, cursor) VALUES (@id, @url, @secret, @types, @documents, @source, @createdBy, @cursor)
         ON CONFLICT (id) DO UPDATE SET url = excluded.url, secret = excluded.secret, types = excluded.types, documents = excluded.documents WHERE source = 'config' AND excluded.source = 'config'`,
      ),
      delete: db.prepare<[string]>('DELETE FROM webhook_endpoints WHERE id = ?'),
      deleteFailures: db.prepare<[string]>('DELETE FROM webhook_failures WHERE endpoint = ?'),
      state: db.prepare(
        'UPDATE webhook_endpoints SET cursor = @cursor, attempts = @attempts, next_at = @nextAt, first_failed_at = @firstFailedAt, last_error = @lastError, lease_by = NULL, lease_until = NULL WHERE id = @id AND lease_by = @me',
      ),
      take: db.prepare<[string, string, number, number, string, string | null]>(
        'UPDATE webhook_endpoints SET lease_by = ?, lease_host = ?, lease_pid = ?, lease_until = ? WHERE id = ? AND lease_by IS ?',
      ),
      release: db.prepare<[string, string]>('UPDATE webhook_endpoints SET lease_by = NULL, lease_until = NULL WHERE id = ? AND lease_by = ?'),
      park: db.prepare<[string, number, number, string, number]>('INSERT INTO webhook_failures (endpoint, event, attempts, last_error, failed_at) VALUES (?, ?, ?, ?, ?)'),
      replays: db.prepare<[string], FailureRow>('SELECT * FROM webhook_failures WHERE endpoint = ? AND replay = 1 ORDER BY id'),
      replayed: db.prepare<[number]>('DELETE FROM webhook_failures WHERE id = ?'),
      replayFailed: db.prepare<[string, number, number]>('UPDATE webhook_failures SET replay = 0, last_error = ?, attempts = attempts + 1, failed_at = ? WHERE id = ?'),
      failures: db.prepare<[string], FailureRow>('SELECT * FROM webhook_failures WHERE endpoint = ? ORDER BY id'),
      markReplay: db.prepare<[string, number]>('UPDATE webhook_failures SET replay = 1 WHERE endpoint = ? AND id = ?'),
    }
    this.finish = db.transaction((id: string, outcome: DeliveryOutcome, now: number) => {
      // Our lease ran out and another process took the endpoint: its progress wins; ours is delivered again (at-least-once).
      if (this.stmt.state.run({ id, me: this.me, ...outcome.state }).changes === 0) return
      for (const p of outcome.parked) this.stmt.park.run(id, p.event, p.attempts, p.lastError, now)
      for (const r of outcome.replayed) {
        if (r.delivered) this.stmt.replayed.run(r.id)
        else this.stmt.replayFailed.run(r.error ?? 'failed', now, r.id)
      }
    })
  }

  async list(): Promise<WebhookEndpoint[]> {
    return this.stmt.list.all().map(endpointOf)
  }

  async get(id: string): Promise<WebhookEndpoint | null> {
    const row = this.stmt.get.get(id)
    return row ? endpointOf(row) : null
  }

  async put(e: WebhookConfig, cursor: number): Promise<WebhookEndpoint> {
    this.stmt.insert.run({ id: e.id, url: e.url, secret: e.secret, types: JSON.stringify(e.types), documents: JSON.stringify(e.documents), source: e.source, createdBy: e.createdBy, cursor })
    return (await this.get(e.id))!
  }

  async delete(id: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.stmt.deleteFailures.run(id)
      return this.stmt.delete.run(id).changes > 0
    })()
  }

  async claim(id: string, now: number, work: (endpoint: WebhookEndpoint, replays: readonly WebhookFailure[]) => Promise<DeliveryOutcome>): Promise<boolean> {
    if (this.busy.has(id)) return false
    const row = this.stmt.get.get(id)
    const replays = this.stmt.replays.all(id).map(failureOf)
    if (!row || (Number(row.next_at) > now && replays.length === 0)) return false
    // Held by another process whose lease has not run out and which is still there.
    if (row.lease_by && row.lease_by !== this.me && Number(row.lease_until) > now && mayRun(row.lease_host ?? '', Number(row.lease_pid))) return false
    if (this.stmt.take.run(this.me, HOST, process.pid, now + LEASE_MS, id, row.lease_by ?? null).changes === 0) return false
    this.busy.add(id)
    try {
      const outcome = await work(endpointOf(row), replays)
      // Deleted meanwhile: nothing to record.
      if (this.db.open && this.stmt.get.get(id)) this.finish.immediate(id, outcome, Date.now())
      return true
    } catch (error) {
      if (this.db.open) this.stmt.release.run(id, this.me)
      throw error
    } finally {
      this.busy.delete(id)
    }
  }

  async failures(endpoint: string): Promise<WebhookFailure[]> {
    return this.stmt.failures.all(endpoint).map(failureOf)
  }

  async replay(endpoint: string, failure: number): Promise<boolean> {
    return this.stmt.markReplay.run(endpoint, failure).changes > 0
  }
}
