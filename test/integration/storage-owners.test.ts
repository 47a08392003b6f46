/**
 * Client-id owners kept with the document (issue 16): an append that claims
 * an id commits the claim with the update, or — when the id is another
 * user's — stores nothing and names the winner. Owners survive compaction and
 * a reopen, and go with the document. Two instances on one PostgreSQL that
 * claim the same id at once: the database lets exactly one win.
 */
import { join } from 'node:path'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { foldState } from '../../server/storage/merge.ts'
import { MemoryStorage } from '../../server/storage/memory.ts'
import { PostgresStorage } from '../../server/storage/postgres.ts'
import { SqliteStorage } from '../../server/storage/sqlite.ts'
import type { Storage } from '../../server/storage/types.ts'
import { postgresForFile } from '../helpers/postgres.ts'
import { tempDirOutsideTest } from '../helpers/server.ts'


const quiet = pino({ level: 'silent' })
const pgUrl = postgresForFile('owners')

/** A backend, and how to open it again on the same data (a restart). */
const backends: Array<[string, () => { open: () => Storage }]> = [
  ['sqlite', () => {
    const path = join(tempDirOutsideTest(), 'c.db')
    return { open: () => new SqliteStorage({ path, sync: 'normal' }) }
  }],
  ['memory', () => {
    const memory = new MemoryStorage()
    return { open: () => memory }
  }],
  ['postgres', () => {
    const url = pgUrl()
    return { open: () => new PostgresStorage({ connectionString: url, logger: quiet }) }
  }],
]

/** An update inserting `text` under client id `client`. */
function typed(client: number, text: string): Uint8Array {
  const doc = new Y.Doc()
  doc.clientID = client
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

function textOf(stored: { snapshot: Uint8Array | null; updates: Uint8Array[] }): string {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, foldState(stored))
  return doc.getText('t').toString()
}

describe.each(backends)('client-id owners: %s', (name, make) => {
  it('a claim commits with its append; a claim on another’s id stores nothing and names the owner; owners outlive compaction and a reopen', async () => {
    const backend = make()
    const s = backend.open()
    expect(await s.append('d', typed(7, 'ada'), [{ client: 7, owner: 'ada' }])).toBeUndefined()
    // Ada again: her own id, claimed already — stored.
    expect(await s.append('d', typed(9, 'more'), [{ client: 7, owner: 'ada' }, { client: 9, owner: 'ada' }])).toBeUndefined()
    // Bob claims 7 (and a fresh 8) in one append: 7 is Ada's, so nothing of it is kept — not even 8.
    expect(await s.append('d', typed(8, 'EVIL'), [{ client: 8, owner: 'bob' }, { client: 7, owner: 'bob' }])).toEqual([{ client: 7, owner: 'ada' }])
    // Another document's ids are its own.
    expect(await s.append('e', typed(7, 'bob'), [{ client: 7, owner: 'bob' }])).toBeUndefined()
    await s.compact('d')
    const owners = (stored: { owners?: Array<{ client: number; owner: string }> }) => [...(stored.owners ?? [])].sort((a, b) => a.client - b.client)
    let stored = await s.load('d')
    expect(textOf(stored)).not.toContain('EVIL')
    expect(owners(stored)).toEqual([{ client: 7, owner: 'ada' }, { client: 9, owner: 'ada' }])
    if (name !== 'memory') {
      await s.close()
      const again = backend.open()
      stored = await again.load('d')
      expect(owners(stored)).toEqual([{ client: 7, owner: 'ada' }, { client: 9, owner: 'ada' }])
      await again.delete('d')
      expect((await again.load('d')).owners).toEqual([])
      expect(owners(await again.load('e'))).toEqual([{ client: 7, owner: 'bob' }])
      await again.close()
    }
  })
})

describe('client-id owners across instances sharing PostgreSQL', () => {
  it('first claims racing on two instances: the database lets exactly one win, and stores only the winner’s update', async () => {
    const url = pgUrl()
    const one = new PostgresStorage({ connectionString: url, logger: quiet })
    const two = new PostgresStorage({ connectionString: url, logger: quiet })
    try {
      // Both have their tables before the race, so the race is the claims' alone.
      await Promise.all([one.load('warm'), two.load('warm')])
      for (let round = 0; round < 10; round++) {
        const client = 1000 + round
        const [a, b] = await Promise.all([
          one.append('race', typed(client, `ada${round};`), [{ client, owner: 'ada' }]),
          two.append('race', typed(client, `bob${round};`), [{ client, owner: 'bob' }]),
        ])
        const lost = [a, b].filter((r) => r !== undefined)
        expect(lost).toHaveLength(1)
        const winner = a === undefined ? 'ada' : 'bob'
        expect(lost[0]).toEqual([{ client, owner: winner }])
        const stored = await one.load('race')
        expect(stored.owners?.find((o) => o.client === client)).toEqual({ client, owner: winner })
        expect(textOf(stored)).toContain(`${winner}${round};`)
        expect(textOf(stored)).not.toContain(`${winner === 'ada' ? 'bob' : 'ada'}${round};`)
      }
    } finally {
      await Promise.all([one.close(), two.close()])
    }
  })
})
