/**
 * The socket's door rules on the HTTP fallback: authentication and roles,
 * the rate limit counted in frames, the per-address cap shared with sockets,
 * frame size, idle expiry, a reader that falls behind, and token expiry.
 */
import * as decoding from 'lib0/decoding'
import { describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { CloseCode, MessageType } from '../../client/protocol.ts'
import { provider, settled } from '../helpers/clients.ts'
import { baseOf, call, closeOf, openSession, openStream, post, waitForEvent, type OpenStream } from '../helpers/fallback.ts'
import { authFrame, authReply, readFrame, updateFrame } from '../helpers/raw.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

const DOC = 'team/notes'

function edit(text: string): Uint8Array {
  const doc = new Y.Doc()
  doc.getText('text').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

function replies(stream: OpenStream): Array<{ denied: string } | { scope: string }> {
  return stream.frames().flatMap((f) => {
    const reply = authReply(f)
    return reply ? [reply] : []
  })
}

function acks(stream: OpenStream, name: string): boolean[] {
  return stream.frames().flatMap((f) => {
    const { address, type, decoder } = readFrame(f)
    return address === name && type === MessageType.SyncStatus ? [decoding.readVarUint(decoder) === 1] : []
  })
}

describe('HTTP fallback: the same door rules as a socket', () => {
  it('opening needs a valid token in token mode; per-document auth and roles answer as on a socket', async () => {
    const server = await startServer(TOKEN_MODE)
    const base = baseOf(server.url)
    const none = await call(base, { method: 'POST', headers: { 'content-type': 'application/x-collab-frames' } })
    expect([none.status, none.json().error]).toEqual([401, 'unauthorized'])
    const reader = { token: await tokenFor('rita', { [DOC]: 'read' }) }
    const session = await openSession(base, reader)
    const stream = await openStream(base, session, reader)
    await post(base, session, 0, [authFrame(DOC, reader.token), authFrame('secret/plans', reader.token)], reader)
    await vi.waitFor(() => expect(replies(stream)).toHaveLength(2))
    expect(replies(stream)).toEqual(expect.arrayContaining([{ scope: 'readonly' }, { denied: `${CloseCode.Forbidden.code} ${CloseCode.Forbidden.reason}` }]))
    await post(base, session, 2, [updateFrame(DOC, edit('not mine to write'))], reader)
    await vi.waitFor(() => expect(acks(stream, DOC)).toEqual([false]))
    expect(server.hocuspocus.documents.get(DOC)?.getText('text').toString() ?? '').toBe('')
  })

  it('the rate limit counts frames, not POSTs: one POST of too many frames closes the session with 4429', async () => {
    const server = await startServer({ rateLimitPerSecond: 5, rateLimitBurst: 5 })
    const base = baseOf(server.url)
    const session = await openSession(base)
    const stream = await openStream(base, session)
    const frames = [authFrame(DOC), ...Array.from({ length: 20 }, (_, i) => updateFrame(DOC, edit(`n${i}`)))]
    expect((await post(base, session, 0, frames)).status).toBe(200)
    expect(await closeOf(stream)).toEqual({ code: CloseCode.RateLimited.code, reason: CloseCode.RateLimited.reason })
  })

  it('POSTs that bring no new frame (acks, replays) still count against the rate limit', async () => {
    const server = await startServer({ rateLimitPerSecond: 5, rateLimitBurst: 5 })
    const base = baseOf(server.url)
    const session = await openSession(base)
    const stream = await openStream(base, session)
    await post(base, session, 0, [authFrame(DOC)])
    for (let i = 0; i < 10; i++) await post(base, session, 1, [])
    expect((await closeOf(stream)).code).toBe(CloseCode.RateLimited.code)
  })

  it('a frame over MAX_MESSAGE_BYTES closes the session with 1009', async () => {
    const server = await startServer({ maxMessageBytes: 2048 })
    const base = baseOf(server.url)
    const session = await openSession(base)
    const stream = await openStream(base, session)
    const big = await post(base, session, 0, [authFrame(DOC), updateFrame(DOC, edit('x'.repeat(4096)))])
    expect([big.status, big.json().error]).toEqual([413, 'payload-too-large'])
    expect((await closeOf(stream)).code).toBe(CloseCode.MessageTooBig.code)
  })

  it('sessions count against MAX_CONNECTIONS_PER_IP together with sockets', async () => {
    const server = await startServer({ maxConnectionsPerIp: 2 })
    const base = baseOf(server.url)
    await openSession(base)
    const ws = new WebSocket(server.url)
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    const third = await call(base, { method: 'POST', headers: { 'content-type': 'application/x-collab-frames' } })
    expect([third.status, third.json().error]).toEqual([429, 'too-many-connections'])
    ws.close()
    await vi.waitFor(async () => expect(await openSession(base)).toBeTruthy())
  })

  it('a session with no request and no stream for IDLE_TIMEOUT_MS closes with 4408', async () => {
    const server = await startServer({ idleTimeoutMs: 1000 })
    const base = baseOf(server.url)
    const session = await openSession(base)
    await post(base, session, 0, [authFrame(DOC)])
    await vi.waitFor(() => expect(server.hocuspocus.getConnectionsCount()).toBe(0), { timeout: 5000 })
    const stream = await openStream(base, session)
    expect((await closeOf(stream)).code).toBe(CloseCode.Timeout.code)
  })

  it('a reader that leaves more than FALLBACK_BACKLOG_BYTES unread is cut off with 4417, not buffered without bound', async () => {
    const server = await startServer({ fallbackBacklogBytes: 65_536 })
    const base = baseOf(server.url)
    const session = await openSession(base)
    await post(base, session, 0, [authFrame(DOC)])
    await vi.waitFor(() => expect(server.hocuspocus.getConnectionsCount()).toBe(1))
    // No stream is read: a peer's edits pile up for this session.
    const peer = provider(server.url, DOC)
    await settled(peer)
    for (let i = 0; i < 12; i++) {
      peer.document.getText('text').insert(0, 'y'.repeat(8 * 1024))
      await settled(peer)
    }
    const stream = await openStream(base, session)
    expect(await closeOf(stream)).toEqual({ code: CloseCode.BacklogFull.code, reason: CloseCode.BacklogFull.reason })
  })

  it("the stream ends with token-expired when the token that opened it expires; the session goes on with a fresh one", async () => {
    const server = await startServer(TOKEN_MODE)
    const base = baseOf(server.url)
    const long = { token: await tokenFor('ada', { [DOC]: 'write' }) }
    const session = await openSession(base, long)
    await post(base, session, 0, [authFrame(DOC, long.token)], long)
    const short = { token: await tokenFor('ada', { [DOC]: 'write' }, { ttl: 2 }) }
    const stream = await openStream(base, session, short)
    const end = await waitForEvent(stream, (e) => e.event === 'end', 8000)
    expect(JSON.parse(end.data)).toEqual({ reason: 'token-expired' })
    const last = Math.max(...stream.events.flatMap((e) => (e.id === undefined ? [] : [e.id])))
    const again = await openStream(base, session, long, last)
    await post(base, session, 1, [updateFrame(DOC, edit('still here'))], long)
    await vi.waitFor(() => expect(acks(again, DOC)).toEqual([true]))
  })
})
