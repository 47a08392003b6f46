/**
 * The change feed's outbox on PostgreSQL (docs/events.md).
 *
 * The cursor must be commit-ordered, and a sequence is not: two transactions
 * may take 7 and 8 and commit 8 first, and a reader that saw 8 would skip 7
 * for ever. So ids come from one counter row, `collab_event_counter`, updated
 * in the transaction that inserts the events: the row lock is held until that
 * transaction commits, so the next writer of events takes its ids only after
 * — ids are handed out in commit order, and a reader that sees id n sees
 * every id below it. The cost is that writers of events (the coalescer's
 * once-per-window batch, a chat append) take turns on that row; document
 * appends that owe no event never touch it.
 */
import type pg from 'pg'
import type { AppendExtras, EventStore, FeedEvent, MarkRef, NewEvent, StoredMark } from './types.ts'

export const FEED_SCHEMA = `
  CREATE TABLE IF NOT EXISTS collab_events (
    id bigint PRIMARY KEY,
    type text NOT NULL,
    document text NOT NULL,
    time bigint NOT NULL,
    actor text NOT NULL,
    data jsonb NOT NULL
  );
  CREATE INDEX IF NOT EXISTS collab_events_by_time ON collab_events (time);
  -- Added in schema 3 (a document's activity): built once, when missing (see collab_updates.sender).
  DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'collab_events_by_document') THEN
      CREATE INDEX collab_events_by_document ON collab_events (document, id);
    END IF;
  END $$;
  CREATE TABLE IF NOT EXISTS collab_event_counter (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    n bigint NOT NULL,
    pruned bigint NOT NULL
  );
  INSERT INTO collab_event_counter (one, n, pruned) VALUES (true, 0, 0) ON CONFLICT DO NOTHING;
  CREATE TABLE IF NOT EXISTS collab_event_marks (
    document text NOT NULL,
    instance text NOT NULL,
    cycle bigint NOT NULL,
    at bigint NOT NULL,
    PRIMARY KEY (document, instance)
  );
  CREATE TABLE IF NOT EXISTS collab_webhook_endpoints (
    id text PRIMARY KEY,
    url text NOT NULL,
    secret text NOT NULL,
    types text NOT NULL,
    documents text NOT NULL,
    source text NOT NULL,
    created_by text,
    cursor bigint NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_at bigint NOT NULL DEFAULT 0,
    first_failed_at bigint,
    last_error text
  );
  CREATE TABLE IF NOT EXISTS collab_webhook_failures (
    id bigserial PRIMARY KEY,
    endpoint text NOT NULL,
    event bigint NOT NULL,
    attempts integer NOT NULL,
    last_error text NOT NULL,
    failed_at bigint NOT NULL,
    replay boolean NOT NULL DEFAULT false
  );`

interface EventRow {
  id: string
  type: string
  document: string
  time: string
  actor: string
  data: unknown
}

const toEvent = (r: EventRow): FeedEvent => ({ id: Number(r.id), type: r.type, document: r.document, time: Number(r.time), actor: r.actor, data: r.data })

/** Insert events with ids from the counter: one statement (parameters from $first). */
const insertEvents = (first: number) => `
  c AS (UPDATE collab_event_counter SET n = n + cardinality($${first}::text[]) WHERE cardinality($${first}::text[]) > 0 RETURNING n),
  e AS (
    INSERT INTO collab_events (id, type, document, time, actor, data)
    SELECT c.n - cardinality($${first}::text[]) + x.ord, x.type, x.document, $${first + 4}::bigint, x.actor, x.data::jsonb
    FROM c, unnest($${first}::text[], $${first + 1}::text[], $${first + 2}::text[], $${first + 3}::text[]) WITH ORDINALITY AS x(type, document, actor, data, ord)
    RETURNING id, type, document, time, actor, data)`

const eventValues = (events: readonly NewEvent[], now: number) => [
  events.map((e) => e.type),
  events.map((e) => e.document),
  events.map((e) => e.actor),
  events.map((e) => JSON.stringify(e.data ?? null)),
  now,
]

const upsertMarks = (first: number) => `
  m AS (
    INSERT INTO collab_event_marks (document, instance, cycle, at)
    SELECT document, instance, cycle, floor(extract(epoch FROM now()) * 1000)::bigint
    FROM unnest($${first}::text[], $${first + 1}::text[], $${first + 2}::bigint[]) AS x(document, instance, cycle)
    ON CONFLICT (document, instance) DO UPDATE SET cycle = greatest(collab_event_marks.cycle, excluded.cycle), at = excluded.at)`

/**
 * The statement that stores a batch of appends: the updates, and — only when
 * some append owes the feed something — its marks and events, in the same
 * statement (one statement is one transaction).
 */
export function appendStatement(batch: ReadonlyArray<{ name: string; update: Uint8Array; feed?: AppendExtras }>): { text: string; values: unknown[] } {
  const values: unknown[] = [
    batch.map((p) => p.name),
    batch.map((p) => Buffer.from(p.update.buffer, p.update.byteOffset, p.update.byteLength)),
    batch.map((p) => p.feed?.sender ?? null),
  ]
  const insert = 'INSERT INTO collab_updates (name, data, sender) SELECT * FROM unnest($1::text[], $2::bytea[], $3::text[])'
  const marks = new Map<string, { document: string; instance: string; cycle: number }>()
  const events: NewEvent[] = []
  for (const p of batch) {
    if (p.feed?.mark) marks.set(`${p.feed.mark.instance}\u0000${p.name}`, { document: p.name, ...p.feed.mark })
    if (p.feed?.events) events.push(...p.feed.events)
  }
  if (marks.size === 0 && events.length === 0) return { text: insert, values }
  const parts = [`u AS (${insert})`]
  if (marks.size > 0) {
    const list = [...marks.values()]
    parts.push(upsertMarks(values.length + 1))
    values.push(list.map((m) => m.document), list.map((m) => m.instance), list.map((m) => m.cycle))
  }
  if (events.length > 0) {
    parts.push(insertEvents(values.length + 1))
    values.push(...eventValues(events, Date.now()))
  }
  return { text: `WITH ${parts.join(',\n')} SELECT 1`, values }
}

export class PostgresEvents implements EventStore {
  /** Several instances append to one log: each instance's marks say what it owes. */
  readonly marksFromLog = false

  /** Marks say what is owed: no line to keep. */
  async begin(_instance: string): Promise<void> {}
  async alive(_instance: string): Promise<void> {}
  async end(_instance: string): Promise<void> {}
  private readonly pool: pg.Pool
  private readonly migrate: () => Promise<void>

  constructor(pool: pg.Pool, migrate: () => Promise<void>) {
    this.pool = pool
    this.migrate = migrate
  }

  async write(events: readonly NewEvent[], clear: readonly MarkRef[] = []): Promise<FeedEvent[]> {
    await this.migrate()
    const values = [...eventValues(events, Date.now()), clear.map((c) => c.document), clear.map((c) => c.instance), clear.map((c) => c.cycle)]
    const { rows } = await this.pool.query<EventRow>(
      `WITH ${insertEvents(1)},
       d AS (DELETE FROM collab_event_marks k USING unnest($6::text[], $7::text[], $8::bigint[]) AS x(document, instance, cycle)
             WHERE k.document = x.document AND k.instance = x.instance AND k.cycle <= x.cycle)
       SELECT * FROM e ORDER BY id`,
      values,
    )
    return rows.map(toEvent)
  }

  async read(after: number, limit: number): Promise<FeedEvent[]> {
    await this.migrate()
    const { rows } = await this.pool.query<EventRow>('SELECT id, type, document, time, actor, data FROM collab_events WHERE id > $1 ORDER BY id LIMIT $2', [after, limit])
    return rows.map(toEvent)
  }

  async ofDocument(document: string, options: { before?: number; limit: number }): Promise<FeedEvent[]> {
    await this.migrate()
    const { rows } = await this.pool.query<EventRow>(
      'SELECT id, type, document, time, actor, data FROM collab_events WHERE document = $1 AND id < $2 ORDER BY id DESC LIMIT $3',
      [document, options.before ?? Number.MAX_SAFE_INTEGER, options.limit],
    )
    return rows.map(toEvent)
  }

  async bounds(): Promise<{ newest: number; pruned: number }> {
    await this.migrate()
    const { rows } = await this.pool.query<{ n: string; pruned: string }>('SELECT n, pruned FROM collab_event_counter')
    return { newest: Number(rows[0]?.n ?? 0), pruned: Number(rows[0]?.pruned ?? 0) }
  }

  async prune(before: number): Promise<number> {
    await this.migrate()
    // `pruned` is raised first, in the same statement: a reader never sees an event gone without knowing its cursor is too old.
    const { rows } = await this.pool.query<{ n: string }>(
      `WITH last AS (SELECT max(id) AS id FROM collab_events WHERE time < $1),
       p AS (UPDATE collab_event_counter SET pruned = greatest(pruned, (SELECT id FROM last)) WHERE (SELECT id FROM last) IS NOT NULL),
       d AS (DELETE FROM collab_events WHERE id <= (SELECT id FROM last) RETURNING 1)
       SELECT count(*) AS n FROM d`,
      [before],
    )
    return Number(rows[0]?.n ?? 0)
  }

  async marks(before: number, except = ''): Promise<StoredMark[]> {
    await this.migrate()
    const { rows } = await this.pool.query<{ document: string; instance: string; cycle: string; at: string }>(
      'SELECT document, instance, cycle, at FROM collab_event_marks WHERE at < $1 AND instance <> $2',
      [before, except],
    )
    return rows.map((r) => ({ document: r.document, instance: r.instance, cycle: Number(r.cycle), at: Number(r.at) }))
  }
}

/** Inside a claimed append's transaction (postgres-owners.ts): its marks and events. */
export async function appendFeed(client: pg.PoolClient, name: string, feed: AppendExtras | undefined): Promise<void> {
  if (!feed?.mark && !feed?.events?.length) return
  const parts: string[] = []
  const values: unknown[] = []
  if (feed.mark) {
    parts.push(upsertMarks(1))
    values.push([name], [feed.mark.instance], [feed.mark.cycle])
  }
  if (feed.events?.length) {
    parts.push(insertEvents(values.length + 1))
    values.push(...eventValues(feed.events, Date.now()))
  }
  await client.query(`WITH ${parts.join(',\n')} SELECT 1`, values)
}
