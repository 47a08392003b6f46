import { Redis as IORedis } from 'ioredis'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import * as Y from 'yjs'
import { provider, settled } from '../helpers/clients.ts'
import { Services, startCluster } from '../helpers/cluster.ts'
import { AckedWriter, FAST_WRITERS, expectNoneMissing, readEdits } from '../helpers/kill9.ts'
import { spawnServer } from '../helpers/process.ts'
import { metric } from '../helpers/rest.ts'

const services = new Services()
const text = (p: { document: Y.Doc }) => p.document.getText('text').toString()
const readyz = (http: string) => fetch(`${http}/readyz`)
/** The ids of Redis's pub/sub connections. */
const pubsubIds = async (admin: IORedis) => [...String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')).matchAll(/^id=(\d+)/gm)].map((m) => m[1]!)

describe('scale-out: three instances, Redis and PostgreSQL', () => {
  it('clients on three instances converge on text, presence and chat', async () => {
    const cluster = await startCluster(services, { nodes: 3 })
    const [a, b, c] = cluster.nodes.map((n) => provider(n.url, 'shared'))
    await Promise.all([a!, b!, c!].map((p) => settled(p)))

    a!.document.getText('text').insert(0, 'A')
    b!.document.getText('text').insert(0, 'B')
    c!.document.getText('text').insert(0, 'C')
    const chat = (p: typeof a) => p!.document.getArray<Y.Map<unknown>>('chat')
    // A complete chat message (docs/chat-data-model.md §4.1): the server refuses anything else in `chat`.
    const message = new Y.Map<unknown>([['v', 1], ['id', 'm1'], ['author', 'ada'], ['name', 'Ada'], ['text', 'hello from A'], ['createdAt', 1], ['reactions', new Y.Map()]])
    chat(a).push([message])
    a!.setAwarenessField('user', { id: 'ada', name: 'Ada', color: '#f00' })

    await vi.waitFor(() => {
      expect(text(b!)).toBe(text(a!))
      expect(text(c!)).toBe(text(a!))
      expect(text(a!)).toHaveLength(3)
      expect(chat(c).toJSON()).toEqual([{ v: 1, id: 'm1', author: 'ada', name: 'Ada', text: 'hello from A', createdAt: 1, reactions: {} }])
      expect(c!.awareness!.getStates().get(a!.document.clientID)).toMatchObject({ user: { name: 'Ada' } })
      expect(b!.awareness!.getStates().get(a!.document.clientID)).toMatchObject({ user: { name: 'Ada' } })
    }, { timeout: 15_000 })
  })

  it('Redis restarted and subscriber connections killed while edits continue: reconverge within 5 s with no new edits; /readyz degraded meanwhile', async () => {
    const redis = await services.redis()
    const cluster = await startCluster(services, { nodes: 2 })
    const a = provider(cluster.nodes[0]!.url, 'resync')
    const b = provider(cluster.nodes[1]!.url, 'resync')
    await Promise.all([settled(a), settled(b)])
    let n = 0
    const edit = () => {
      a.document.getArray('list').push([`a${n}`])
      b.document.getArray('list').push([`b${n++}`])
    }

    // 1. Redis goes away while both sides edit.
    await redis.stop()
    for (let i = 0; i < 20; i++) edit()
    await Promise.all([settled(a), settled(b)]) // each instance still stores and acks its own clients
    const during = await readyz(cluster.nodes[0]!.http)
    expect(during.status).toBe(200)
    expect(await during.json()).toMatchObject({ status: 'degraded', checks: { redis: 'degraded', storage: 'ok' } })
    await redis.start()
    const back = Date.now()
    await vi.waitFor(() => expect(a.document.getArray('list').length).toBe(40), { timeout: 5000, interval: 20 })
    await vi.waitFor(() => expect(b.document.getArray('list').length).toBe(40), { timeout: Math.max(100, 5000 - (Date.now() - back)), interval: 20 })
    await vi.waitFor(async () => expect((await readyz(cluster.nodes[0]!.http)).status).toBe(200))

    // 2. Subscriber connections cut while publishes continue.
    const admin = new IORedis(redis.url)
    onTestFinished(() => admin.disconnect())
    await admin.client('KILL', 'TYPE', 'pubsub')
    for (let i = 0; i < 20; i++) edit()
    await admin.client('KILL', 'TYPE', 'pubsub')
    const cut = Date.now()
    await vi.waitFor(() => {
      expect(a.document.getArray('list').length).toBe(80)
      expect(b.document.getArray('list').length).toBe(80)
    }, { timeout: 5000, interval: 20 })
    expect(Date.now() - cut).toBeLessThan(5000)
  })

  it("only one instance's subscriber connections cut while its clients edit: a quiet peer catches up within 5 s with no new edits", async () => {
    const redis = await services.redis()
    const admin = new IORedis(redis.url)
    onTestFinished(() => admin.disconnect())
    const before = new Set(await pubsubIds(admin))
    const cluster = await startCluster(services, { nodes: 1 })
    const a = provider(cluster.nodes[0]!.url, 'quiet-peer')
    await settled(a)
    // The instance's own subscriber connections: the pub/sub connections that came with it.
    const ofA = (await pubsubIds(admin)).filter((id) => !before.has(id))
    expect(ofA.length).toBeGreaterThan(0)
    const peer = await spawnServer(cluster.env)
    const b = provider(peer.url, 'quiet-peer')
    await settled(b)

    await Promise.all(ofA.map((id) => admin.client('KILL', 'ID', id)))
    // While A listens to nothing, its edits' announcements reach B, and B's answers are lost.
    for (let i = 0; i < 20; i++) a.document.getArray('list').push([`a${i}`])
    await settled(a)
    // B edits nothing: only A's resync on its reconnect can bring B up to date.
    await vi.waitFor(() => expect(b.document.getArray('list').toArray()).toEqual(a.document.getArray('list').toArray()), { timeout: 5000, interval: 20 })
    expect(b.document.getArray('list').length).toBe(20)
  })

  it('Redis stopped while the last client leaves and the document unloads: the reopened document has every acknowledged edit', async () => {
    const redis = await services.redis()
    const cluster = await startCluster(services, { nodes: 2, env: FAST_WRITERS })
    const next = { value: 0 }
    const writer = new AckedWriter(cluster.nodes[0]!.url, 'outage', next)
    await writer.settled()
    const burst = async () => {
      writer.start(1)
      await writer.acknowledgedAtLeast(writer.acknowledged.length + 20)
      writer.stop()
      await writer.settled()
    }
    await burst()
    await redis.stop()
    await burst() // acknowledged while Redis is down
    writer.destroy() // the last client leaves while Redis is down
    // The document unloads (and compacts) while Redis is still down.
    await vi.waitFor(async () => expect(await metric(cluster.nodes[0]!.http, 'collab_documents_loaded')).toBe(0), { timeout: 30_000 })
    await redis.start()
    expect(writer.acknowledged.length).toBeGreaterThan(20)
    // Reopen on the other instance.
    expectNoneMissing(writer.acknowledged, await readEdits(cluster.nodes[1]!.url, 'outage'), 'after the outage')
  }, 90_000)
})
