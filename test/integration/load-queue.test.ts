import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { CloseCode, documentCloseReason } from '../../client/protocol.ts'
import { provider, settled } from '../helpers/clients.ts'
import { collabClient } from '../helpers/collab.ts'
import { authFrame, authReply, rawClient } from '../helpers/raw.ts'
import { httpBase, metric } from '../helpers/rest.ts'
import { startServer, tempDir } from '../helpers/server.ts'
import { SqliteStorage } from '../../server/storage/sqlite.ts'
import type { StoredDocument } from '../../server/storage/types.ts'

/** SQLite storage whose loads wait until `open()`, counting how many run at once. */
class GatedStorage extends SqliteStorage {
  active = 0
  peak = 0
  started = 0
  private gate: Promise<void>
  open!: () => void

  constructor(path: string) {
    super({ path, sync: 'normal' })
    this.gate = new Promise((resolve) => (this.open = resolve))
  }

  override async load(name: string): Promise<StoredDocument> {
    this.active++
    this.started++
    this.peak = Math.max(this.peak, this.active)
    try {
      await this.gate
      return await super.load(name)
    } finally {
      this.active--
    }
  }
}

const readyz = async (url: string) => {
  const r = await fetch(`${httpBase(url)}/readyz`)
  return { status: r.status, body: (await r.json()) as { status: string; checks: Record<string, string> } }
}

describe('load queue: admission control for document loads', () => {
  it('at most LOAD_CONCURRENCY loads at once, the rest queue (nobody is closed); /readyz degraded (200) while the queue is over LOAD_QUEUE_DEGRADED', async () => {
    const storage = new GatedStorage(join(tempDir(), 'collab.db'))
    const server = await startServer({ loadConcurrency: 2, loadQueueDegraded: 1 }, { storage })
    const http = httpBase(server.url)
    expect((await readyz(server.url)).body.status).toBe('ready')
    const clients = Array.from({ length: 5 }, (_, i) => provider(server.url, `storm/doc-${i}`))
    // Two loads admitted, three waiting for a slot.
    await vi.waitFor(async () => expect(await metric(http, 'collab_load_queue_length')).toBe(3))
    expect([storage.started, storage.active]).toEqual([2, 2])
    const mid = await readyz(server.url)
    expect(mid.status).toBe(200)
    expect(mid.body).toMatchObject({ status: 'degraded', checks: { loads: 'degraded', storage: 'ok' } })

    storage.open()
    await Promise.all(clients.map((c) => settled(c)))
    expect(storage.peak).toBe(2)
    expect(storage.started).toBe(5)
    expect(await metric(http, 'collab_load_queue_length')).toBe(0)
    expect(await metric(http, 'collab_document_load_seconds_count')).toBe(5)
    expect((await readyz(server.url)).body.status).toBe('ready')
    // Everyone still here, and the documents work.
    clients[0]!.document.getText('text').insert(0, 'after the storm')
    await settled(clients[0]!)
    const again = provider(server.url, 'storm/doc-0')
    await settled(again)
    expect(again.document.getText('text').toString()).toBe('after the storm')
  })

  it('the event loop lag is a histogram on /metrics', async () => {
    const server = await startServer()
    await vi.waitFor(async () => expect(await metric(httpBase(server.url), 'collab_event_loop_lag_seconds_count')).toBeGreaterThan(0))
  })
})

describe('shedding: LOAD_QUEUE_MAX', () => {
  it('a document that would join a full load queue is refused with server-busy; the client backs off and gets in once the queue drains', async () => {
    const storage = new GatedStorage(join(tempDir(), 'collab.db'))
    const server = await startServer({ loadConcurrency: 1, loadQueueMax: 1 }, { storage })
    const http = httpBase(server.url)
    // One load running, one waiting: the queue is full.
    const first = provider(server.url, 'busy/a')
    const second = provider(server.url, 'busy/b')
    await vi.waitFor(async () => expect(await metric(http, 'collab_load_queue_length')).toBe(1))
    const raw = await rawClient(server.url)
    raw.send(authFrame('busy/c'))
    const reply = await raw.next((d) => authReply(d) !== null)
    expect(authReply(reply)).toEqual({ denied: documentCloseReason(CloseCode.ServerBusy) })
    // A document loaded or loading costs no new load: it is not refused.
    const again = await rawClient(server.url)
    again.send(authFrame('busy/b'))
    expect(authReply(await again.next((d) => authReply(d) !== null))).toMatchObject({ scope: expect.any(String) })

    // Our client, refused the same way, waits and tries again by itself.
    const client = collabClient(server.url, 'ann')
    const room = client.room('busy/d')
    const closed: unknown[] = []
    room.on('denied', (r) => closed.push(r))
    await vi.waitFor(() => expect(closed.length).toBeGreaterThanOrEqual(1))
    expect(client.stopped).toBeNull()
    storage.open()
    await Promise.all([settled(first), settled(second)])
    await room.synced
    expect(client.stopped).toBeNull()
  })
})
