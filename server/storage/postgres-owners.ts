/**
 * An append that claims Yjs client ids, on PostgreSQL: one transaction that
 * claims each id (`ON CONFLICT DO NOTHING`, so of two instances claiming at
 * once the database lets one win and the other wait for it), reads the owners
 * back, and inserts the update only when every id is the claimant's.
 */
import type pg from 'pg'
import { appendFeed } from './postgres-events.ts'
import type { AppendExtras, ClientClaim } from './types.ts'

/** Resolves with nothing when stored; with the winners when an id is another owner's (then nothing was stored). */
export async function appendClaimed(pool: pg.Pool, migrate: () => Promise<void>, name: string, update: Uint8Array, claims: readonly ClientClaim[], feed?: AppendExtras): Promise<ClientClaim[] | undefined> {
  await migrate()
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query(
      'INSERT INTO collab_client_owners (name, client, owner) SELECT $1, * FROM unnest($2::bigint[], $3::text[]) ON CONFLICT DO NOTHING',
      [name, claims.map((c) => c.client), claims.map((c) => c.owner)],
    )
    const { rows } = await client.query<{ client: string; owner: string }>('SELECT client, owner FROM collab_client_owners WHERE name = $1 AND client = ANY($2::bigint[])', [
      name,
      claims.map((c) => c.client),
    ])
    const wanted = new Map(claims.map((c) => [c.client, c.owner]))
    const winners = rows.map((r) => ({ client: Number(r.client), owner: r.owner })).filter((r) => wanted.get(r.client) !== r.owner)
    if (winners.length > 0) {
      await client.query('ROLLBACK')
      return winners
    }
    await client.query('INSERT INTO collab_updates (name, data, sender) VALUES ($1, $2, $3)', [name, Buffer.from(update.buffer, update.byteOffset, update.byteLength), feed?.sender ?? null])
    await appendFeed(client, name, feed)
    await client.query('COMMIT')
    return undefined
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    client.release()
  }
}
