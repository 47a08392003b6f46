import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { storedText } from '../helpers/auth.ts'
import { provider, settled } from '../helpers/clients.ts'
import { call, docPath, httpBase } from '../helpers/rest.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

interface Version {
  id: number
  kind: 'named' | 'auto' | 'pre-restore'
  label: string | null
  createdAt: string
  createdBy: string | null
  bytes: number
}

interface TypeDiff {
  kind: string
  added: string[]
  removed: string[]
}

const DOC = 'team/story'

/** Replace the whole text (one transaction), as an editor would after select-all + type. */
function setText(doc: Y.Doc, text: string): void {
  const t = doc.getText('codemirror')
  doc.transact(() => {
    t.delete(0, t.length)
    t.insert(0, text)
  })
}

describe('version history', () => {
  it('named versions by writers; list; read one; diff two', async () => {
    const server = await startServer(TOKEN_MODE)
    const base = httpBase(server.url)
    const writer = await tokenFor('ada', { 'team/*': 'write' })
    const reader = await tokenFor('bob', { 'team/*': 'read' })
    const p = provider(server.url, DOC, { token: writer })
    await settled(p)
    setText(p.document, 'line one\nline two\n')
    p.document.getMap('settings').set('theme', 'light')
    await settled(p)

    const created = await call(base, 'POST', docPath(DOC, '/versions'), { token: writer, body: { label: 'draft' } })
    expect(created.status).toBe(201)
    const draft = created.json as unknown as Version
    expect(draft).toMatchObject({ kind: 'named', label: 'draft', createdBy: 'ada' })
    expect(draft.bytes).toBeGreaterThan(0)
    expect(created.headers.get('location')).toBe(docPath(DOC, `/versions/${draft.id}`))
    const refused = await call(base, 'POST', docPath(DOC, '/versions'), { token: reader, body: { label: 'mine' } })
    expect([refused.status, refused.json.error]).toEqual([403, 'forbidden'])

    setText(p.document, 'line one\nline 2\nline three\n')
    p.document.getMap('settings').set('theme', 'dark')
    await settled(p)
    const final = (await call(base, 'POST', docPath(DOC, '/versions'), { token: writer, body: { label: 'final' } })).json as unknown as Version

    const list = await call(base, 'GET', docPath(DOC, '/versions'), { token: reader })
    expect(list.status).toBe(200)
    expect((list.json.versions as Version[]).map((v) => v.label)).toEqual(['final', 'draft'])
    const paged = await call(base, 'GET', docPath(DOC, `/versions?limit=1&before=${final.id}`), { token: reader })
    expect((paged.json.versions as Version[]).map((v) => v.id)).toEqual([draft.id])

    const old = await call(base, 'GET', docPath(DOC, `/versions/${draft.id}`), { token: reader })
    expect(old.json).toMatchObject({ version: { id: draft.id, label: 'draft' }, types: { codemirror: 'line one\nline two\n', settings: { theme: 'light' } } })
    const binary = await call(base, 'GET', docPath(DOC, `/versions/${draft.id}`), { token: reader, accept: 'application/octet-stream' })
    const copy = new Y.Doc()
    Y.applyUpdate(copy, binary.bytes)
    expect(copy.getText('codemirror').toString()).toBe('line one\nline two\n')
    expect((await call(base, 'GET', docPath(DOC, '/versions/999999'), { token: reader })).status).toBe(404)
    expect((await call(base, 'GET', docPath('team/other', `/versions/${draft.id}`), { token: reader })).status).toBe(404)

    const diff = await call(base, 'GET', docPath(DOC, `/diff?from=${draft.id}&to=${final.id}`), { token: reader })
    expect(diff.status).toBe(200)
    const types = diff.json.types as Record<string, TypeDiff>
    expect(types.codemirror).toMatchObject({ kind: 'text', added: ['line 2', 'line three'], removed: ['line two'] })
    expect(types.settings).toMatchObject({ kind: 'map', added: ['theme: "dark"'], removed: ['theme: "light"'] })
    // Against the live document, and with nothing changed.
    const live = await call(base, 'GET', docPath(DOC, `/diff?from=${final.id}&to=current`), { token: reader })
    expect(live.json.types).toEqual({})
    expect((await call(base, 'GET', docPath(DOC, `/diff?from=${draft.id}`), { token: reader })).status).toBe(400)
  })

  it('restore (admin): every client converges on the old state, durably, after a pre-restore version', async () => {
    const server = await startServer(TOKEN_MODE)
    const base = httpBase(server.url)
    const writer = await tokenFor('ada', { 'team/*': 'write' })
    const admin = await tokenFor('root', { 'team/*': 'admin' })
    const a = provider(server.url, DOC, { token: writer })
    const b = provider(server.url, DOC, { token: await tokenFor('bob', { 'team/*': 'write' }) })
    await Promise.all([settled(a), settled(b)])
    setText(a.document, 'the good text')
    a.document.getMap('settings').set('theme', 'light')
    const fragment = a.document.getXmlFragment('prosemirror')
    const p = new Y.XmlElement('paragraph')
    p.insert(0, [new Y.XmlText('kept prose')])
    fragment.insert(0, [p])
    await settled(a)
    const good = (await call(base, 'POST', docPath(DOC, '/versions'), { token: writer, body: { label: 'good' } })).json as unknown as Version

    // Then things go wrong, from both clients.
    setText(a.document, 'VANDALISED')
    a.document.getMap('settings').set('theme', 'ugly')
    a.document.getMap('settings').set('extra', true)
    await settled(a)
    b.document.getXmlFragment('prosemirror').delete(0, 1)
    b.document.getArray('junk').push(['x', 'y'])
    await settled(b)
    await vi.waitFor(() => expect(a.document.getArray('junk').length).toBe(2))

    const refused = await call(base, 'POST', docPath(DOC, `/versions/${good.id}/restore`), { token: writer })
    expect([refused.status, refused.json.error]).toEqual([403, 'forbidden'])

    const r = await call(base, 'POST', docPath(DOC, `/versions/${good.id}/restore`), { token: admin })
    expect(r.status).toBe(200)
    expect(r.json).toMatchObject({ restored: { id: good.id }, preRestore: { kind: 'pre-restore', createdBy: 'root' } })
    // Durable before the 2xx, like any write.
    expect(await storedText(server, DOC, 'codemirror')).toBe('the good text')

    for (const c of [a, b]) {
      await vi.waitFor(() => {
        expect(c.document.getText('codemirror').toString()).toBe('the good text')
        expect(c.document.getMap('settings').toJSON()).toEqual({ theme: 'light' })
        expect(c.document.getXmlFragment('prosemirror').toString()).toBe('<paragraph>kept prose</paragraph>')
        expect(c.document.getArray('junk').length).toBe(0)
      })
    }
    // Nothing lost: the state before the restore is a version of its own.
    const pre = (r.json.preRestore as Version).id
    const before = await call(base, 'GET', docPath(DOC, `/versions/${pre}`), { token: writer })
    expect(before.json).toMatchObject({ types: { codemirror: 'VANDALISED', settings: { theme: 'ugly', extra: true }, junk: ['x', 'y'] } })
    const kinds = ((await call(base, 'GET', docPath(DOC, '/versions'), { token: writer })).json.versions as Version[]).map((v) => v.kind)
    expect(kinds).toEqual(['pre-restore', 'named'])

    // Life goes on: clients keep editing the restored document and converge.
    a.document.getText('codemirror').insert(0, '> ')
    b.document.getText('codemirror').insert(b.document.getText('codemirror').length, '!')
    await Promise.all([settled(a), settled(b)])
    await vi.waitFor(() => expect(b.document.getText('codemirror').toString()).toBe('> the good text!'))
    expect(a.document.getText('codemirror').toString()).toBe('> the good text!')
    expect(await storedText(server, DOC, 'codemirror')).toBe('> the good text!')
  })

  it('the list says the caller’s role on the document, so a UI offers only what the token may do', async () => {
    const server = await startServer(TOKEN_MODE)
    const base = httpBase(server.url)
    for (const role of ['read', 'write', 'admin'] as const) {
      const r = await call(base, 'GET', docPath(DOC, '/versions'), { token: await tokenFor(`u-${role}`, { 'team/*': role }) })
      expect(r.status).toBe(200)
      expect(r.json.role).toBe(role)
    }
    const open = await startServer()
    expect((await call(httpBase(open.url), 'GET', docPath(DOC, '/versions'))).json.role).toBe('admin')
  })
})
