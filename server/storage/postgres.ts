import pg from 'pg'
import type { Logger } from 'pino'
import { foldState } from './merge.ts'
import { appendClaimed } from './postgres-owners.ts'
import { FEED_SCHEMA, PostgresEvents, appendFeed, appendStatement } from './postgres-events.ts'
import { PostgresWebhooks } from './postgres-webhooks.ts'
import type { Announce, AppendExtras, ClientClaim, DocumentInfo, NewEvent, NewVersion, Storage, StoredDocument, VersionInfo, VersionKind } from './types.ts'

export interface PostgresStorageConfiguration {
  /** postgres://user:password@host:port/database */
  connectionString: string
  logger: Logger
  /** Pool size. @default 10 */
  maxConnections?: number
}

interface PendingAppend {
  name: string
  update: Uint8Array
  /** Client-id claims that commit with this append (postgres-owners.ts). */
  claims?: readonly ClientClaim[]
  /** The change feed's part of it (postgres-events.ts). */
  feed?: AppendExtras
  resolve: (lost?: ClientClaim[]) => void
  reject: (error: unknown) => void
}

/** Snapshot first, then the log in order, read in ONE statement (one MVCC snapshot). */
const READ_DOCUMENT = `
  SELECT 0 AS kind, 0::bigint AS id, data FROM collab_snapshots WHERE name = $1
  UNION ALL
  SELECT 1 AS kind, id, data FROM collab_updates WHERE name = $1
  ORDER BY kind, id`

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS collab_snapshots (
    name text PRIMARY KEY,
    data bytea NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE IF NOT EXISTS collab_updates (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    data bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  -- Added in schema 3 (who sent each log entry). Looked up first: ALTER TABLE takes an ACCESS EXCLUSIVE lock
  -- before it would see the column exists, and every start would queue the cluster's appends behind any open read.
  DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'collab_updates' AND column_name = 'sender') THEN
      ALTER TABLE collab_updates ADD COLUMN sender text;
    END IF;
  END $$;
  CREATE INDEX IF NOT EXISTS collab_updates_by_name ON collab_updates (name, id);
  CREATE TABLE IF NOT EXISTS collab_versions (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    kind text NOT NULL,
    label text,
    created_by text,
    created_at timestamptz NOT NULL DEFAULT now(),
    data bytea NOT NULL
  );
  CREATE INDEX IF NOT EXISTS collab_versions_by_name ON collab_versions (name, id);
  CREATE TABLE IF NOT EXISTS collab_client_owners (
    name text NOT NULL,
    client bigint NOT NULL,
    owner text NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, client)
  );
  ${FEED_SCHEMA}`

/** Advisory lock class of version saves (the second key is the document name's hash). */
const VERSION_LOCK_CLASS = 7276652

const VERSION_COLUMNS = 'id, kind, label, created_by, created_at, length(data) AS bytes'

interface VersionRow {
  id: string
  kind: string
  label: string | null
  created_by: string | null
  created_at: Date
  bytes: number
}

function versionInfo(row: VersionRow): VersionInfo {
  return { id: Number(row.id), kind: row.kind as VersionKind, label: row.label, createdBy: row.created_by, createdAt: row.created_at.getTime(), bytes: Number(row.bytes) }
}

/**
 * PostgreSQL storage for several instances on several hosts. The same contract
 * as SQLite: `append` resolves once committed (group commit: one multi-row
 * INSERT per event-loop turn); compaction folds under a per-document advisory
 * lock and deletes exactly the log rows it read, so an append from another
 * instance that commits meanwhile is kept. Appends are idempotent: applying a
 * Yjs update twice changes nothing.
 */
export class PostgresStorage implements Storage {
  private readonly pool: pg.Pool
  private readonly logger: Logger
  private queue: PendingAppend[] = []
  private flushing = false
  private ready: Promise<void> | undefined
  readonly events: PostgresEvents
  readonly webhooks: PostgresWebhooks

  constructor(configuration: PostgresStorageConfiguration) {
    this.logger = configuration.logger
    this.pool = new pg.Pool({
      connectionString: configuration.connectionString,
      max: configuration.maxConnections ?? 10,
      // Fail (and so refuse to ack) rather than hang when the database is unreachable.
      connectionTimeoutMillis: 5000,
      query_timeout: 15_000,
    })
    // An idle client's connection dropping (PostgreSQL restarted) must not crash the process.
    this.pool.on('error', (error) => this.logger.warn({ err: error }, 'postgres: idle connection lost'))
    this.events = new PostgresEvents(this.pool, () => this.migrate())
    this.webhooks = new PostgresWebhooks(this.pool, () => this.migrate())
  }

  /** Create the tables once (serialised across instances by an advisory lock). Retried after a failure. */
  private migrate(): Promise<void> {
    this.ready ??= (async () => {
      const client = await this.pool.connect()
      try {
        await client.query('BEGIN')
        await client.query('SELECT pg_advisory_xact_lock(7276651)')
        await client.query(SCHEMA)
        await client.query('COMMIT')
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined)
        throw error
      } finally {
        client.release()
      }
    })().catch((error: unknown) => {
      this.ready = undefined
      throw error
    })
    return this.ready
  }

  async load(name: string): Promise<StoredDocument> {
    await this.migrate()
    const { rows } = await this.pool.query<{ kind: number; data: Buffer }>(READ_DOCUMENT, [name])
    const snapshot = rows[0]?.kind === 0 ? new Uint8Array(rows[0].data) : null
    return { snapshot, updates: rows.filter((r) => r.kind === 1).map((r) => new Uint8Array(r.data)), owners: await this.owners(name) }
  }

  async owners(name: string): Promise<ClientClaim[]> {
    await this.migrate()
    const { rows } = await this.pool.query<{ client: string; owner: string }>('SELECT client, owner FROM collab_client_owners WHERE name = $1', [name])
    return rows.map((r) => ({ client: Number(r.client), owner: r.owner }))
  }

  async senders(name: string, since: number): Promise<string[]> {
    await this.migrate()
    const { rows } = await this.pool.query<{ sender: string }>(
      'SELECT DISTINCT sender COLLATE "C" AS sender FROM collab_updates WHERE name = $1 AND created_at >= to_timestamp($2 / 1000.0) AND sender IS NOT NULL ORDER BY 1',
      [name, since],
    )
    return rows.map((r) => r.sender)
  }

  append(name: string, update: Uint8Array, claims?: readonly ClientClaim[], feed?: AppendExtras): Promise<ClientClaim[] | void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ name, update, claims: claims?.length ? claims : undefined, feed, resolve, reject })
      if (!this.flushing) {
        this.flushing = true
        setImmediate(() => void this.flush())
      }
    })
  }

  /** Write queued appends, one INSERT per batch, until the queue is empty. */
  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const claimed = this.queue.filter((p) => p.claims)
      const batch = this.queue.filter((p) => !p.claims)
      this.queue = []
      // An append that claims client ids: its own transaction (rare: a client id's first write).
      for (const p of claimed) await appendClaimed(this.pool, () => this.migrate(), p.name, p.update, p.claims!, p.feed).then(p.resolve, p.reject)
      if (batch.length === 0) continue
      try {
        await this.migrate()
        const { text, values } = appendStatement(batch)
        await this.pool.query(text, values)
        for (const p of batch) p.resolve()
      } catch (error) {
        for (const p of batch) p.reject(error)
      }
    }
    this.flushing = false
  }

  async compact(name: string): Promise<number> {
    await this.migrate()
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [name])
      const { rows } = await client.query<{ kind: number; id: string; data: Buffer }>(READ_DOCUMENT, [name])
      const log = rows.filter((r) => r.kind === 1)
      if (log.length === 0) {
        await client.query('COMMIT')
        return 0
      }
      const snapshot = rows[0]?.kind === 0 ? new Uint8Array(rows[0].data) : null
      const folded = foldState({ snapshot, updates: log.map((r) => new Uint8Array(r.data)) })
      await client.query(
        `INSERT INTO collab_snapshots (name, data, updated_at) VALUES ($1, $2, now())
         ON CONFLICT (name) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
        [name, Buffer.from(folded)],
      )
      await client.query('DELETE FROM collab_updates WHERE id = ANY($1::bigint[])', [log.map((r) => r.id)])
      await client.query('COMMIT')
      return log.length
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    } finally {
      client.release()
    }
  }

  async logSize(name: string): Promise<{ count: number; bytes: number }> {
    await this.migrate()
    const { rows } = await this.pool.query<{ count: string; bytes: string }>(
      'SELECT count(*) AS count, coalesce(sum(length(data)), 0) AS bytes FROM collab_updates WHERE name = $1',
      [name],
    )
    return { count: Number(rows[0]?.count ?? 0), bytes: Number(rows[0]?.bytes ?? 0) }
  }

  async list(options: { after?: string; limit?: number } = {}): Promise<DocumentInfo[]> {
    await this.migrate()
    const limit = Math.max(1, Math.min(options.limit ?? 100, 1000))
    const { rows } = await this.pool.query<{ name: string; bytes: string; updated_at: Date }>(
      `SELECT name, sum(bytes) AS bytes, max(updated_at) AS updated_at FROM (
         SELECT name, length(data) AS bytes, updated_at FROM collab_snapshots
         UNION ALL
         SELECT name, length(data) AS bytes, created_at FROM collab_updates
       ) AS d WHERE name > $1 GROUP BY name ORDER BY name LIMIT $2`,
      [options.after ?? '', limit],
    )
    return rows.map((r) => ({ name: r.name, bytes: Number(r.bytes), updatedAt: r.updated_at.getTime() }))
  }

  async delete(name: string, events: readonly NewEvent[] = []): Promise<void> {
    await this.migrate()
    await this.transaction(async (client) => {
      await client.query(
        `WITH s AS (DELETE FROM collab_snapshots WHERE name = $1), v AS (DELETE FROM collab_versions WHERE name = $1),
           o AS (DELETE FROM collab_client_owners WHERE name = $1)
         DELETE FROM collab_updates WHERE name = $1`,
        [name],
      )
      await appendFeed(client, name, { events })
    })
  }

  async saveVersion(name: string, version: NewVersion, announce?: Announce): Promise<VersionInfo> {
    await this.migrate()
    return this.transaction((client) => this.insertVersion(client, name, version, announce))
  }

  /** `work` inside BEGIN … COMMIT on one pooled client; rolled back when it throws. */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      const out = await work(client)
      await client.query('COMMIT')
      return out
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    } finally {
      client.release()
    }
  }

  private async insertVersion(client: pg.PoolClient, name: string, version: NewVersion, announce: Announce | undefined): Promise<VersionInfo> {
    const { rows } = await client.query<VersionRow>(
      `INSERT INTO collab_versions (name, kind, label, created_by, data) VALUES ($1, $2, $3, $4, $5) RETURNING ${VERSION_COLUMNS}`,
      [name, version.kind, version.label, version.createdBy, Buffer.from(version.data.buffer, version.data.byteOffset, version.data.byteLength)],
    )
    const info = versionInfo(rows[0]!)
    if (announce) await appendFeed(client, name, { events: announce(info) })
    return info
  }

  async saveVersionUnlessCovered(name: string, version: NewVersion, covered: (newest: Uint8Array) => boolean, announce?: Announce): Promise<VersionInfo | null> {
    await this.migrate()
    return this.transaction(async (client) => {
      // One saver per document at a time, across instances (two int4 keys: apart from compaction's bigint locks).
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [VERSION_LOCK_CLASS, name])
      const { rows } = await client.query<{ data: Buffer }>('SELECT data FROM collab_versions WHERE name = $1 AND kind = $2 ORDER BY id DESC LIMIT 1', [name, version.kind])
      const newest = rows[0]
      if (newest && covered(new Uint8Array(newest.data))) return null
      return this.insertVersion(client, name, version, announce)
    })
  }

  async listVersions(name: string, options: { before?: number; limit?: number } = {}): Promise<VersionInfo[]> {
    await this.migrate()
    const limit = Math.max(1, Math.min(options.limit ?? 100, 1000))
    const { rows } = await this.pool.query<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM collab_versions WHERE name = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
      [name, options.before ?? null, limit],
    )
    return rows.map(versionInfo)
  }

  async getVersion(name: string, id: number): Promise<(VersionInfo & { data: Uint8Array }) | null> {
    await this.migrate()
    const { rows } = await this.pool.query<VersionRow & { data: Buffer }>(
      `SELECT ${VERSION_COLUMNS}, data FROM collab_versions WHERE name = $1 AND id = $2`,
      [name, id],
    )
    const row = rows[0]
    return row ? { ...versionInfo(row), data: new Uint8Array(row.data) } : null
  }

  async pruneVersions(name: string, kinds: readonly VersionKind[], keep: number): Promise<number> {
    await this.migrate()
    const { rowCount } = await this.pool.query(
      `DELETE FROM collab_versions WHERE name = $1 AND kind = ANY($2::text[]) AND id NOT IN (
         SELECT id FROM collab_versions WHERE name = $1 AND kind = ANY($2::text[]) ORDER BY id DESC LIMIT $3)`,
      [name, kinds, keep],
    )
    return rowCount ?? 0
  }

  async checkWritable(bytes = 1): Promise<void> {
    await this.migrate()
    const client = await this.pool.connect()
    try {
      await client.query('BEGIN')
      await client.query('INSERT INTO collab_updates (name, data) VALUES ($1, $2)', ['\u0001probe', Buffer.alloc(bytes)])
    } finally {
      await client.query('ROLLBACK').catch(() => undefined)
      client.release()
    }
  }

  async close(): Promise<void> {
    while (this.flushing || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5))
    await this.pool.end()
  }
}
