/**
 * Webhook delivery that survives what servers go through (docs/events.md#webhooks):
 * kill -9 while deliveries are pending or under way loses none; two instances
 * on one PostgreSQL deliver every event, never both at once. Receivers on
 * 127.0.0.1, verifying each request with standardwebhooks.
 */
import { writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { pino } from 'pino'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest'
import * as Y from 'yjs'
import { startPostgres, type PostgresServer } from '../../scripts/cluster/services.ts'
import { createCollabServer } from '../../server/app.ts'
import { newSecret } from '../../server/events/webhook-config.ts'
import { newMessage } from '../helpers/chat-forge.ts'
import { provider, settled } from '../helpers/clients.ts'
import { spawnServer } from '../helpers/process.ts'
import { httpBase } from '../helpers/rest.ts'
import { envelopes, openSse } from '../helpers/sse.ts'
import { tempDir, tempDirOutsideTest } from '../helpers/server.ts'

let pgServer: PostgresServer
beforeAll(async () => {
  pgServer = await startPostgres({ dir: tempDirOutsideTest('collab-pg-') })
})
afterAll(async () => {
  await pgServer?.stop()
})

interface Received {
  url: string
  /** Every verified request's event id, in arrival order (repeats included). */
  requests: string[]
  /** Chat message ids of the distinct events, in first-arrival order. */
  messages: string[]
  /** Event ids seen while another request for the same id was still open. */
  concurrent: string[]
  mode: { refuseFirst: number; delayMs: number }
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = ''
    req.on('data', (c: Buffer) => (text += c.toString()))
    req.on('end', () => resolve(text))
  })
}

/** A verifying receiver that records arrivals, repeats and overlap per event id. */
async function receiver(secret: string): Promise<Received> {
  const webhook = new Webhook(secret)
  const open = new Set<string>()
  const seen = new Set<string>()
  const r: Received = { url: '', requests: [], messages: [], concurrent: [], mode: { refuseFirst: 0, delayMs: 0 } }
  let count = 0
  const server = createServer((req, res) => {
    void body(req).then(async (payload) => {
      const event = webhook.verify(payload, req.headers as Record<string, string>) as { id: string; data: { id: string } }
      if (++count <= r.mode.refuseFirst) return void res.writeHead(500).end()
      if (open.has(event.id)) r.concurrent.push(event.id)
      open.add(event.id)
      r.requests.push(event.id)
      await new Promise((resolve) => setTimeout(resolve, r.mode.delayMs))
      open.delete(event.id)
      if (!seen.has(event.id)) {
        seen.add(event.id)
        r.messages.push(event.data.id)
      }
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
  return r
}

function webhooksFile(url: string, secret: string): string {
  const path = join(tempDir(), 'webhooks.json')
  writeFileSync(path, JSON.stringify([{ id: 'hook', url, secret, types: ['chat.message.created'] }]))
  return path
}

async function send(url: string, room: string, ids: string[]): Promise<void> {
  const doc = new Y.Doc()
  const p = provider(url, room, { doc })
  await settled(p)
  for (const id of ids) doc.getArray('chat').push([newMessage({ id, author: 'someone', text: id })])
  await settled(p)
}

const range = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

describe('webhook delivery across crashes and instances', () => {
  it('kill -9 while deliveries are pending and under way: after the restart every event arrives', async () => {
    const secret = newSecret()
    const r = await receiver(secret)
    r.mode = { refuseFirst: 3, delayMs: 30 }
    const env = {
      DB_PATH: join(tempDir(), 'collab.db'),
      WEBHOOKS_FILE: webhooksFile(r.url, secret),
      WEBHOOK_ALLOW_PRIVATE: 'on',
      WEBHOOK_BACKOFF_MS: '50',
      EVENTS_WINDOW_MS: '50',
    }
    let server = await spawnServer(env)
    const all = range('k', 40)
    await send(server.url, 'room', all)
    // Refused three times, then delivering slowly: kill it in the middle.
    await vi.waitFor(() => expect(r.messages.length).toBeGreaterThanOrEqual(5), { timeout: 15_000 })
    server.proc.kill('SIGKILL')
    await server.exited
    expect(r.messages.length).toBeLessThan(all.length)
    r.mode = { refuseFirst: 0, delayMs: 0 }
    server = await spawnServer(env, { port: server.port })
    await vi.waitFor(() => expect(r.messages).toEqual(all), { timeout: 20_000 })
    server.proc.kill('SIGTERM')
    expect(await server.exited).toBe(0)
  })

  it('two instances on one PostgreSQL deliver every event, never the same one at the same time; a stream on one sees the other’s', async () => {
    const secret = newSecret()
    const r = await receiver(secret)
    r.mode = { refuseFirst: 0, delayMs: 5 }
    const databaseUrl = pgServer.createDatabase('webhooks_two')
    const file = webhooksFile(r.url, secret)
    const start = async () => {
      const s = createCollabServer(
        { port: 0, host: '127.0.0.1', databaseUrl, logLevel: 'silent', webhooksFile: file, webhookAllowPrivate: true, webhookBackoffMs: 20, eventsWindowMs: 20 },
        { logger: pino({ level: 'silent' }) },
      )
      await s.listen()
      onTestFinished(() => s.close())
      return s
    }
    const [a, b] = [await start(), await start()]
    // A stream on b follows what a commits, through the shared outbox.
    const stream = await openSse(`${httpBase(b.url)}/api/events?types=chat.*&documents=room-a`)
    const all = [...range('a', 25), ...range('b', 25)]
    await Promise.all([send(a.url, 'room-a', range('a', 25)), send(b.url, 'room-b', range('b', 25))])
    await vi.waitFor(() => expect([...r.messages].sort()).toEqual([...all].sort()), { timeout: 20_000 })
    expect(r.concurrent).toEqual([])
    await stream.until((events) => events.length >= 25)
    expect(envelopes(stream.events).map((e) => e.data.id)).toEqual(range('a', 25))
    // In order: the first arrival of each event, by id.
    const firsts = [...new Set(r.requests)].map(Number)
    expect(firsts).toEqual([...firsts].sort((x, y) => x - y))
  })
})
