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

const pgUrl = postgresForFile('contract')

const backends: Array<[string, () => Storage]> = [
  ['sqlite', () => new SqliteStorage({ path: join(tempDirOutsideTest(), 'c.db'), sync: 'normal' })],
  ['memory', () => new MemoryStorage()],
  ['postgres', () => new PostgresStorage({ connectionString: pgUrl(), logger: pino({ level: 'silent' }) })],
]

/** N single-item updates to one array, as a client would send them. */
function updates(n: number, from = 0): Uint8Array[] {
  const doc = new Y.Doc()
  const out: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => out.push(u))
  for (let i = from; i < from + n; i++) doc.getArray('a').push([i])
  return out
}

function read(stored: { snapshot: Uint8Array | null; updates: Uint8Array[] }): number[] {
  const doc = new Y.Doc()
  for (const part of [stored.snapshot, ...stored.updates]) if (part) Y.applyUpdate(doc, part)
  return doc.getArray<number>('a').toArray()
}

describe.each(backends)('storage contract: %s', (_name, make) => {
  it('append then load returns every update; a missing document is empty', async () => {
    const s = make()
    expect(await s.load('nothing')).toEqual({ snapshot: null, updates: [], owners: [] })
    await Promise.all(updates(50).map((u) => s.append('d', u)))
    expect(read(await s.load('d'))).toHaveLength(50)
    expect((await s.logSize('d')).count).toBe(50)
    await s.close()
  })

  it('compaction folds the log into a snapshot and keeps the content; appends racing it are kept', async () => {
    const s = make()
    const first = updates(30)
    await Promise.all(first.map((u) => s.append('d', u)))
    const racing = updates(30, 100)
    const work: Promise<unknown>[] = [s.compact('d')]
    racing.forEach((u, i) => {
      work.push(s.append('d', u))
      if (i % 7 === 0) work.push(s.compact('d'))
    })
    await Promise.all(work)
    const content = read(await s.load('d'))
    expect(content.filter((x) => x < 100)).toHaveLength(30)
    expect(content.filter((x) => x >= 100)).toHaveLength(30)
    await s.compact('d')
    expect((await s.logSize('d')).count).toBe(0)
    expect((await s.load('d')).snapshot).not.toBeNull()
    await s.close()
  })

  it('lists documents with size and last change, paged by name; deletes', async () => {
    const s = make()
    for (const name of ['b', 'a', 'c']) await s.append(name, updates(1)[0]!)
    const page1 = await s.list({ limit: 2 })
    expect(page1.map((d) => d.name)).toEqual(['a', 'b'])
    expect(page1[0]!.bytes).toBeGreaterThan(0)
    expect(page1[0]!.updatedAt).toBeGreaterThan(Date.now() - 60_000)
    expect((await s.list({ after: 'b' })).map((d) => d.name)).toEqual(['c'])
    await s.delete('b')
    expect((await s.list()).map((d) => d.name)).toEqual(['a', 'c'])
    await s.checkWritable(1024)
    await s.close()
  })

  it('versions: whole states, newest first and paged, read back, pruned per kind, untouched by compaction, deleted with the document', async () => {
    const s = make()
    const states: Uint8Array[] = []
    for (const [i, kind] of (['auto', 'named', 'auto', 'pre-restore', 'auto'] as const).entries()) {
      await s.append('d', updates(1, i)[0]!)
      states.push(foldState(await s.load('d')))
      const v = await s.saveVersion('d', { kind, label: kind === 'named' ? 'release 1' : null, createdBy: kind === 'auto' ? null : 'ada', data: states[i]! })
      expect(v).toMatchObject({ kind, bytes: states[i]!.byteLength, createdBy: kind === 'auto' ? null : 'ada' })
      expect(v.createdAt).toBeGreaterThan(Date.now() - 60_000)
    }
    await s.saveVersion('other', { kind: 'auto', label: null, createdBy: null, data: states[0]! })
    const all = await s.listVersions('d')
    expect(all.map((v) => v.kind)).toEqual(['auto', 'pre-restore', 'auto', 'named', 'auto'])
    expect(all.map((v) => v.id)).toEqual([...all.map((v) => v.id)].sort((a, b) => b - a))
    expect((await s.listVersions('d', { before: all[1]!.id, limit: 2 })).map((v) => v.id)).toEqual([all[2]!.id, all[3]!.id])
    const named = await s.getVersion('d', all[3]!.id)
    expect(named).toMatchObject({ label: 'release 1', kind: 'named' })
    expect(named!.data).toEqual(states[1])
    expect(await s.getVersion('other', all[3]!.id)).toBeNull()

    await s.compact('d')
    expect((await s.getVersion('d', all[0]!.id))!.data).toEqual(states[4])
    expect(await s.pruneVersions('d', ['auto'], 1)).toBe(2)
    expect((await s.listVersions('d')).map((v) => v.kind)).toEqual(['auto', 'pre-restore', 'named'])
    expect(await s.pruneVersions('d', ['named', 'pre-restore'], 1)).toBe(1)
    expect((await s.listVersions('d')).map((v) => v.kind)).toEqual(['auto', 'pre-restore'])
    await s.delete('d')
    expect(await s.listVersions('d')).toEqual([])
    expect(await s.listVersions('other')).toHaveLength(1)
    await s.close()
  })

  it('saveVersionUnlessCovered: the predicate sees the newest version of that kind; racing saves of one state store it once', async () => {
    const s = make()
    const same = (data: Uint8Array) => (newest: Uint8Array) => Buffer.from(newest).equals(Buffer.from(data))
    const a = new Uint8Array([1, 2, 3])
    const version = (data: Uint8Array) => ({ kind: 'auto' as const, label: null, createdBy: null, data })
    const racing = await Promise.all(Array.from({ length: 5 }, () => s.saveVersionUnlessCovered('d', version(a), same(a))))
    expect(racing.filter((v) => v !== null)).toHaveLength(1)
    // A named version in between is not what an automatic one is compared with.
    await s.saveVersion('d', { kind: 'named', label: 'n', createdBy: null, data: new Uint8Array([9]) })
    expect(await s.saveVersionUnlessCovered('d', version(a), same(a))).toBeNull()
    const b = new Uint8Array([4])
    expect(await s.saveVersionUnlessCovered('d', version(b), same(b))).toMatchObject({ kind: 'auto', bytes: 1 })
    expect(await s.saveVersionUnlessCovered('other', version(b), same(b))).not.toBeNull()
    expect((await s.listVersions('d')).map((v) => v.kind)).toEqual(['auto', 'named', 'auto'])
    await s.close()
  })
})
