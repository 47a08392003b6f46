/**
 * The HTTP fallback's session at the protocol level (docs/protocol.md#http-fallback):
 * ordering, resume, replayed POSTs, and who may use a session.
 */
import * as decoding from 'lib0/decoding'
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { Fallback, MessageType, SyncStep } from '../../client/protocol.ts'
import { provider, settled } from '../helpers/clients.ts'
import { baseOf, call, closeOf, openSession, openStream, post, waitForEvent, type OpenStream } from '../helpers/fallback.ts'
import { authFrame, readFrame, updateFrame } from '../helpers/raw.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

const DOC = 'team/notes'

/** A one-insert Yjs update from a fresh client. */
function edit(text: string): Uint8Array {
  const doc = new Y.Doc()
  doc.getText('text').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

/** SyncStatus answers for `name` on a stream, in order (true: applied). */
function acksOn(stream: OpenStream, name: string): boolean[] {
  return stream.frames().flatMap((f) => {
    const { address, type, decoder } = readFrame(f)
    return address === name && type === MessageType.SyncStatus ? [decoding.readVarUint(decoder) === 1] : []
  })
}

/** Updates for `name` that arrived on a stream (Sync Update or SyncStep2 payloads). */
function updatesOn(stream: OpenStream, name: string): Uint8Array[] {
  return stream.frames().flatMap((f) => {
    const { address, type, decoder } = readFrame(f)
    if (address !== name || type !== MessageType.Sync) return []
    const step = decoding.readVarUint(decoder)
    return step === SyncStep.Update || step === SyncStep.Step2 ? [decoding.readVarUint8Array(decoder)] : []
  })
}

describe('HTTP fallback session', () => {
  it('carries frames both ways: authentication, an update, its durable ack, with consecutive event ids', async () => {
    const server = await startServer()
    const base = baseOf(server.url)
    const session = await openSession(base)
    expect(Buffer.from(session, 'base64url').byteLength).toBeGreaterThanOrEqual(16)
    const stream = await openStream(base, session)
    expect(stream.status).toBe(200)
    expect(stream.headers['x-accel-buffering']).toBe('no')
    expect((await post(base, session, 0, [authFrame(DOC), updateFrame(DOC, edit('hello'))])).json()).toEqual({ next: 2 })
    await vi.waitFor(() => expect(acksOn(stream, DOC)).toEqual([true]))
    expect(server.hocuspocus.documents.get(DOC)!.getText('text').toString()).toBe('hello')
    const ids = stream.events.filter((e) => e.id !== undefined).map((e) => e.id)
    expect(ids).toEqual(ids.map((_, i) => i + 1))
  })

  it('a dropped stream resumes after Last-Event-ID without losing or repeating a frame', async () => {
    const server = await startServer()
    const base = baseOf(server.url)
    const session = await openSession(base)
    const first = await openStream(base, session)
    await post(base, session, 0, [authFrame(DOC), updateFrame(DOC, new Uint8Array([0, 0]), SyncStep.Step1)])
    await waitForEvent(first, (e) => e.id !== undefined)
    // The reader has read only the first event when its stream drops.
    const readUpTo = first.events.find((e) => e.id !== undefined)!.id!
    first.close()
    // Meanwhile a WebSocket peer edits: its updates wait in the session for the reader.
    const peer = provider(server.url, DOC)
    await settled(peer)
    peer.document.getText('text').insert(0, 'while away')
    await settled(peer)
    const second = await openStream(base, session, {}, readUpTo)
    await vi.waitFor(() => {
      const doc = new Y.Doc()
      for (const u of updatesOn(second, DOC)) Y.applyUpdate(doc, u)
      expect(doc.getText('text').toString()).toBe('while away')
    })
    const ids = second.events.filter((e) => e.id !== undefined).map((e) => e.id!)
    expect(ids[0]).toBe(readUpTo + 1)
    expect(ids).toEqual(ids.map((_, i) => readUpTo + 1 + i))
  })

  it('a replayed POST is applied and acknowledged once; a POST past the next frame is refused with the next one', async () => {
    const server = await startServer()
    const base = baseOf(server.url)
    const session = await openSession(base)
    const stream = await openStream(base, session)
    await post(base, session, 0, [authFrame(DOC)])
    const x = [updateFrame(DOC, edit('x'))]
    expect((await post(base, session, 1, x)).json()).toEqual({ next: 2 })
    // The answer was lost, say: the client sends the same frames again.
    expect((await post(base, session, 1, x)).json()).toEqual({ next: 2 })
    const gap = await post(base, session, 5, [updateFrame(DOC, edit('z'))])
    expect(gap.status).toBe(409)
    expect(gap.json()).toMatchObject({ error: 'sequence-gap', next: 2 })
    await post(base, session, 2, [updateFrame(DOC, edit('y')), updateFrame(DOC, new Uint8Array([0]), SyncStep.Step1)])
    // The answer to that last SyncStep1 comes after every answer to the frames before it (one document's frames are handled in order).
    await vi.waitFor(() => expect(updatesOn(stream, DOC).length).toBeGreaterThanOrEqual(1))
    expect(acksOn(stream, DOC)).toEqual([true, true])
    expect(server.hocuspocus.documents.get(DOC)!.getText('text').toString()).toMatch(/^(xy|yx)$/)
  })

  it("a stolen session id is refused from another user or another origin, and nothing of theirs is applied", async () => {
    const server = await startServer({ ...TOKEN_MODE, allowedOrigins: ['http://app.test', 'http://other.test'] })
    const base = baseOf(server.url)
    const ada = { token: await tokenFor('ada', { [DOC]: 'write' }), origin: 'http://app.test' }
    const session = await openSession(base, ada)
    const stream = await openStream(base, session, ada)
    await post(base, session, 0, [authFrame(DOC, ada.token)], ada)
    await waitForEvent(stream, (e) => e.id !== undefined)

    const bob = { token: await tokenFor('bob', { [DOC]: 'write' }), origin: 'http://app.test' }
    const asBob = await post(base, session, 1, [updateFrame(DOC, edit('bob'))], bob)
    expect([asBob.status, asBob.json().error]).toEqual([403, 'session-mismatch'])
    expect((await openStream(base, session, bob)).status).toBe(403)
    const elsewhere = await post(base, session, 1, [updateFrame(DOC, edit('other origin'))], { ...ada, origin: 'http://other.test' })
    expect([elsewhere.status, elsewhere.json().error]).toEqual([403, 'session-mismatch'])
    const noOrigin = await post(base, session, 1, [updateFrame(DOC, edit('no origin'))], { token: ada.token })
    expect([noOrigin.status, noOrigin.json().error]).toEqual([403, 'session-mismatch'])
    // A browser sends no Origin on a same-origin GET: the owner's stream without one is theirs.
    const poll = await call(`${base}/stream?poll=1`, { headers: { authorization: `Bearer ${ada.token}`, [Fallback.sessionHeader]: session } })
    expect(poll.status).toBe(200)
    const noToken = await post(base, session, 1, [updateFrame(DOC, edit('anon'))], { origin: ada.origin })
    expect([noToken.status, noToken.json().error]).toEqual([401, 'unauthorized'])
    const unknown = await post(base, 'x'.repeat(43), 1, [updateFrame(DOC, edit('guess'))], ada)
    expect([unknown.status, unknown.json().error]).toEqual([410, 'session-gone'])

    // The owner's next frame is number 1: none of the refused ones counted.
    expect((await post(base, session, 1, [updateFrame(DOC, edit('ada'))], ada)).json()).toEqual({ next: 2 })
    await vi.waitFor(() => expect(acksOn(stream, DOC)).toEqual([true]))
    expect(server.hocuspocus.documents.get(DOC)!.getText('text').toString()).toBe('ada')
  })

  it('POSTs need the fallback content type and an allowed origin (CSRF); a preflight names the session headers', async () => {
    const server = await startServer({ allowedOrigins: ['http://app.test'] })
    const base = baseOf(server.url)
    const plain = await call(base, { method: 'POST', headers: { 'content-type': 'text/plain' } })
    expect([plain.status, plain.json().error]).toEqual([415, 'unsupported-media-type'])
    const foreign = await call(base, { method: 'POST', headers: { 'content-type': Fallback.contentType, origin: 'http://evil.test' } })
    expect([foreign.status, foreign.json().error]).toEqual([403, 'origin-not-allowed'])
    const session = await openSession(base, { origin: 'http://app.test' })
    const foreignSend = await post(base, session, 0, [authFrame(DOC)], { origin: 'http://evil.test' })
    expect(foreignSend.status).toBe(403)
    const preflight = await call(`${base}/send`, { method: 'OPTIONS', headers: { origin: 'http://app.test', 'access-control-request-method': 'POST' } })
    expect(preflight.status).toBe(204)
    expect(preflight.headers['access-control-allow-origin']).toBe('http://app.test')
    expect(preflight.headers['access-control-allow-headers']).toContain(Fallback.sessionHeader)
    // The server's own page (same origin) may open one without being listed.
    const host = new URL(base).host
    expect((await call(base, { method: 'POST', headers: { 'content-type': Fallback.contentType, origin: `http://${host}`, host } })).status).toBe(201)
  })

  it('is off with HTTP_FALLBACK=off', async () => {
    const server = await startServer({ httpFallback: false })
    expect((await call(baseOf(server.url), { method: 'POST', headers: { 'content-type': Fallback.contentType } })).status).toBe(404)
  })

  it('a closed session tells a late reader how it ended, then is gone', async () => {
    const server = await startServer()
    const base = baseOf(server.url)
    const session = await openSession(base)
    await post(base, session, 0, [authFrame(DOC)])
    expect((await call(base, { method: 'DELETE', headers: { [Fallback.sessionHeader]: session } })).status).toBe(204)
    const stream = await openStream(base, session)
    expect(await closeOf(stream)).toEqual({ code: 1000, reason: 'closed by the client' })
    const after = await post(base, session, 1, [updateFrame(DOC, edit('late'))])
    expect([after.status, after.json().error]).toEqual([410, 'session-gone'])
  })

  it('a server shutting down closes its sessions with 1001, as its sockets', async () => {
    const server = await startServer()
    const base = baseOf(server.url)
    const session = await openSession(base)
    const stream = await openStream(base, session)
    await post(base, session, 0, [authFrame(DOC)])
    await waitForEvent(stream, (e) => e.id !== undefined)
    await server.close()
    expect(await closeOf(stream)).toEqual({ code: 1001, reason: 'server-shutting-down' })
  })
})
