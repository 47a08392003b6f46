/**
 * PostgreSQL across versions and instances: a starting instance's schema
 * check takes no lock that running instances' appends would queue behind,
 * and a dirty mark's time is the database's (the clock its log entries carry).
 */
import pg from 'pg'
import { pino } from 'pino'
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { PostgresStorage } from '../../server/storage/postgres.ts'
import { postgresForFile } from '../helpers/postgres.ts'

const pgUrl = postgresForFile('upgrade')
const silent = pino({ level: 'silent' })

function update(): Uint8Array {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, 'x')
  return Y.encodeStateAsUpdate(doc)
}

describe('PostgreSQL upgrade and clocks', () => {
  it('an instance starting while another holds a read open on the log gets going without waiting for it', async () => {
    const url = pgUrl()
    const running = new PostgresStorage({ connectionString: url, logger: silent })
    await running.append('d', update(), undefined, { sender: 'ann' })
    // A long read on the log in an open transaction (a report, a backup): it holds ACCESS SHARE until it ends.
    const reader = new pg.Client({ connectionString: url })
    await reader.connect()
    try {
      await reader.query('BEGIN')
      await reader.query('SELECT count(*) FROM collab_updates')
      // A second instance starts (its first call checks the schema): an ALTER TABLE would wait for the reader.
      const starting = new PostgresStorage({ connectionString: url, logger: silent })
      expect((await starting.load('d')).updates).toHaveLength(1)
      await starting.append('d', update(), undefined, { sender: 'bob' })
      expect(await running.senders('d', 0)).toEqual(['ann', 'bob'])
      await starting.close()
    } finally {
      await reader.query('COMMIT')
      await reader.end()
      await running.close()
    }
  })

  it("a recovered change's sender is found whatever the instance's clock says: marks carry the database's time", async () => {
    const s = new PostgresStorage({ connectionString: pgUrl(), logger: silent })
    await s.load('warm-up')
    const realNow = Date.now
    // This instance's clock runs ahead of the database's (hosts differ by that much).
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 5_000)
    try {
      await s.append('doc', update(), undefined, { sender: 'ann', mark: { instance: 'dead', cycle: 1 } })
    } finally {
      vi.restoreAllMocks()
    }
    const [mark] = await s.events.marks(Date.now() + 60_000, 'me')
    expect(await s.senders('doc', mark!.at)).toEqual(['ann'])
    await s.close()
  })
})
