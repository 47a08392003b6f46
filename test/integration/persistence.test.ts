import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { createCollabServer } from '../../server/app.ts'
import { SqliteStorage } from '../../server/storage/sqlite.ts'
import { provider, settled } from '../helpers/clients.ts'
import { startServer, tempDir } from '../helpers/server.ts'

/** Make a recognisable document: text with deletions, a map, an array. */
function edit(doc: Y.Doc, round: number): void {
  const text = doc.getText('text')
  text.insert(text.length, `line ${round}\n`)
  if (round % 3 === 0) text.delete(0, 2)
  doc.getMap('meta').set(`k${round % 5}`, round)
  doc.getArray('list').push([round])
}

/** The document as JSON, with its shared types' kinds declared. */
function json(doc: Y.Doc) {
  return { text: doc.getText('text').toJSON(), meta: doc.getMap('meta').toJSON(), list: doc.getArray('list').toJSON() }
}

describe('SQLite persistence', () => {
  it('content survives a restart, and compaction keeps it identical (toJSON and state vector)', async () => {
    const dbPath = join(tempDir(), 'collab.db')
    // A low threshold so the log is folded several times while editing.
    const config = { dbPath, compactAfterUpdates: 7 }
    const first = await startServer(config)
    const writer = provider(first.url, 'doc')
    await settled(writer)
    for (let i = 0; i < 40; i++) edit(writer.document, i)
    await settled(writer)
    const expectedJson = json(writer.document)
    const expectedSv = Y.encodeStateVector(writer.document)
    writer.destroy()
    await first.close()

    // Compaction happened (the log is shorter than the number of edits) ...
    const storage = new SqliteStorage({ path: dbPath, sync: 'normal' })
    const before = await storage.logSize('doc')
    expect(before.count).toBeLessThan(40)
    const stored = await storage.load('doc')
    expect(stored.snapshot).not.toBeNull()
    // ... and a full compaction now leaves an empty log and the same content.
    await storage.compact('doc')
    expect((await storage.logSize('doc')).count).toBe(0)
    await storage.close()

    const second = createCollabServer({ ...first.config, port: 0 }, { logger: first.logger })
    await second.listen()
    try {
      const reader = provider(second.url, 'doc')
      await settled(reader)
      expect(json(reader.document)).toEqual(expectedJson)
      expect(Y.encodeStateVector(reader.document)).toEqual(expectedSv)
    } finally {
      await second.close()
    }
  })

  it('an append that races a compaction is not lost', async () => {
    const storage = new SqliteStorage({ path: join(tempDir(), 'race.db'), sync: 'normal' })
    const source = new Y.Doc()
    const updates: Uint8Array[] = []
    source.on('update', (u: Uint8Array) => updates.push(u))
    for (let i = 0; i < 200; i++) source.getArray('a').push([i])

    // Interleave appends and compactions in every order the event loop allows.
    const work: Promise<unknown>[] = []
    updates.forEach((u, i) => {
      work.push(storage.append('d', u))
      if (i % 17 === 0) work.push(storage.compact('d'))
    })
    await Promise.all(work)
    const loaded = new Y.Doc()
    const stored = await storage.load('d')
    for (const part of [stored.snapshot, ...stored.updates]) if (part) Y.applyUpdate(loaded, part)
    expect(loaded.getArray('a').toArray()).toEqual(source.getArray('a').toArray())
    await storage.close()
  })

  it('documents unload when the last client leaves and are compacted then', async () => {
    const server = await startServer({ docIdleUnloadMs: 0 })
    const p = provider(server.url, 'leaving')
    await settled(p)
    p.document.getText('t').insert(0, 'bye')
    await settled(p)
    p.destroy()
    await expect.poll(() => server.hocuspocus.getDocumentsCount(), { timeout: 15_000 }).toBe(0)
    await server.persistence.settle()
    expect((await server.storage.logSize('leaving')).count).toBe(0)
    expect((await server.storage.load('leaving')).snapshot).not.toBeNull()
  })
})

describe('loading a stored document', () => {
  it('applies the stored state without an update event (no re-encoding of the whole document), and later edits do raise one', async () => {
    const dbPath = join(tempDir(), 'collab.db')
    const seed = new SqliteStorage({ path: dbPath, sync: 'normal' })
    const source = new Y.Doc()
    for (let i = 0; i < 30; i++) edit(source, i)
    await seed.append('stored-doc', Y.encodeStateAsUpdate(source))
    await seed.close()

    const updateEvents: number[] = []
    let loaded = false
    // Runs before persistence (priority 10): its listener is on the document while the stored state is applied.
    const watcher = {
      extensionName: 'update-watcher',
      priority: 100,
      async onLoadDocument({ document }: { document: Y.Doc }) {
        document.on('update', (update: Uint8Array) => updateEvents.push(update.byteLength))
      },
      async afterLoadDocument() {
        loaded = true
      },
    }
    const server = await startServer({ dbPath }, { extensions: [watcher] })
    const reader = provider(server.url, 'stored-doc')
    await settled(reader)
    expect(loaded).toBe(true)
    expect(json(reader.document)).toEqual(json(source))
    expect(updateEvents).toEqual([])

    edit(reader.document, 99)
    await settled(reader)
    await vi.waitFor(() => expect(updateEvents.length).toBeGreaterThan(0))
  })
})
