import { runInNewContext } from 'node:vm'
import { setFlagsFromString } from 'node:v8'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { CloseCode } from '../../client/protocol.ts'
import { provider, settled } from '../helpers/clients.ts'
import { authFrame, authenticatedClient, rawClient, updateFrame } from '../helpers/raw.ts'
import { startServer } from '../helpers/server.ts'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** A valid update of about `bytes` bytes. */
function bigUpdate(bytes: number): Uint8Array {
  const d = new Y.Doc()
  d.getText('text').insert(0, 'x'.repeat(bytes))
  return Y.encodeStateAsUpdate(d)
}

/** Open a raw socket with options (source address, headers); resolve with 'open' or the HTTP status. */
function tryOpen(url: string, options: WebSocket.ClientOptions): Promise<{ ws?: WebSocket; status?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, options)
    onTestFinished(() => ws.terminate())
    ws.once('open', () => resolve({ ws }))
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode }))
    ws.once('error', () => resolve({}))
  })
}

describe('limits', () => {
  it('an oversized frame closes with 1009; an update over MAX_UPDATE_BYTES too; an honest client keeps working', async () => {
    const server = await startServer({ maxMessageBytes: 64 * 1024, maxUpdateBytes: 16 * 1024 })
    const honest = provider(server.url, 'doc')
    await settled(honest)
    const big = await authenticatedClient(server.url, 'doc')
    big.send(updateFrame('doc', bigUpdate(100 * 1024)))
    expect(await big.closed).toBe(CloseCode.MessageTooBig.code)
    const medium = await authenticatedClient(server.url, 'doc')
    medium.send(updateFrame('doc', bigUpdate(32 * 1024)))
    expect(await medium.closed).toBe(CloseCode.MessageTooBig.code)
    honest.document.getText('text').insert(0, 'still here')
    await settled(honest)
    expect(server.hocuspocus.documents.get('doc')!.getText('text').toString()).toBe('still here')
  })

  it('a write past MAX_DOCUMENT_BYTES is refused with 4413 for that document; the document is unchanged', async () => {
    const server = await startServer({ maxDocumentBytes: 20_000 })
    const p = provider(server.url, 'capped')
    await settled(p)
    p.document.getText('text').insert(0, 'small start. ')
    await settled(p)
    const reasons: string[] = []
    p.on('close', ({ event }: { event: { reason: string } }) => reasons.push(event.reason))
    p.document.getText('text').insert(0, 'y'.repeat(30_000))
    await vi.waitFor(() => expect(reasons.join()).toContain(String(CloseCode.DocumentTooLarge.code)))
    expect(server.hocuspocus.documents.get('capped')?.getText('text').toString()).toBe('small start. ')
    const other = provider(server.url, 'other')
    other.document.getText('text').insert(0, 'fine')
    await settled(other)
  })

  it('a message flood is cut off with 4429', async () => {
    const server = await startServer({ rateLimitPerSecond: 50, rateLimitBurst: 100 })
    const c = await authenticatedClient(server.url, 'flood')
    for (let i = 0; i < 500; i++) c.send(authFrame('flood'))
    expect(await c.closed).toBe(CloseCode.RateLimited.code)
  })

  it('1,000 never-authenticating sockets are closed with 4408; the server stays up and its heap settles back (within 2 MB)', async () => {
    const server = await startServer({ authTimeoutMs: 1500, maxConnectionsPerIp: 0 })
    // Plain sockets, not the raw-client helper: nothing on the test side may keep them alive.
    const silent = (count: number) =>
      Promise.all(
        Array.from({ length: count }, (_, i) => new Promise<number>((resolve, reject) => {
          const ws = new WebSocket(server.url)
          ws.once('open', () => {
            if (i % 2 === 0) ws.send(updateFrame(`pending-${i}`, bigUpdate(100))) // queued, never authenticated
          })
          ws.once('close', (code) => resolve(code))
          ws.once('error', reject)
        })),
      )
    await silent(200) // warm-up: first use allocates code and pools once
    gc()
    const before = process.memoryUsage().heapUsed
    const codes = await silent(1000)
    expect(new Set(codes)).toEqual(new Set([CloseCode.Timeout.code]))
    const honest = provider(server.url, 'after')
    honest.document.getText('t').insert(0, 'ok')
    await settled(honest)
    await vi.waitFor(() => {
      gc()
      expect(process.memoryUsage().heapUsed - before).toBeLessThan(2 * 1024 * 1024)
    }, { timeout: 20_000, interval: 500 })
  })

  it('sockets per client address are capped (tested from distinct 127.0.0.x addresses); X-Forwarded-For only with TRUST_PROXY', async () => {
    const server = await startServer({ maxConnectionsPerIp: 2 })
    const from = (localAddress: string, headers: Record<string, string> = {}) => tryOpen(server.url, { localAddress, headers })
    expect((await from('127.0.0.2')).ws).toBeDefined()
    expect((await from('127.0.0.2')).ws).toBeDefined()
    expect((await from('127.0.0.2')).status).toBe(429)
    expect((await from('127.0.0.3')).ws).toBeDefined()
    // Without TRUST_PROXY a forged header changes nothing.
    expect((await from('127.0.0.2', { 'x-forwarded-for': '10.9.9.9' })).status).toBe(429)

    const proxied = await startServer({ maxConnectionsPerIp: 1, trustProxy: 1 })
    const via = (client: string) => tryOpen(proxied.url, { localAddress: '127.0.0.4', headers: { 'x-forwarded-for': client } })
    expect((await via('10.0.0.1')).ws).toBeDefined()
    expect((await via('10.0.0.2')).ws).toBeDefined()
    expect((await via('10.0.0.1')).status).toBe(429)
  })

  it('a foreign Origin gets HTTP 403 before the upgrade; allowed and absent origins connect', async () => {
    const server = await startServer({ allowedOrigins: ['https://app.example.com'] })
    expect((await tryOpen(server.url, { origin: 'https://evil.example.com' })).status).toBe(403)
    expect((await tryOpen(server.url, { origin: 'https://app.example.com' })).ws).toBeDefined()
    expect((await tryOpen(server.url, {})).ws).toBeDefined()
  })

  it('document names breaking the rules close the socket with 4414; too many documents on one socket with 4409', async () => {
    const server = await startServer({ docNameMaxLength: 32, maxDocumentsPerSocket: 2 })
    for (const name of ['../etc/passwd', 'a/../b', '__proto__', 'team/constructor', 'bad\u0001name', 'x'.repeat(33), '/lead', 'trail/']) {
      const c = await rawClient(server.url)
      c.send(authFrame(name))
      expect(await c.closed, name).toBe(CloseCode.InvalidDocumentName.code)
    }
    const c = await rawClient(server.url)
    c.send(authFrame('one'))
    c.send(authFrame('two'))
    c.send(authFrame('three'))
    expect(await c.closed).toBe(CloseCode.TooManyDocuments.code)
  })
})
