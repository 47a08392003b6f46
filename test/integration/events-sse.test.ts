/**
 * The change feed as Server-Sent Events (docs/events.md#server-sent-events):
 * resume without loss or repeat, the token's read role, 410 past retention,
 * keep-alive, expiry with the token, per-address caps, browser tickets.
 */
import { connect } from 'node:net'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { newMessage, plainWriter } from '../helpers/chat-forge.ts'
import { settled } from '../helpers/clients.ts'
import { call, docPath, httpBase } from '../helpers/rest.ts'
import { startServer } from '../helpers/server.ts'
import { envelopes, openSse } from '../helpers/sse.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

const ALL = { '*': 'write' }

async function feedServer(config: Record<string, unknown> = {}) {
  const server = await startServer({ ...TOKEN_MODE, eventsWindowMs: 20, ...config })
  const base = httpBase(server.url)
  const say = async (writer: Awaited<ReturnType<typeof plainWriter>>, ids: string[], author = 'ann') => {
    for (const id of ids) writer.doc.getArray('chat').push([newMessage({ id, author, text: id })])
    await settled(writer.provider)
  }
  return { server, base, say }
}

const range = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`)
const messageIds = (events: ReturnType<typeof envelopes>) => events.filter((e) => e.type === 'chat.message.created').map((e) => e.data.id as string)

describe('events over SSE', () => {
  it('a stream dropped and resumed with Last-Event-ID loses and repeats nothing', async () => {
    const { base, say, server } = await feedServer()
    const token = await tokenFor('ann', ALL)
    const ann = await plainWriter(server, 'room', token)
    const first = await openSse(`${base}/api/events?types=chat.*`, { token })
    expect(first.status).toBe(200)
    expect(first.headers.get('content-type')).toMatch(/^text\/event-stream/)
    await say(ann, range('a', 30))
    await first.until((events) => events.length >= 12)
    first.abort()
    const seen = envelopes(first.events)
    // While it is away: more messages.
    await say(ann, range('b', 30))
    const second = await openSse(`${base}/api/events?types=chat.*`, { token, lastEventId: seen.at(-1)!.id })
    await say(ann, range('c', 10))
    await second.until((events) => messageIds(envelopes(events)).includes('c9'))
    const all = [...seen, ...envelopes(second.events)]
    expect(messageIds(all)).toEqual([...range('a', 30), ...range('b', 30), ...range('c', 10)])
    const ids = all.map((e) => Number(e.id))
    expect(ids).toEqual([...ids].sort((x, y) => x - y))
    expect(new Set(ids).size).toBe(ids.length)
    // `since` is the same cursor, for clients that keep it themselves.
    const since = await openSse(`${base}/api/events?types=chat.*&since=${seen.at(-1)!.id}`, { token })
    const rest = messageIds(envelopes(second.events))
    await since.until((events) => events.length >= rest.length)
    expect(messageIds(envelopes(since.events))).toEqual(rest)
  })

  it("a reader's token sees only the documents it may read; filters narrow further", async () => {
    const { base, say, server } = await feedServer()
    const reader = await tokenFor('rita', { 'team/*': 'read' })
    const stream = await openSse(`${base}/api/events`, { token: reader })
    const narrowed = await openSse(`${base}/api/events?documents=team/b&types=chat.message.created`, { token: reader })
    const one = await openSse(`${base}${docPath('team/a', '/events')}`, { token: reader })
    const writer = await tokenFor('ann', ALL)
    await say(await plainWriter(server, 'secret/x', writer), ['hidden'])
    await say(await plainWriter(server, 'team/a', writer), ['visible-a'])
    await say(await plainWriter(server, 'team/b', writer), ['visible-b'])
    await stream.until((events) => messageIds(envelopes(events)).includes('visible-b'))
    await narrowed.until((events) => events.length >= 1)
    await one.until((events) => messageIds(envelopes(events)).includes('visible-a'))
    expect(new Set(envelopes(stream.events).map((e) => e.document))).toEqual(new Set(['team/a', 'team/b']))
    expect(envelopes(narrowed.events).map((e) => [e.type, e.document])).toEqual([['chat.message.created', 'team/b']])
    expect(new Set(envelopes(one.events).map((e) => e.document))).toEqual(new Set(['team/a']))
    // A document the token does not open: refused before any stream.
    const refused = await openSse(`${base}${docPath('secret/x', '/events')}`, { token: reader })
    expect([refused.status, refused.error?.error]).toEqual([403, 'forbidden'])
    expect((await openSse(`${base}/api/events`)).status).toBe(401)
  })

  it('a cursor older than retention kept gets 410 cursor-gone; a malformed one 400', async () => {
    const { base, say, server } = await feedServer()
    const token = await tokenFor('ann', ALL)
    await say(await plainWriter(server, 'room', token), ['old'])
    const before = (await server.storage.events.bounds()).newest
    await server.storage.events.prune(Date.now() + 1)
    const gone = await openSse(`${base}/api/events`, { token, lastEventId: '0' })
    expect([gone.status, gone.error?.error]).toEqual([410, 'cursor-gone'])
    const fine = await openSse(`${base}/api/events`, { token, lastEventId: String(before) })
    expect(fine.status).toBe(200)
    expect((await openSse(`${base}/api/events?since=abc`, { token })).status).toBe(400)
  })

  it('keep-alive comments while idle; the stream ends with token-expired when its token expires', async () => {
    const { base } = await feedServer({ streamKeepAliveMs: 100 })
    const stream = await openSse(`${base}/api/events`, { token: await tokenFor('ann', ALL, { ttl: 2 }) })
    await stream.until(() => stream.comments.includes('keep-alive'))
    await stream.ended
    expect(stream.closeReason()).toBe('token-expired')
  })

  it('with EVENTS=off nothing is stored for the feed and its endpoints answer 404', async () => {
    const { base, say, server } = await feedServer({ events: false })
    const token = await tokenFor('ann', ALL)
    await say(await plainWriter(server, 'room', token), ['unseen'])
    expect(await server.storage.events.read(0, 10)).toEqual([])
    const stream = await openSse(`${base}/api/events`, { token })
    expect([stream.status, stream.error?.error]).toEqual([404, 'not-found'])
    expect((await call(base, 'GET', '/api/webhooks', { token })).status).toBe(404)
  })

  it('a server shutting down ends its streams saying so (readers reconnect elsewhere with Last-Event-ID)', async () => {
    const { base, server } = await feedServer()
    const stream = await openSse(`${base}/api/events`, { token: await tokenFor('ann', ALL) })
    await server.close()
    await stream.ended
    expect(stream.closeReason()).toBe('server-shutting-down')
  })

  it('streams per address are capped (429 too-many-streams); a closed one frees its place', async () => {
    const { base } = await feedServer({ streamsPerIp: 2 })
    const token = await tokenFor('ann', ALL)
    const a = await openSse(`${base}/api/events`, { token })
    await openSse(`${base}/api/events`, { token })
    const third = await openSse(`${base}/api/events`, { token })
    expect([third.status, third.error?.error]).toEqual([429, 'too-many-streams'])
    a.abort()
    await expect.poll(async () => (await openSse(`${base}/api/events`, { token })).status).toBe(200)
  })

  it('browsers: a ticket from POST /api/events/tickets opens one stream, once; the token never goes in the URL', async () => {
    const { base, say, server } = await feedServer()
    const token = await tokenFor('ann', ALL)
    const issued = await call(base, 'POST', '/api/events/tickets', { token })
    expect(issued.status).toBe(201)
    const ticket = issued.json.ticket as string
    expect(ticket).not.toContain(token.slice(0, 20))
    const stream = await openSse(`${base}/api/events?ticket=${ticket}`)
    expect(stream.status).toBe(200)
    await say(await plainWriter(server, 'room', token), ['via-ticket'])
    await stream.until((events) => messageIds(envelopes(events)).includes('via-ticket'))
    const again = await openSse(`${base}/api/events?ticket=${ticket}`)
    expect([again.status, again.error?.error]).toEqual([401, 'unauthorized'])
    expect((await call(base, 'POST', '/api/events/tickets')).status).toBe(401)
  })
})

describe('events over SSE: a reader that does not read', () => {
  it('is cut off with slow-consumer instead of being buffered without bound', async () => {
    const { base, server } = await feedServer({ streamKeepAliveMs: 300, streamMaxBufferedBytes: 64 * 1024 })
    const token = await tokenFor('ann', ALL)
    const { port } = new URL(base)
    const socket = connect(Number(port), '127.0.0.1')
    onTestFinished(() => void socket.destroy())
    await new Promise<void>((resolve) => socket.once('connect', resolve))
    socket.write(`GET /api/events?types=chat.* HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nAccept: text/event-stream\r\n\r\n`)
    // Never read: the kernel's buffers fill, then the server's.
    socket.pause()
    await vi.waitFor(() => expect(server.events!.streams.size).toBe(1))
    const ann = await plainWriter(server, 'room', token)
    const text = 'x'.repeat(9000)
    for (let round = 0; round < 10; round++) {
      ann.doc.transact(() => {
        for (let i = 0; i < 150; i++) ann.doc.getArray('chat').push([newMessage({ id: `r${round}-${i}`, author: 'ann', text })])
      })
      await settled(ann.provider)
    }
    await vi.waitFor(async () => {
      const ended = (await server.metrics.streamsEnded.get()).values
      expect(ended.find((v) => v.labels.reason === 'slow-consumer')?.value).toBe(1)
    }, { timeout: 15_000 })
    await vi.waitFor(() => expect(server.events!.streams.size).toBe(0))
  })
})
