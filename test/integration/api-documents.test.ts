import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { CloseCode, documentCloseReason } from '../../client/protocol.ts'
import { MemoryStorage } from '../../server/storage/memory.ts'
import type { ClientClaim } from '../../server/storage/types.ts'
import { closes, storedText } from '../helpers/auth.ts'
import { provider, settled } from '../helpers/clients.ts'
import { appendText, call, docPath, httpBase, makeUpdate } from '../helpers/rest.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

/** Storage whose appends commit only when the test opens the gate (a slow disk, under the test's control). */
class GatedStorage extends MemoryStorage {
  private gate: Promise<void> | undefined
  private open: (() => void) | undefined
  /** Resolves when an append waits at the closed gate. */
  waiting: Promise<void> = Promise.resolve()
  private arrived: (() => void) | undefined

  /** Hold every later append until `release()`. */
  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve))
    this.waiting = new Promise((resolve) => (this.arrived = resolve))
  }

  release(): void {
    this.open?.()
    this.gate = undefined
  }

  override async append(name: string, update: Uint8Array, claims?: readonly ClientClaim[]): Promise<ClientClaim[] | void> {
    if (this.gate) {
      this.arrived?.()
      await this.gate
    }
    return super.append(name, update, claims)
  }
}

describe('REST documents: roles', () => {
  it('no token 401, a token for other documents 403, a reader reads but may not write 403', async () => {
    const server = await startServer(TOKEN_MODE)
    const base = httpBase(server.url)
    const writer = await tokenFor('ada', { 'team/*': 'write' })
    expect((await call(base, 'POST', docPath('team/notes', '/updates'), { token: writer, body: appendText('hello') })).status).toBe(200)

    const none = await call(base, 'GET', docPath('team/notes'))
    expect(none.status).toBe(401)
    expect(none.json.error).toBe('unauthorized')
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="collab"')
    const listNone = await call(base, 'GET', '/api/documents')
    expect([listNone.status, listNone.json.error, listNone.headers.get('www-authenticate')]).toEqual([401, 'unauthorized', 'Bearer realm="collab"'])
    const bad = await call(base, 'GET', docPath('team/notes'), { token: 'not-a-jwt' })
    expect([bad.status, bad.json.error]).toEqual([401, 'unauthorized'])
    expect(bad.headers.get('www-authenticate')).toBe('Bearer realm="collab", error="invalid_token"')
    const expired = await call(base, 'GET', docPath('team/notes'), { token: await tokenFor('ada', { 'team/*': 'write' }, { ttl: -60 }) })
    expect([expired.status, expired.json.error]).toEqual([401, 'token-expired'])

    const stranger = await tokenFor('eve', { 'other/*': 'admin' })
    for (const [method, path] of [['GET', ''], ['POST', '/updates'], ['DELETE', ''], ['GET', '/chat'], ['GET', '/versions']] as const) {
      const r = await call(base, method, docPath('team/notes', path), { token: stranger, ...(method === 'POST' ? { body: appendText('x') } : {}) })
      expect([method, path, r.status, r.json.error]).toEqual([method, path, 403, 'forbidden'])
    }

    const reader = await tokenFor('bob', { 'team/*': 'read' })
    const read = await call(base, 'GET', docPath('team/notes'), { token: reader })
    expect(read.status).toBe(200)
    expect(read.json).toMatchObject({ name: 'team/notes', types: { codemirror: 'hello' } })
    const refused = await call(base, 'POST', docPath('team/notes', '/updates'), { token: reader, body: appendText('HACK') })
    expect([refused.status, refused.json.error]).toEqual([403, 'forbidden'])
    expect(await storedText(server, 'team/notes', 'codemirror')).toBe('hello')
  })

  it('a writer’s update is stored before the 200 and reaches connected providers', async () => {
    // A slow disk: an answer sent before the write committed would come back before it is stored.
    const storage = new GatedStorage()
    const server = await startServer(TOKEN_MODE, { storage })
    const base = httpBase(server.url)
    const token = await tokenFor('ada', { 'team/*': 'write' })
    const live = provider(server.url, 'team/live', { token })
    await settled(live)
    live.document.getText('codemirror').insert(0, 'from the socket. ')
    await settled(live)

    const state = await call(base, 'GET', docPath('team/live'), { token, accept: 'application/octet-stream' })
    expect(state.headers.get('content-type')).toBe('application/octet-stream')
    storage.hold()
    let answered = false
    const posted = call(base, 'POST', docPath('team/live', '/updates'), { token, body: appendText('from REST.', 'codemirror', state.bytes) })
    void posted.then(() => (answered = true))
    await storage.waiting
    // No answer while the append waits: a later request, answered meanwhile, is the barrier.
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
    expect(answered).toBe(false)
    storage.release()
    const r = await posted
    expect(r.status).toBe(200)
    // Durable before the 2xx: in storage already, not "soon".
    expect(await storedText(server, 'team/live', 'codemirror')).toBe('from the socket. from REST.')
    await vi.waitFor(() => expect(live.document.getText('codemirror').toString()).toBe('from the socket. from REST.'))
    // Stored once: after a later socket edit is stored, the log holds exactly one REST entry.
    live.document.getText('codemirror').insert(0, '> ')
    await settled(live)
    const log = (await server.storage.load('team/live')).updates
    expect(log.filter((u) => new TextDecoder().decode(u).includes('from REST.'))).toHaveLength(1)
  })

  it('a writer’s update to a document nobody has open is stored and loaded by the next client', async () => {
    const server = await startServer(TOKEN_MODE)
    const base = httpBase(server.url)
    const token = await tokenFor('ada', { 'team/*': 'write' })
    const r = await call(base, 'POST', docPath('team/cold', '/updates'), { token, body: appendText('cold start') })
    expect(r.status).toBe(200)
    expect(r.json).toMatchObject({ name: 'team/cold' })
    expect(await storedText(server, 'team/cold', 'codemirror')).toBe('cold start')
    const later = provider(server.url, 'team/cold', { token })
    await settled(later)
    expect(later.document.getText('codemirror').toString()).toBe('cold start')
  })
})

describe('REST documents: reading and listing', () => {
  it('reads JSON of every shared type, plain text of a named type, and a binary update', async () => {
    const server = await startServer(TOKEN_MODE)
    const base = httpBase(server.url)
    const token = await tokenFor('ada', { 'team/*': 'write' })
    const update = makeUpdate((doc) => {
      doc.getText('codemirror').insert(0, 'const a = 1')
      const p = new Y.XmlElement('paragraph')
      p.insert(0, [new Y.XmlText('Hello prose')])
      doc.getXmlFragment('prosemirror').insert(0, [p])
      doc.getMap('settings').set('theme', 'dark')
      doc.getArray('list').push([1, 'two', { three: 3 }])
    })
    expect((await call(base, 'POST', docPath('team/all', '/updates'), { token, body: update })).status).toBe(200)

    const json = await call(base, 'GET', docPath('team/all'), { token })
    expect(json.json).toMatchObject({
      name: 'team/all',
      types: {
        codemirror: 'const a = 1',
        settings: { theme: 'dark' },
        list: [1, 'two', { three: 3 }],
        prosemirror: [{ type: 'paragraph', content: [{ text: 'Hello prose' }] }],
      },
    })
    const text = await call(base, 'GET', docPath('team/all', '?type=codemirror'), { token })
    expect([text.status, text.headers.get('content-type'), text.text]).toEqual([200, 'text/plain; charset=utf-8', 'const a = 1'])
    expect((await call(base, 'GET', docPath('team/all', '?type=prosemirror'), { token })).text).toBe('Hello prose')
    const notText = await call(base, 'GET', docPath('team/all', '?type=settings'), { token })
    expect([notText.status, notText.json.error]).toEqual([400, 'not-text'])
    expect((await call(base, 'GET', docPath('team/all', '?type=nothing'), { token })).status).toBe(404)

    const binary = await call(base, 'GET', docPath('team/all'), { token, accept: 'application/octet-stream' })
    const copy = new Y.Doc()
    Y.applyUpdate(copy, binary.bytes)
    expect(copy.getMap('settings').get('theme')).toBe('dark')
    expect((await call(base, 'GET', docPath('team/never'), { token })).status).toBe(404)
  })

  it('lists only the documents the token may read, paged by name, with size and last change', async () => {
    const server = await startServer(TOKEN_MODE)
    const base = httpBase(server.url)
    const admin = await tokenFor('root', { '*': 'admin' })
    for (const name of ['team/a', 'team/b', 'secret/x', 'team/c', 'zoo']) {
      expect((await call(base, 'POST', docPath(name, '/updates'), { token: admin, body: appendText(name) })).status).toBe(200)
    }
    const token = await tokenFor('ada', { 'team/*': 'read', zoo: 'write' })
    const page1 = await call(base, 'GET', '/api/documents?limit=2', { token })
    expect(page1.status).toBe(200)
    const docs1 = page1.json.documents as Array<{ name: string; bytes: number; updatedAt: string; role: string }>
    expect(docs1.map((d) => d.name)).toEqual(['team/a', 'team/b'])
    expect(docs1[0]!.bytes).toBeGreaterThan(0)
    expect(Date.parse(docs1[0]!.updatedAt)).toBeGreaterThan(Date.now() - 60_000)
    expect(docs1[0]!.role).toBe('read')
    expect(page1.json.next).toBe('team/b')
    const page2 = await call(base, 'GET', `/api/documents?limit=2&after=${encodeURIComponent('team/b')}`, { token })
    expect((page2.json.documents as Array<{ name: string }>).map((d) => d.name)).toEqual(['team/c', 'zoo'])
    const page3 = await call(base, 'GET', `/api/documents?after=zoo`, { token })
    expect([page3.json.documents, page3.json.next]).toEqual([[], null])
    expect((await call(base, 'GET', '/api/documents')).status).toBe(401)
    expect((await call(base, 'GET', '/api/documents?limit=0', { token })).status).toBe(400)
  })
})

describe('REST documents: delete', () => {
  it('an admin deletes: connections closed with 4410, gone from memory and storage; a writer may not', async () => {
    const server = await startServer({ ...TOKEN_MODE, docIdleUnloadMs: 60_000 })
    const base = httpBase(server.url)
    const writer = await tokenFor('ada', { 'team/*': 'write' })
    const admin = await tokenFor('root', { 'team/*': 'admin' })
    const live = provider(server.url, 'team/doomed', { token: writer })
    const closed = closes(live)
    await settled(live)
    live.document.getText('codemirror').insert(0, 'soon gone')
    await settled(live)
    expect((await call(base, 'POST', docPath('team/doomed', '/versions'), { token: writer, body: { label: 'v1' } })).status).toBe(201)

    const refused = await call(base, 'DELETE', docPath('team/doomed'), { token: writer })
    expect([refused.status, refused.json.error]).toEqual([403, 'forbidden'])

    const r = await call(base, 'DELETE', docPath('team/doomed'), { token: admin })
    expect(r.status).toBe(204)
    await vi.waitFor(() => expect(closed.map((c) => c.reason)).toContain(documentCloseReason(CloseCode.DocumentDeleted)))
    expect(server.hocuspocus.documents.has('team/doomed')).toBe(false)
    expect(await server.storage.load('team/doomed')).toEqual({ snapshot: null, updates: [], owners: [] })
    expect(await server.storage.listVersions('team/doomed')).toEqual([])
    expect((await call(base, 'GET', docPath('team/doomed'), { token: admin })).status).toBe(404)
    expect((await call(base, 'DELETE', docPath('team/doomed'), { token: admin })).status).toBe(404)
  })

  it('a client opening the document while it is being deleted gets the deleted (empty) document, never the old content', async () => {
    let begun = () => {}
    let go = () => {}
    const started = { promise: new Promise<void>((r) => (begun = r)), resolve: () => begun() }
    const proceed = { promise: new Promise<void>((r) => (go = r)), resolve: () => go() }
    class SlowDelete extends MemoryStorage {
      override async delete(name: string): Promise<void> {
        started.resolve()
        await proceed.promise
        return super.delete(name)
      }
    }
    const server = await startServer({ docIdleUnloadMs: 60_000 }, { storage: new SlowDelete() })
    const base = httpBase(server.url)
    expect((await call(base, 'POST', docPath('race', '/updates'), { body: appendText('old content') })).status).toBe(200)
    const deleting = call(base, 'DELETE', docPath('race'))
    await started.promise
    // Hocuspocus has let the document go; a client asks for it again before storage is emptied.
    const late = provider(server.url, 'race')
    await vi.waitFor(() => expect(server.hocuspocus.loadingDocuments.has('race') || server.hocuspocus.documents.has('race')).toBe(true))
    proceed.resolve()
    expect((await deleting).status).toBe(204)
    await settled(late)
    expect(late.document.getText('codemirror').toString()).toBe('')
    late.document.getText('codemirror').insert(0, 'new life')
    await settled(late)
    expect(await storedText(server, 'race', 'codemirror')).toBe('new life')
  })

  it('open mode (no key): everything is allowed without a token, as on the socket', async () => {
    const server = await startServer()
    const base = httpBase(server.url)
    expect((await call(base, 'POST', docPath('open', '/updates'), { body: appendText('free') })).status).toBe(200)
    expect((await call(base, 'GET', docPath('open', '?type=codemirror'))).text).toBe('free')
    expect((await call(base, 'DELETE', docPath('open'))).status).toBe(204)
  })
})
