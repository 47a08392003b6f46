import pg from 'pg'
import { pino } from 'pino'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import * as Y from 'yjs'
import { PostgresStorage } from '../../server/storage/postgres.ts'
import { VersionHistory } from '../../server/history/versions.ts'
import { provider, settled } from '../helpers/clients.ts'
import { Services, startCluster } from '../helpers/cluster.ts'

const services = new Services()
const silent = pino({ level: 'silent' })

async function autoVersions(databaseUrl: string, name: string): Promise<Buffer[]> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ data: Buffer }>("SELECT data FROM collab_versions WHERE name = $1 AND kind = 'auto' ORDER BY id", [name])
    return rows.map((r) => r.data)
  } finally {
    await client.end()
  }
}

const text = (state: Uint8Array) => {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, state)
  return doc.getText('codemirror').toString()
}

describe('automatic versions with several instances on one PostgreSQL', () => {
  it('two instances that both hold edits of a document save one automatic version of it at shutdown, not one each', async () => {
    const cluster = await startCluster(services, { nodes: 2, env: { VERSION_EVERY_MS: '3600000' } })
    const [a, b] = cluster.nodes.map((n) => provider(n.url, 'shared'))
    await Promise.all([settled(a!), settled(b!)])
    a!.document.getText('codemirror').insert(0, 'from A. ')
    b!.document.getText('codemirror').insert(0, 'from B. ')
    await Promise.all([settled(a!), settled(b!)])
    await vi.waitFor(() => {
      expect(a!.document.getText('codemirror').toString()).toHaveLength(16)
      expect(b!.document.getText('codemirror').toString()).toBe(a!.document.getText('codemirror').toString())
    })
    // Both clocks are running (each instance took edits of its own); both instances stop at once.
    for (const node of cluster.nodes) node.proc.kill('SIGTERM')
    expect(await Promise.all(cluster.nodes.map((n) => n.exited))).toEqual([0, 0])

    const versions = await autoVersions(cluster.env.DATABASE_URL!, 'shared')
    expect(versions).toHaveLength(1)
    expect(text(versions[0]!)).toBe(a!.document.getText('codemirror').toString())
  }, 60_000)

  it('racing saves of the same state from two instances (two pools) store it once; a state with more in it is stored', async () => {
    const url = await services.database()
    const stores = [0, 1].map(() => new PostgresStorage({ connectionString: url, logger: silent }))
    onTestFinished(() => Promise.all(stores.map((s) => s.close())).then(() => undefined))
    const histories = stores.map((storage) => new VersionHistory({ storage, logger: silent, keep: 50, keepNamed: 0 }))
    const doc = new Y.Doc()
    doc.getText('codemirror').insert(0, 'same')
    const older = Y.encodeStateAsUpdate(doc)
    doc.getText('codemirror').insert(4, ' state')
    const state = Y.encodeStateAsUpdate(doc)

    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => histories[i % 2]!.saveAuto('race', state)))
    expect(results.filter((r) => r !== null)).toHaveLength(1)
    expect(await autoVersions(url, 'race')).toHaveLength(1)

    // An older state (covered by the stored one) is not stored either; a newer one is.
    expect(await histories[0]!.saveAuto('race', older)).toBeNull()
    doc.getText('codemirror').insert(0, 'more: ')
    expect(await histories[1]!.saveAuto('race', Y.encodeStateAsUpdate(doc))).not.toBeNull()
    expect((await autoVersions(url, 'race')).map(text)).toEqual(['same state', 'more: same state'])
  }, 60_000)
})
