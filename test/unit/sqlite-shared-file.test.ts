import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { SqliteStorage } from '../../server/storage/sqlite.ts'
import { tempDir } from '../helpers/server.ts'

/** One number per update, each update depending on the one before (one writer's edits). */
function edits(count: number): Uint8Array[] {
  const doc = new Y.Doc()
  const out: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => out.push(u))
  for (let i = 0; i < count; i++) doc.getArray('a').push([i])
  return out
}

/**
 * Two storages on one file are two SQLite connections, as two server processes
 * sharing DB_PATH on one host are: each appends to the same document's log,
 * and neither may reuse an id the other wrote, or reorder the log.
 */
describe('SQLite file shared by two connections', () => {
  const open: SqliteStorage[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()))
  })
  const storage = (path: string) => {
    const s = new SqliteStorage({ path, sync: 'normal' })
    open.push(s)
    return s
  }

  it('appends from both to one document are all kept, in the order they were committed', async () => {
    const path = join(tempDir(), 'shared.db')
    const [a, b] = [storage(path), storage(path)]
    const log = edits(60)
    // Runs of appends from each, so each connection appends after the other wrote.
    for (let i = 0; i < log.length; i++) await (Math.floor(i / 3) % 2 === 0 ? a : b).append('d', log[i]!)
    for (const s of [a, b]) {
      expect((await s.load('d')).updates.map((u) => Buffer.from(u).toString('hex'))).toEqual(log.map((u) => Buffer.from(u).toString('hex')))
    }
  })

  it('after the other compacts or deletes the document, appends go on without a clash', async () => {
    const path = join(tempDir(), 'shared.db')
    const [a, b] = [storage(path), storage(path)]
    const log = edits(30)
    for (const u of log.slice(0, 10)) await a.append('d', u)
    expect(await b.compact('d')).toBe(10)
    for (const u of log.slice(10, 20)) await a.append('d', u)
    await b.append('d', log[20]!)
    const doc = new Y.Doc()
    const stored = await a.load('d')
    for (const part of [stored.snapshot!, ...stored.updates]) Y.applyUpdate(doc, part)
    expect(doc.getArray('a').toArray()).toEqual(Array.from({ length: 21 }, (_, i) => i))

    await b.delete('d')
    await a.append('d', log[0]!)
    expect((await b.load('d')).updates).toHaveLength(1)
  })
})
