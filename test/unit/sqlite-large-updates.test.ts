import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { INLINE_BYTES } from '../../server/storage/sqlite-schema.ts'
import { SqliteStorage } from '../../server/storage/sqlite.ts'
import { tempDir } from '../helpers/server.ts'

const hex = (u: Uint8Array) => Buffer.from(u).toString('hex')

/** One writer's updates: small pushes, and now and then a paste of `big` characters. */
function mixedEdits(count: number, big: number): Uint8Array[] {
  const doc = new Y.Doc()
  const out: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => out.push(u))
  const text = doc.getText('t')
  for (let i = 0; i < count; i++) text.insert(text.length, i % 4 === 0 ? 'p'.repeat(big) : `${i}`)
  return out
}

/** Entries in the table that holds large updates apart from the log. */
const outOfLine = (s: SqliteStorage) => (s.database.prepare('SELECT count(*) AS n FROM update_blobs').get() as { n: number }).n

describe('SQLite: large updates', () => {
  const open: SqliteStorage[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()))
  })
  const storage = () => {
    const s = new SqliteStorage({ path: join(tempDir(), 'collab.db'), sync: 'normal' })
    open.push(s)
    return s
  }

  it('are kept apart from the log, read back in order byte for byte, counted, and go with compaction and delete', async () => {
    const s = storage()
    const log = mixedEdits(20, 4 * INLINE_BYTES)
    expect(log.filter((u) => u.byteLength > INLINE_BYTES)).toHaveLength(5)
    for (const u of log) await s.append('d', u)
    expect((await s.load('d')).updates.map(hex)).toEqual(log.map(hex))
    expect(outOfLine(s)).toBe(5)
    expect(await s.logSize('d')).toEqual({ count: 20, bytes: log.reduce((n, u) => n + u.byteLength, 0) })
    const [listed] = await s.list()
    expect(listed).toMatchObject({ name: 'd', bytes: log.reduce((n, u) => n + u.byteLength, 0) })

    expect(await s.compact('d')).toBe(20)
    expect(outOfLine(s)).toBe(0)
    const doc = new Y.Doc()
    Y.applyUpdate(doc, (await s.load('d')).snapshot!)
    expect(doc.getText('t').toString()).toContain('p'.repeat(4 * INLINE_BYTES))

    const more = mixedEdits(4, 4 * INLINE_BYTES)
    await Promise.all(more.map((u) => s.append('e', u)))
    expect(outOfLine(s)).toBe(1)
    await s.delete('e')
    expect(outOfLine(s)).toBe(0)
    expect(await s.load('e')).toEqual({ snapshot: null, updates: [], owners: [] })
  })

  it('the write probe of a large size leaves nothing behind', async () => {
    const s = storage()
    await s.checkWritable(100 * INLINE_BYTES)
    expect(outOfLine(s)).toBe(0)
    expect(await s.list()).toEqual([])
  })
})
