/**
 * Webhooks (docs/events.md#webhooks), receivers on 127.0.0.1 only: signed
 * with Standard Webhooks, retried in order until the receiver recovers,
 * parked and replayed, admins only over their own patterns, and private
 * addresses refused by default.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import type { CollabServer } from '../../server/app.ts'
import { type FeedEvent, createReceiver } from '../../examples/webhook-receiver.ts'
import { newSecret } from '../../server/events/webhook-config.ts'
import { newMessage, plainWriter } from '../helpers/chat-forge.ts'
import { settled } from '../helpers/clients.ts'
import { call, httpBase } from '../helpers/rest.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

/** A receiver on 127.0.0.1 (the example's: verifies each request with `secret`, de-duplicates by id). */
export async function receiver(secret: string, refuse?: (n: number) => number | undefined): Promise<{ url: string; events: FeedEvent[]; server: Server }> {
  const events: FeedEvent[] = []
  const server = createReceiver({ secret, onEvent: (e) => void events.push(e), refuse })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, events, server }
}

async function feed(config: Record<string, unknown> = {}) {
  const server = await startServer({ ...TOKEN_MODE, eventsWindowMs: 20, webhookAllowPrivate: true, webhookBackoffMs: 20, ...config })
  const base = httpBase(server.url)
  const admin = await tokenFor('root', { '*': 'admin' })
  return { server, base, admin }
}

async function chat(server: CollabServer, token: string, room: string, ids: string[]): Promise<void> {
  const w = await plainWriter(server, room, token)
  for (const id of ids) w.doc.getArray('chat').push([newMessage({ id, author: 'root', text: id })])
  await settled(w.provider)
}

const range = (n: number) => Array.from({ length: n }, (_, i) => `m${i}`)

describe('webhooks', () => {
  it('a receiver answering 500 to its first requests gets every event, in order, each signed, once it recovers', async () => {
    const { server, base, admin } = await feed()
    const secret = newSecret()
    const r = await receiver(secret, (n) => (n <= 4 ? 500 : undefined))
    const created = await call(base, 'POST', '/api/webhooks', { token: admin, body: { url: r.url, secret, types: ['chat.*'], documents: ['team/*'] } })
    expect(created.status).toBe(201)
    await chat(server, admin, 'team/room', range(10))
    await chat(server, admin, 'other/room', ['elsewhere'])
    await vi.waitFor(() => expect(r.events.map((e) => e.data.id)).toEqual(range(10)), { timeout: 15_000 })
    expect(r.events.every((e) => e.type === 'chat.message.created' && e.document === 'team/room')).toBe(true)
    const ids = r.events.map((e) => Number(e.id))
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    const attempts = (await server.metrics.webhookDeliveries.get()).values
    expect(attempts.find((v) => v.labels.outcome === 'failed')?.value).toBe(4)
    expect(attempts.find((v) => v.labels.outcome === 'delivered')?.value).toBe(10)
    const listed = await call(base, 'GET', '/api/webhooks', { token: admin })
    expect(listed.json.endpoints).toEqual([expect.objectContaining({ id: created.json.id, url: r.url, source: 'api', delivery: expect.objectContaining({ attempts: 0 }) })])
    expect(JSON.stringify(listed.json)).not.toContain(secret)
  })

  it('after WEBHOOK_RETRY_FOR_MS a delivery is parked with its last error, listed, and replayed on request', async () => {
    const { server, base, admin } = await feed({ webhookRetryForMs: 0 })
    let down = true
    const secret = newSecret()
    const r = await receiver(secret, () => (down ? 503 : undefined))
    const created = await call(base, 'POST', '/api/webhooks', { token: admin, body: { url: r.url, secret, types: ['chat.message.created'] } })
    const id = created.json.id as string
    await chat(server, admin, 'room', ['lost', 'also-lost'])
    const failures = async () => (await call(base, 'GET', `/api/webhooks/${id}/failures`, { token: admin })).json.failures as Array<{ id: number; lastError: string }>
    await vi.waitFor(async () => expect(await failures()).toHaveLength(2))
    expect((await failures())[0]!.lastError).toBe('answered 503')
    down = false
    const first = (await failures())[0]!
    expect((await call(base, 'POST', `/api/webhooks/${id}/failures/${first.id}/replay`, { token: admin })).status).toBe(202)
    await vi.waitFor(() => expect(r.events.map((e) => e.data.id)).toEqual(['lost']))
    await vi.waitFor(async () => expect((await failures()).map((f) => f.id)).not.toContain(first.id))
    expect((await call(base, 'POST', `/api/webhooks/${id}/failures/99999/replay`, { token: admin })).status).toBe(404)
  })

  it('an admin adds endpoints only inside its own document patterns', async () => {
    const { base } = await feed()
    const url = 'http://127.0.0.1:9/hook'
    const teamAdmin = await tokenFor('tess', { 'team/*': 'admin', 'team/hr/*': 'read' })
    const post = (token: string, documents?: string[]) => call(base, 'POST', '/api/webhooks', { token, body: { url, documents } })
    expect((await post(teamAdmin, ['team/*'])).status).toBe(403)
    expect((await post(teamAdmin)).status).toBe(403)
    const ok = await post(teamAdmin, ['team/eng/*', 'team/notes'])
    expect(ok.status).toBe(201)
    expect(ok.json.secret).toMatch(/^whsec_/)
    expect((await post(await tokenFor('w', { '*': 'write' }), ['x'])).status).toBe(403)
    // Another admin does not see it (nor may it delete it).
    const other = await tokenFor('olga', { 'other/*': 'admin' })
    expect((await call(base, 'GET', '/api/webhooks', { token: other })).json.endpoints).toEqual([])
    expect((await call(base, 'DELETE', `/api/webhooks/${ok.json.id as string}`, { token: other })).status).toBe(404)
    expect((await call(base, 'DELETE', `/api/webhooks/${ok.json.id as string}`, { token: teamAdmin })).status).toBe(204)
    expect((await call(base, 'POST', '/api/webhooks', { token: teamAdmin, body: { url: 'ftp://example.com/x', documents: ['team/x'] } })).json.error).toBe('bad-request')
  })

  it('by default a URL resolving to a loopback, private, link-local or metadata address is refused', async () => {
    const { base, admin } = await feed({ webhookAllowPrivate: false })
    for (const url of ['http://127.0.0.1:8080/hook', 'http://localhost/hook', 'http://10.1.2.3/', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://192.168.1.1/']) {
      const r = await call(base, 'POST', '/api/webhooks', { token: admin, body: { url } })
      expect([url, r.status, r.json.error]).toEqual([url, 422, 'webhook-url-refused'])
    }
  })
})
