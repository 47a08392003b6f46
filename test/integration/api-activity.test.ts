/**
 * Attribution (issue 16, item 3): a document's activity — who changed it,
 * when, how much, which shared types — paged, from the change feed's outbox
 * (one store), kept across compaction; and the version diff naming the
 * authors whose changes it holds.
 */
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { Errors } from '../../client/protocol.ts'
import type { Envelope } from '../../server/events/envelope.ts'
import { provider, settled } from '../helpers/clients.ts'
import { appendText, call, docPath, httpBase } from '../helpers/rest.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

const DOC = 'team/activity'
const ACCESS = { 'team/*': 'write' }

/** The change feed's envelope (docs/events.md), with the users whose changes it holds. */
type Entry = Omit<Envelope, 'data'> & {
  authors: string[]
  data: { types?: Record<string, string[]>; updates?: number; bytes?: number }
}

async function activity(base: string, token: string, query = ''): Promise<{ status: number; entries: Entry[]; next: string | null; json: Record<string, unknown> }> {
  const reply = await call(base, 'GET', docPath(DOC, `/activity${query}`), { token })
  return { status: reply.status, entries: (reply.json.activity ?? []) as Entry[], next: (reply.json.next ?? null) as string | null, json: reply.json }
}

describe('REST activity', () => {
  it('who changed the document, when, how much and which types: newest first, paged, for a reader, kept across compaction', async () => {
    const server = await startServer({ ...TOKEN_MODE, eventsWindowMs: 30 })
    const base = httpBase(server.url)
    const reader = await tokenFor('eve', { 'team/*': 'read' })
    const ada = provider(server.url, DOC, { token: await tokenFor('ada', ACCESS) })
    await settled(ada)
    // One change (one transaction): one window whatever the machine's load.
    ada.document.transact(() => {
      ada.document.getText('text').insert(0, 'by Ada. ')
      ada.document.getText('text').insert(8, 'More. ')
    })
    await settled(ada)
    const updated = (entries: Entry[]) => entries.filter((e) => e.type === 'document.updated')
    await vi.waitFor(async () => expect(updated((await activity(base, reader)).entries)).toHaveLength(1))
    const bob = await call(base, 'POST', docPath(DOC, '/updates'), { token: await tokenFor('bob', ACCESS), body: appendText('by Bob.', 'notes', Y.encodeStateAsUpdate(server.hocuspocus.documents.get(DOC)!)) })
    expect(bob.status).toBe(200)
    await vi.waitFor(async () => expect(updated((await activity(base, reader)).entries)).toHaveLength(2))

    const all = await activity(base, reader)
    expect(all.status).toBe(200)
    expect(all.json.name).toBe(DOC)
    expect(all.entries.map((e) => [e.type, e.authors])).toEqual([
      ['document.updated', ['bob']],
      ['document.updated', ['ada']],
      ['document.created', ['ada']],
    ])
    const [byBob, byAda] = all.entries as [Entry, Entry]
    expect(byBob.data.types).toEqual({ notes: ['bob'] })
    expect(byAda.data.types).toEqual({ text: ['ada'] })
    expect(byAda.data.updates).toBeGreaterThanOrEqual(1)
    expect(byAda.data.bytes).toBeGreaterThan(0)
    expect(Date.parse(byBob.time)).toBeGreaterThanOrEqual(Date.parse(byAda.time))
    expect(byBob).toMatchObject({ v: 1, document: DOC, actor: 'bob' })
    expect(all.next).toBeNull()

    // Paged: `limit`, then `before` the last id seen; `types` narrows.
    const first = await activity(base, reader, '?limit=1')
    expect(first.entries.map((e) => e.id)).toEqual([byBob.id])
    expect(first.next).toBe(byBob.id)
    const second = await activity(base, reader, `?limit=1&before=${first.next}`)
    expect(second.entries.map((e) => e.id)).toEqual([byAda.id])
    const onlyUpdates = await activity(base, reader, '?types=document.updated&limit=5')
    expect(onlyUpdates.entries.map((e) => e.id)).toEqual([byBob.id, byAda.id])

    // Compaction folds the log; the activity stays.
    await server.persistence.compact(DOC)
    expect((await activity(base, reader)).entries).toEqual(all.entries)
  })

  it('a document deleted and created again: its activity starts at the delete', async () => {
    const server = await startServer({ ...TOKEN_MODE, eventsWindowMs: 30 })
    const base = httpBase(server.url)
    const admin = await tokenFor('ada', { 'team/*': 'admin' })
    const reader = await tokenFor('eve', { 'team/*': 'read' })
    expect((await call(base, 'POST', docPath(DOC, '/updates'), { token: admin, body: appendText('secret plan') })).status).toBe(200)
    await vi.waitFor(async () => expect((await activity(base, reader)).entries.map((e) => e.type)).toContain('document.updated'))
    expect((await call(base, 'DELETE', docPath(DOC), { token: admin })).status).toBe(204)
    expect((await call(base, 'POST', docPath(DOC, '/updates'), { token: admin, body: appendText('fresh start') })).status).toBe(200)
    const now = await activity(base, reader)
    expect(now.entries.at(-1)).toMatchObject({ type: 'document.deleted', authors: ['ada'] })
    expect(now.entries.map((e) => e.type).filter((t) => t === 'document.created')).toHaveLength(1)
    expect(now.next).toBeNull()
  })

  it('opening a document or saving a version makes nobody an author', async () => {
    const server = await startServer({ ...TOKEN_MODE, eventsPresence: true })
    const base = httpBase(server.url)
    const ada = provider(server.url, DOC, { token: await tokenFor('ada', ACCESS) })
    await settled(ada)
    ada.document.getText('text').insert(0, 'hello')
    await settled(ada)
    const reader = await tokenFor('eve', { 'team/*': 'read' })
    const eve = provider(server.url, DOC, { token: reader })
    await settled(eve)
    expect((await call(base, 'POST', docPath(DOC, '/versions'), { token: await tokenFor('bob', ACCESS), body: { label: 'v1' } })).status).toBe(201)
    await vi.waitFor(async () => expect((await activity(base, reader)).entries.map((e) => `${e.type} ${e.actor}`)).toEqual(expect.arrayContaining(['presence.joined eve', 'version.created bob'])))
    const { entries } = await activity(base, reader)
    expect(entries.filter((e) => e.type.startsWith('presence.') || e.type.startsWith('version.')).flatMap((e) => e.authors)).toEqual([])
    expect(new Set(entries.flatMap((e) => e.authors))).toEqual(new Set(['ada']))
  })

  it('a token for other documents: 403; the change feed off: 404; a bad limit: 400', async () => {
    const server = await startServer({ ...TOKEN_MODE })
    const base = httpBase(server.url)
    const other = await activity(base, await tokenFor('eve', { 'other/*': 'read' }))
    expect([other.status, other.json.error]).toEqual([403, Errors.Forbidden.reason])
    const bad = await activity(base, await tokenFor('eve', { 'team/*': 'read' }), '?limit=0')
    expect([bad.status, bad.json.error]).toEqual([400, Errors.BadRequest.reason])
    const off = await startServer({ ...TOKEN_MODE, events: false })
    const none = await activity(httpBase(off.url), await tokenFor('eve', { 'team/*': 'read' }))
    expect([none.status, none.json.error]).toEqual([404, Errors.NotFound.reason])
  })

  it('the diff between two versions names the authors whose changes it holds', async () => {
    const server = await startServer(TOKEN_MODE)
    const base = httpBase(server.url)
    const adaToken = await tokenFor('ada', ACCESS)
    const ada = provider(server.url, DOC, { token: adaToken })
    await settled(ada)
    ada.document.getText('text').insert(0, 'Ada first.\n')
    await settled(ada)
    const saved = await call(base, 'POST', docPath(DOC, '/versions'), { token: adaToken, body: { label: 'before Bob' } })
    expect(saved.status).toBe(201)
    const bob = provider(server.url, DOC, { token: await tokenFor('bob', ACCESS) })
    await settled(bob)
    await vi.waitFor(() => expect(bob.document.getText('text').toString()).toBe('Ada first.\n'))
    bob.document.getText('text').insert(11, 'Bob next.\n')
    await settled(bob)
    const id = (saved.json as { id: number }).id
    const diff = await call(base, 'GET', docPath(DOC, `/diff?from=${id}&to=current`), { token: adaToken })
    expect(diff.status).toBe(200)
    expect(diff.json.authors).toEqual(['bob'])
    const whole = await call(base, 'GET', docPath(DOC, `/diff?from=${id}&to=${id}`), { token: adaToken })
    expect(whole.json.authors).toEqual([])
  })
})
