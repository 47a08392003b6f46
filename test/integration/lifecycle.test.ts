import { describe, expect, it } from 'vitest'
import { provider, settled } from '../helpers/clients.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

describe('document lifecycle', () => {
  it('an idle document stays loaded for DOC_IDLE_UNLOAD_MS after its last client leaves, then unloads', async () => {
    const server = await startServer({ docIdleUnloadMs: 1500 })
    const p = provider(server.url, 'idle')
    await settled(p)
    p.document.getText('t').insert(0, 'hi')
    await settled(p)
    p.destroy()
    const left = Date.now()
    await expect.poll(() => server.hocuspocus.getDocumentsCount(), { timeout: 15_000 }).toBe(0)
    expect(Date.now() - left).toBeGreaterThanOrEqual(1400)
  })

  it('a client coming back within the idle time finds the document still loaded', async () => {
    const server = await startServer({ docIdleUnloadMs: 60_000 })
    const a = provider(server.url, 'warm')
    await settled(a)
    const loaded = server.hocuspocus.documents.get('warm')
    a.destroy()
    await expect.poll(() => server.hocuspocus.documents.get('warm')?.getConnectionsCount()).toBe(0)
    const b = provider(server.url, 'warm')
    await settled(b)
    expect(server.hocuspocus.documents.get('warm')).toBe(loaded)
  })

  it('MAX_DOCUMENTS: idle documents are evicted first; when all are busy a new one is refused', async () => {
    const server = await startServer({ maxDocuments: 2, docIdleUnloadMs: 60_000 })
    const a = provider(server.url, 'a')
    const b = provider(server.url, 'b')
    await Promise.all([settled(a), settled(b)])
    b.destroy() // b is now idle, kept warm
    await expect.poll(() => server.hocuspocus.documents.get('b')?.getConnectionsCount()).toBe(0)

    const c = provider(server.url, 'c')
    await settled(c) // evicts idle 'b'
    expect([...server.hocuspocus.documents.keys()].sort()).toEqual(['a', 'c'])

    const d = provider(server.url, 'd')
    const denied = await new Promise<string>((resolve) => d.on('authenticationFailed', ({ reason }: { reason: string }) => resolve(reason)))
    expect(denied).toContain('server-at-capacity')
    expect(server.hocuspocus.getDocumentsCount()).toBe(2)
  })

  it('a client that fails authentication cannot make the server evict idle documents', async () => {
    const server = await startServer({ ...TOKEN_MODE, maxDocuments: 1, docIdleUnloadMs: 60_000 })
    const a = provider(server.url, 'team/a', { token: await tokenFor('ada', { 'team/*': 'write' }) })
    await settled(a)
    a.destroy()
    await expect.poll(() => server.hocuspocus.documents.get('team/a')?.getConnectionsCount()).toBe(0)
    const intruder = provider(server.url, 'team/b', { token: 'not-a-token' })
    await new Promise((resolve) => intruder.on('authenticationFailed', resolve))
    expect([...server.hocuspocus.documents.keys()]).toEqual(['team/a'])
  })
})
