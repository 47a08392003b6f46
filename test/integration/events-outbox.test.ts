/**
 * Events are born where the change commits (docs/events.md): a typing burst is
 * one coalesced `document.updated` with its types and authors, chat events
 * commit with the chat change, a refused forgery leaves no event, REST and
 * history paths have theirs — and after kill -9 no committed change lacks
 * its event.
 */
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import type { CollabServer } from '../../server/app.ts'
import type { FeedEvent } from '../../server/storage/types.ts'
import { AckedWriter, expectNoneMissing, FAST_WRITERS, readEdits } from '../helpers/kill9.ts'
import { expectRefused, messageMap, newMessage, plainWriter } from '../helpers/chat-forge.ts'
import { settled } from '../helpers/clients.ts'
import { spawnServer } from '../helpers/process.ts'
import { call, docPath, httpBase } from '../helpers/rest.ts'
import { startServer, tempDir } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

const ROOM = 'team/notes'
const WRITE = { 'team/*': 'write' }

const all = (server: CollabServer): Promise<FeedEvent[]> => server.storage.events.read(0, 1000)
const ofType = (events: FeedEvent[], type: string) => events.filter((e) => e.type === type)

describe('events: born where the change commits', () => {
  it('a typing burst is one document.updated, after document.created, with the new state vector and who changed which type', async () => {
    const server = await startServer({ ...TOKEN_MODE, eventsWindowMs: 200 })
    const ann = await plainWriter(server, ROOM, await tokenFor('ann', WRITE))
    const text = ann.doc.getText('codemirror')
    for (let i = 0; i < 20; i++) text.insert(text.length, `${i} `)
    await settled(ann.provider)
    await vi.waitFor(async () => expect(ofType(await all(server), 'document.updated')).toHaveLength(1))
    await server.events!.coalescer.flush()
    const events = await all(server)
    expect(events.map((e) => e.type)).toEqual(['document.created', 'document.updated'])
    const [created, updated] = events as [FeedEvent, FeedEvent]
    expect(created).toMatchObject({ document: ROOM, actor: 'ann' })
    const data = updated.data as { stateVector: string; size: number; types: Record<string, string[]>; updates: number }
    expect(updated.actor).toBe('ann')
    expect(data.types).toEqual({ codemirror: ['ann'] })
    expect((updated.data as { authors: string[] }).authors).toEqual(['ann'])
    expect(data.size).toBeGreaterThan(0)
    expect(Y.decodeStateVector(Buffer.from(data.stateVector, 'base64'))).toEqual(Y.decodeStateVector(Y.encodeStateVector(ann.doc)))
  })

  it('chat events commit with the chat change; a forgery the guard refuses leaves no event', async () => {
    const server = await startServer({ ...TOKEN_MODE, eventsWindowMs: 50 })
    const ann = await plainWriter(server, ROOM, await tokenFor('ann', WRITE))
    ann.doc.getArray('chat').push([newMessage({ id: 'm1', author: 'ann', text: 'hello' })])
    await settled(ann.provider)
    // Committed with the append: there before the ack came back.
    expect(ofType(await all(server), 'chat.message.created').map((e) => [e.actor, e.data])).toEqual([
      ['ann', expect.objectContaining({ v: 1, id: 'm1', author: 'ann', name: 'ann', text: 'hello', reactions: {} })],
    ])
    ann.doc.transact(() => {
      messageMap(ann.doc, 'm1').set('text', 'hello, all')
      messageMap(ann.doc, 'm1').set('editedAt', 5)
    })
    await settled(ann.provider)
    ann.doc.transact(() => {
      const m = messageMap(ann.doc, 'm1')
      m.set('text', '')
      m.set('deleted', true)
      m.set('deletedAt', 6)
      m.set('deletedBy', 'ann')
    })
    await settled(ann.provider)
    const bob = await plainWriter(server, ROOM, await tokenFor('bob', WRITE))
    bob.doc.getArray('chat').push([newMessage({ id: 'forged', author: 'ann', text: 'I owe bob 100 €' })])
    await expectRefused(bob)
    await server.events!.coalescer.flush()
    const chat = (await all(server)).filter((e) => e.type.startsWith('chat.'))
    expect(chat.map((e) => [e.type, e.actor, (e.data as { id: string }).id])).toEqual([
      ['chat.message.created', 'ann', 'm1'],
      ['chat.message.edited', 'ann', 'm1'],
      ['chat.message.deleted', 'ann', 'm1'],
    ])
    expect(chat[1]!.data).toEqual({ id: 'm1', author: 'ann', text: 'hello, all', editedAt: 5 })
    expect(chat[2]!.data).toEqual({ id: 'm1', author: 'ann', deletedBy: 'ann', deletedAt: 6 })
    expect(JSON.stringify(await all(server))).not.toContain('forged')
  })

  it('REST and history paths: version.created, version.restored, document.deleted', async () => {
    const server = await startServer({ ...TOKEN_MODE, eventsWindowMs: 50 })
    const base = httpBase(server.url)
    const admin = await tokenFor('root', { 'team/*': 'admin' })
    const ann = await plainWriter(server, ROOM, admin)
    ann.doc.getText('codemirror').insert(0, 'v1')
    await settled(ann.provider)
    const saved = await call(base, 'POST', docPath(ROOM, '/versions'), { token: admin, body: { label: 'first' } })
    expect(saved.status).toBe(201)
    const id = saved.json.id as number
    ann.doc.getText('codemirror').insert(0, 'more ')
    await settled(ann.provider)
    expect((await call(base, 'POST', docPath(ROOM, `/versions/${id}/restore`), { token: admin })).status).toBe(200)
    expect((await call(base, 'DELETE', docPath(ROOM), { token: admin })).status).toBe(204)
    const events = (await all(server)).filter((e) => !e.type.startsWith('document.updated') && e.type !== 'document.created')
    expect(events.map((e) => [e.type, e.actor])).toEqual([
      ['version.created', 'root'],
      ['version.created', 'root'],
      ['version.restored', 'root'],
      ['document.deleted', 'root'],
    ])
    expect(events[0]!.data).toMatchObject({ id, kind: 'named', label: 'first' })
    expect(events[2]!.data).toMatchObject({ version: { id } })
  })

  it('kill -9 while edits are pending: after the restart the document has its event, covering every acknowledged edit', async () => {
    const dbPath = join(tempDir(), 'collab.db')
    // A window longer than the test: nothing is paid before the kill; only the marks can tell.
    const env = { ...FAST_WRITERS, DB_PATH: dbPath, EVENTS_WINDOW_MS: '600000' }
    let server = await spawnServer(env)
    const writer = new AckedWriter(server.url, 'crash', { value: 0 })
    await writer.settled()
    writer.start()
    await writer.acknowledgedAtLeast(50 + Math.floor(Math.random() * 100))
    server.proc.kill('SIGKILL')
    await server.exited
    writer.destroy()
    server = await spawnServer(env, { port: server.port })
    const stored = await readEdits(server.url, 'crash')
    expectNoneMissing(writer.acknowledged, stored, 'after kill -9')
    const db = new Database(dbPath, { readonly: true })
    try {
      const rows = db.prepare<[], { type: string; data: string }>("SELECT type, data FROM events WHERE document = 'crash' ORDER BY id").all()
      const updated = rows.filter((r) => r.type === 'document.updated').map((r) => JSON.parse(r.data) as { stateVector: string; recovered?: boolean; authors?: string[] })
      expect(updated).toHaveLength(1)
      expect(updated[0]!.recovered).toBe(true)
      // Who wrote it is read from the log entries (open mode: anonymous).
      expect(updated[0]!.authors).toEqual(['anonymous'])
      const doc = new Y.Doc()
      doc.getArray<number>('edits').push(stored)
      const covered = Y.decodeStateVector(Buffer.from(updated[0]!.stateVector, 'base64'))
      // Every edit stored (so every acknowledged one) is inside the event's state vector.
      expect([...covered.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(stored.length)
      // Nothing is owed any more: the line is past the last change.
      expect(db.prepare<[], { n: number }>("SELECT count(*) AS n FROM updates WHERE created_at >= (SELECT value FROM event_meta WHERE key = 'paid_through')").get()).toEqual({ n: 0 })
    } finally {
      db.close()
    }
    server.proc.kill('SIGTERM')
    expect(await server.exited).toBe(0)
  })
})
