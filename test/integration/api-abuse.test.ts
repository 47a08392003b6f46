/**
 * The REST API under abuse: request rates per token and per client address
 * (429 + Retry-After), and MAX_DOCUMENTS held for REST loads as for sockets
 * (503 server-at-capacity, nothing with a client evicted).
 */
import { describe, expect, it } from 'vitest'
import { defaultConfig } from '../../server/config.ts'
import { ApiErrorCode } from '../../server/http/api/errors.ts'
import { storedText } from '../helpers/auth.ts'
import { provider, settled } from '../helpers/clients.ts'
import { type Reply, appendText, call, docPath, httpBase } from '../helpers/rest.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

/** Most requests sent looking for the first 429: far more than a burst of 3 plus what 1/s refills meanwhile. */
const MAX_TRIES = 30

/** Send `request` until it is answered 429; returns every status before it and the 429 itself. */
async function untilLimited(request: (i: number) => Promise<{ status: number; reply: Reply | Response }>): Promise<{ before: number[]; limited: Reply | Response }> {
  const before: number[] = []
  for (let i = 0; i < MAX_TRIES; i++) {
    const { status, reply } = await request(i)
    if (status === 429) return { before, limited: reply }
    before.push(status)
  }
  throw new Error(`no 429 in ${MAX_TRIES} requests: ${before.join(' ')}`)
}

const errorOf = async (r: Reply | Response) => (r instanceof Response ? ((await r.json()) as { error: string }).error : r.json.error)

describe('REST rate limits', () => {
  it('per token: past its burst a token gets 429 rate-limited with Retry-After; another token from the same address goes on', async () => {
    const server = await startServer({ ...TOKEN_MODE, apiRateLimitPerSecond: 1, apiRateLimitBurst: 3 })
    const base = httpBase(server.url)
    const [ada, bob] = await Promise.all([tokenFor('ada', { '*': 'read' }), tokenFor('bob', { '*': 'read' })])
    const { before, limited } = await untilLimited(async () => {
      const reply = await call(base, 'GET', '/api/documents', { token: ada })
      return { status: reply.status, reply }
    })
    expect(before.slice(0, 3)).toEqual([200, 200, 200])
    expect(await errorOf(limited)).toBe(ApiErrorCode.RateLimited)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect((await call(base, 'GET', '/api/documents', { token: bob })).status).toBe(200)
  })

  it('per address, as TRUST_PROXY yields it: past its burst an address gets 429 whatever the token; another address goes on', async () => {
    const server = await startServer({ trustProxy: 1, apiRateLimitPerIpPerSecond: 1, apiRateLimitPerIpBurst: 3 })
    const base = httpBase(server.url)
    const from = (address: string, token: string) => fetch(`${base}/api/documents`, { headers: { 'x-forwarded-for': address, authorization: `Bearer ${token}` } })
    const { before, limited } = await untilLimited(async (i) => {
      const reply = await from('127.0.0.7', `token-${i}`)
      return { status: reply.status, reply }
    })
    expect(before.slice(0, 3)).toEqual([200, 200, 200])
    expect(await errorOf(limited)).toBe(ApiErrorCode.RateLimited)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect((await from('127.0.0.8', 'token-x')).status).toBe(200)
  })

  it('on by default, with the documented rates', () => {
    expect(defaultConfig).toMatchObject({ apiRateLimitPerSecond: 50, apiRateLimitBurst: 100, apiRateLimitPerIpPerSecond: 100, apiRateLimitPerIpBurst: 200 })
  })
})

describe('MAX_DOCUMENTS holds for REST', () => {
  it('a REST write that would load one document too many is 503 server-at-capacity; the document a client has open stays', async () => {
    const server = await startServer({ maxDocuments: 1, docIdleUnloadMs: 60_000 })
    const base = httpBase(server.url)
    const p = provider(server.url, 'busy')
    await settled(p)
    const refused = await call(base, 'POST', docPath('other', '/updates'), { body: appendText('x') })
    expect([refused.status, refused.json.error]).toEqual([503, ApiErrorCode.ServerAtCapacity])
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect([...server.hocuspocus.documents.keys()]).toEqual(['busy'])
    expect(await server.storage.load('other')).toEqual({ snapshot: null, updates: [], owners: [] })
    // The client's document is still served: its next edit is stored and acknowledged.
    p.document.getText('t').insert(0, 'still here')
    await settled(p)
    expect(await storedText(server, 'busy', 't')).toBe('still here')
  })

  it('an idle document is unloaded to make room, as for a socket', async () => {
    const server = await startServer({ maxDocuments: 1, docIdleUnloadMs: 60_000 })
    const base = httpBase(server.url)
    expect((await call(base, 'POST', docPath('first', '/updates'), { body: appendText('a') })).status).toBe(200)
    expect([...server.hocuspocus.documents.keys()]).toEqual(['first']) // kept warm, nobody on it
    expect((await call(base, 'POST', docPath('second', '/updates'), { body: appendText('b') })).status).toBe(200)
    expect([...server.hocuspocus.documents.keys()]).toEqual(['second'])
    expect(await storedText(server, 'first', 'codemirror')).toBe('a')
  })
})
