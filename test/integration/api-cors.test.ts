/**
 * CORS for /api: only origins listed in ALLOWED_ORIGINS get cross-origin
 * access (preflight included); any other origin is refused before the handler
 * runs, so a web page cannot delete documents on an open-mode server on localhost.
 */
import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { ApiErrorCode } from '../../server/http/api/errors.ts'
import { appendText, call, docPath, httpBase } from '../helpers/rest.ts'
import { startServer } from '../helpers/server.ts'

const APP = 'http://app.example.test:8080'
const EVIL = 'http://evil.example.test'

function preflight(base: string, path: string, origin: string, method = 'DELETE') {
  return fetch(base + path, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' } })
}

const fromOrigin = (base: string, method: string, path: string, origin: string) => fetch(base + path, { method, headers: { origin } })

describe('CORS on /api', () => {
  it('a listed origin: the preflight is answered with what it may send, and the answer carries Access-Control-Allow-Origin', async () => {
    const server = await startServer({ allowedOrigins: [APP] })
    const base = httpBase(server.url)
    const pre = await preflight(base, docPath('team/notes'), APP)
    expect(pre.status).toBe(204)
    expect(pre.headers.get('access-control-allow-origin')).toBe(APP)
    expect(pre.headers.get('access-control-allow-methods')).toContain('DELETE')
    expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization')
    expect(pre.headers.get('vary')?.toLowerCase()).toContain('origin')

    const res = await fromOrigin(base, 'GET', '/api/documents', APP)
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe(APP)
    expect(res.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('retry-after')
  })

  it('an unlisted origin: the preflight is refused without CORS headers', async () => {
    const server = await startServer({ allowedOrigins: [APP] })
    const pre = await preflight(httpBase(server.url), docPath('team/notes'), EVIL)
    expect(pre.status).toBe(403)
    expect(((await pre.json()) as { error: string }).error).toBe(ApiErrorCode.OriginNotAllowed)
    expect(pre.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('an unlisted origin: a request that needs no preflight is refused before it does anything, without CORS headers', async () => {
    const server = await startServer({ allowedOrigins: [APP] }) // open mode: no token needed
    const base = httpBase(server.url)
    expect((await call(base, 'POST', docPath('victim', '/updates'), { body: appendText('keep me') })).status).toBe(200)
    const del = await fromOrigin(base, 'DELETE', docPath('victim'), EVIL)
    expect(del.status).toBe(403)
    expect(((await del.json()) as { error: string }).error).toBe(ApiErrorCode.OriginNotAllowed)
    expect(del.headers.get('access-control-allow-origin')).toBeNull()
    const read = await call(base, 'GET', docPath('victim'))
    expect([read.status, read.json.types]).toEqual([200, { codemirror: 'keep me' }])
  })

  it('an empty ALLOWED_ORIGINS allows no cross-origin REST (sockets keep accepting any origin); the same origin is not cross-origin', async () => {
    const server = await startServer({ allowedOrigins: [] })
    const base = httpBase(server.url)
    const pre = await preflight(base, docPath('x'), APP)
    expect(pre.status).toBe(403)
    expect(pre.headers.get('access-control-allow-origin')).toBeNull()
    const cross = await fromOrigin(base, 'GET', '/api/documents', APP)
    expect(cross.status).toBe(403)
    expect(cross.headers.get('access-control-allow-origin')).toBeNull()
    // The web page this server serves at / calls /api from its own origin.
    const same = await fromOrigin(base, 'GET', '/api/documents', base)
    expect(same.status).toBe(200)
    // Sockets: an empty list still means any origin.
    const ws = new WebSocket(server.url, { origin: APP })
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    ws.close()
  })

  it('behind TRUST_PROXY proxies, the server\'s own public origin is judged by X-Forwarded-Host', async () => {
    const public_ = 'https://collab.example.test'
    const get = (base: string) => fetch(`${base}/api/documents`, { headers: { origin: public_, 'x-forwarded-host': 'collab.example.test' } })
    expect((await get(httpBase((await startServer({ trustProxy: 1 })).url))).status).toBe(200)
    expect((await get(httpBase((await startServer({ trustProxy: 0 })).url))).status).toBe(403)
  })
})
