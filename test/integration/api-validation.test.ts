import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { SqliteStorage } from '../../server/storage/sqlite.ts'
import { storedText } from '../helpers/auth.ts'
import { appendText, call, docPath, httpBase } from '../helpers/rest.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

describe('REST writes are validated like socket updates', () => {
  it('refuses malformed, oversized, wrongly typed and dependency-less updates before anything is stored', async () => {
    const server = await startServer({ ...TOKEN_MODE, maxUpdateBytes: 4096, maxDocumentBytes: 20_000 })
    const base = httpBase(server.url)
    const token = await tokenFor('ada', { 'team/*': 'write' })
    const path = docPath('team/guarded', '/updates')
    expect((await call(base, 'POST', path, { token, body: appendText('good. ') })).status).toBe(200)

    // Truncated: Y.applyUpdate would apply part of it and throw; Y.decodeUpdate refuses it whole.
    const valid = appendText('x'.repeat(200))
    const truncated = await call(base, 'POST', path, { token, body: valid.slice(0, valid.length - 20) })
    expect([truncated.status, truncated.json.error]).toEqual([400, 'malformed-update'])
    const garbage = await call(base, 'POST', path, { token, body: new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]) })
    expect([garbage.status, garbage.json.error]).toEqual([400, 'malformed-update'])
    const empty = await call(base, 'POST', path, { token, body: new Uint8Array(0) })
    expect([empty.status, empty.json.error]).toEqual([400, 'malformed-update'])

    const big = await call(base, 'POST', path, { token, body: appendText('y'.repeat(5000)) })
    expect([big.status, big.json.error]).toEqual([413, 'payload-too-large'])
    const asJson = await call(base, 'POST', path, { token, body: appendText('z'), contentType: 'application/json' })
    expect([asJson.status, asJson.json.error]).toEqual([415, 'unsupported-media-type'])

    // An update whose predecessor never arrived would wait in the document forever: refused.
    const doc = new Y.Doc()
    doc.getText('codemirror').insert(0, 'first')
    const sv = Y.encodeStateVector(doc)
    doc.getText('codemirror').insert(5, ' second')
    const orphan = Y.encodeStateAsUpdate(doc, sv)
    const missing = await call(base, 'POST', path, { token, body: orphan })
    expect([missing.status, missing.json.error]).toEqual([422, 'missing-dependencies'])

    expect(await storedText(server, 'team/guarded', 'codemirror')).toBe('good. ')
    expect(server.hocuspocus.documents.get('team/guarded')?.getText('codemirror').toString() ?? 'good. ').toBe('good. ')

    // The document's size limit holds for REST writes too.
    for (let i = 0; i < 6; i++) await call(base, 'POST', path, { token, body: appendText('w'.repeat(3000)) })
    const full = await call(base, 'POST', path, { token, body: appendText('v'.repeat(3000)) })
    expect([full.status, full.json.error]).toEqual([413, 'document-too-large'])
  })

  it('names, routes, methods and query parameters get stable JSON errors', async () => {
    const server = await startServer({ ...TOKEN_MODE, docNameMaxLength: 20 })
    const base = httpBase(server.url)
    const token = await tokenFor('root', { '*': 'admin' })
    const bad = await call(base, 'GET', docPath('a/../b'), { token })
    expect([bad.status, bad.json.error]).toEqual([400, 'invalid-document-name'])
    expect((await call(base, 'GET', docPath('x'.repeat(21)), { token })).json.error).toBe('invalid-document-name')
    const noRoute = await call(base, 'GET', '/api/nothing-here', { token })
    expect([noRoute.status, noRoute.json.error]).toEqual([404, 'no-route'])
    const method = await call(base, 'PUT', docPath('doc'), { token })
    expect([method.status, method.json.error]).toEqual([405, 'method-not-allowed'])
    expect(method.headers.get('allow')).toContain('GET')
    const limit = await call(base, 'GET', docPath('doc', '/chat?limit=abc'), { token })
    expect([limit.status, limit.json.error]).toEqual([400, 'bad-request'])
    const label = await call(base, 'POST', docPath('doc', '/versions'), { token, body: new TextEncoder().encode('{not json'), contentType: 'application/json' })
    expect([label.status, label.json.error]).toEqual([400, 'bad-request'])
    for (const r of [bad, noRoute, method, limit, label]) expect(typeof r.json.message).toBe('string')
  })

  it('storage that cannot write: 503, nothing applied; the same write works once storage is back', async () => {
    const server = await startServer(TOKEN_MODE)
    const base = httpBase(server.url)
    const token = await tokenFor('ada', { 'team/*': 'write' })
    const path = docPath('team/disk', '/updates')
    expect((await call(base, 'POST', path, { token, body: appendText('before. ') })).status).toBe(200)
    const state = (await call(base, 'GET', docPath('team/disk'), { token, accept: 'application/octet-stream' })).bytes

    const db = (server.storage as SqliteStorage).database
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`)
    const update = appendText('x'.repeat(100_000), 'codemirror', state)
    const refused = await call(base, 'POST', path, { token, body: update })
    expect([refused.status, refused.json.error]).toEqual([503, 'storage-unavailable'])
    expect(refused.headers.get('retry-after')).toBeTruthy()
    expect(server.hocuspocus.documents.get('team/disk')?.getText('codemirror').toString() ?? 'before. ').toBe('before. ')

    db.pragma('max_page_count = 1073741823')
    expect((await call(base, 'POST', path, { token, body: update })).status).toBe(200)
    expect((await storedText(server, 'team/disk', 'codemirror')).length).toBe('before. '.length + 100_000)
  })
})
