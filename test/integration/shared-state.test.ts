import * as decoding from 'lib0/decoding'
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { MessageType, SyncStep } from '../../client/protocol.ts'
import { Services } from '../helpers/cluster.ts'
import { provider, settled } from '../helpers/clients.ts'
import { authFrame, authReply, barrier, barrierAt, rawClient, readFrame, updateFrame } from '../helpers/raw.ts'
import { call, docPath, httpBase, metric } from '../helpers/rest.ts'
import { startServer, tempDir } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'
import { HOLD_BUILD_BYTES } from '../../server/ws/cold-sync.ts'
import { PARALLEL_WRITES } from '../../server/ws/turns.ts'

const DOC = 'team/shared'
const EMPTY = Y.encodeStateVector(new Y.Doc())
const services = new Services()

/** Sync frames (Step2 / Update) among `received`, in order. */
function syncFrames(received: Uint8Array[]): Array<{ step: number; update: Uint8Array }> {
  const out: Array<{ step: number; update: Uint8Array }> = []
  for (const data of received) {
    const { type, decoder, address } = readFrame(data)
    if (type !== MessageType.Sync || address !== DOC) continue
    const step = decoding.readVarUint(decoder)
    if (step !== SyncStep.Step1) out.push({ step, update: decoding.readVarUint8Array(decoder) })
  }
  return out
}

/** A fresh socket asks for DOC holding nothing; the sync frames that answered it. */
async function ask(url: string, token = 'open'): Promise<Array<{ step: number; update: Uint8Array }>> {
  const raw = await rawClient(url)
  raw.send(authFrame(DOC, token))
  raw.send(updateFrame(DOC, EMPTY, SyncStep.Step1))
  const at = await barrierAt(raw, DOC)
  expect(at).toBeGreaterThanOrEqual(0)
  return syncFrames(raw.received.slice(0, at))
}

const textOf = (update: Uint8Array, field = 'text') => {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, update)
  return doc.getText(field).toString()
}

/** What a client that holds nothing is answered (one shared SyncStep2 for a loaded document): a stale answer would miss the last change. */
async function sharedText(url: string, token?: string): Promise<string> {
  const frames = await ask(url, token)
  expect(frames[frames.length - 1]!.step).toBe(SyncStep.Step2)
  const doc = new Y.Doc()
  for (const f of frames) Y.applyUpdate(doc, f.update)
  return doc.getText('text').toString()
}

describe('shared state: one encoding of a loaded document for every client that holds nothing', () => {
  it('two clients get the same bytes, and the bytes are counted', async () => {
    const server = await startServer()
    const writer = provider(server.url, DOC)
    await settled(writer)
    writer.document.getText('text').insert(0, 'hello, crowd')
    await settled(writer)
    const a = await ask(server.url)
    const b = await ask(server.url)
    // The whole state as an update, then an empty SyncStep2 (nothing changed since).
    expect(a.map((f) => f.step)).toEqual([SyncStep.Update, SyncStep.Step2])
    expect(Buffer.from(b[0]!.update).equals(Buffer.from(a[0]!.update))).toBe(true)
    expect(textOf(a[0]!.update)).toBe('hello, crowd')
    expect(a[1]!.update.byteLength).toBeLessThan(16)
    expect(await metric(httpBase(server.url), 'collab_shared_state_bytes_total')).toBeGreaterThanOrEqual(2 * a[0]!.update.byteLength)
  })

  it('a SyncStep1 sent only after its Auth was answered is answered from the shared state too (Hocuspocus would encode the document for each)', async () => {
    const server = await startServer()
    const stored = new Y.Doc()
    stored.getText('text').insert(0, 'stored, then asked late')
    await server.storage.append(DOC, Y.encodeStateAsUpdate(stored))
    await server.storage.compact(DOC)
    const late = async () => {
      const raw = await rawClient(server.url)
      raw.send(authFrame(DOC))
      await raw.next((d) => readFrame(d).address === DOC && authReply(d) !== null)
      raw.send(updateFrame(DOC, EMPTY, SyncStep.Step1))
      const at = await barrierAt(raw, DOC)
      expect(at).toBeGreaterThanOrEqual(0)
      return syncFrames(raw.received.slice(0, at))
    }
    const base = httpBase(server.url)
    // The first: the document loads for this socket, whose Auth is answered before its SyncStep1 arrives.
    const cold = await late()
    expect(cold.map((f) => f.step)).toEqual([SyncStep.Update, SyncStep.Step2])
    expect(textOf(cold[0]!.update)).toBe('stored, then asked late')
    const before = await metric(base, 'collab_shared_state_bytes_total')
    expect(before).toBeGreaterThanOrEqual(cold[0]!.update.byteLength)
    // The next: its socket is connected to the loaded document before its SyncStep1 arrives.
    const warm = await late()
    expect(warm.map((f) => f.step)).toEqual([SyncStep.Update, SyncStep.Step2])
    expect(Buffer.from(warm[0]!.update).equals(Buffer.from(cold[0]!.update))).toBe(true)
    expect(await metric(base, 'collab_shared_state_bytes_total')).toBeGreaterThanOrEqual(before + warm[0]!.update.byteLength)
  })

  it('a crowd on a large loaded document: the answers take turns, and every client gets the whole state and the edits made meanwhile', async () => {
    const server = await startServer()
    const writer = provider(server.url, DOC)
    await settled(writer)
    const text = writer.document.getText('text')
    for (let i = 0; i < 40; i++) text.insert(text.length, `${i} ${'a large document, '.repeat(2000)}\n`)
    await settled(writer)
    expect(Y.encodeStateAsUpdate(writer.document).byteLength).toBeGreaterThan(HOLD_BUILD_BYTES)
    const crowd = await Promise.all(Array.from({ length: PARALLEL_WRITES * 2 + 1 }, () => rawClient(server.url)))
    for (const raw of crowd) {
      raw.send(authFrame(DOC))
      raw.send(updateFrame(DOC, EMPTY, SyncStep.Step1))
    }
    text.insert(0, 'typed while the crowd joins\n')
    await settled(writer)
    const expected = text.toString()
    for (const raw of crowd) {
      const replica = new Y.Doc()
      await vi.waitFor(() => {
        for (const f of syncFrames(raw.received.splice(0))) Y.applyUpdate(replica, f.update)
        expect(replica.getText('text').toString()).toBe(expected)
      }, { timeout: 20_000, interval: 50 })
    }
  })

  it('while the document is edited, the whole state is encoded once: later clients get it plus only what changed since', async () => {
    const server = await startServer()
    const writer = provider(server.url, DOC)
    await settled(writer)
    writer.document.getText('text').insert(0, 'a long first paragraph that the crowd shares. '.repeat(20))
    await settled(writer)
    const first = await ask(server.url)
    writer.document.getText('text').insert(0, 'typed meanwhile; ')
    writer.document.getText('text').delete(20, 5)
    await settled(writer)
    const later = await ask(server.url)
    expect(later.map((f) => f.step)).toEqual([SyncStep.Update, SyncStep.Step2])
    expect(Buffer.from(later[0]!.update).equals(Buffer.from(first[0]!.update))).toBe(true)
    expect(later[1]!.update.byteLength).toBeLessThan(first[0]!.update.byteLength / 4)
    const replica = new Y.Doc()
    for (const f of later) Y.applyUpdate(replica, f.update)
    expect(replica.getText('text').toString()).toBe(writer.document.getText('text').toString())
  })

  it('clients holding the same state vector (back after a restart) get the same answer, delete set included', async () => {
    const server = await startServer()
    const writer = provider(server.url, DOC)
    await settled(writer)
    writer.document.getText('text').insert(0, 'kept and dropped')
    const inserted = Y.encodeStateAsUpdate(writer.document)
    writer.document.getText('text').delete(4, 12)
    await settled(writer)
    const held = Y.encodeStateVector(writer.document)
    const answers = await Promise.all([0, 1].map(async () => {
      const raw = await rawClient(server.url)
      raw.send(authFrame(DOC))
      raw.send(updateFrame(DOC, held, SyncStep.Step1))
      const at = await barrierAt(raw, DOC)
      return syncFrames(raw.received.slice(0, at))
    }))
    expect(answers[0]!.map((f) => f.step)).toEqual([SyncStep.Step2])
    expect(Buffer.from(answers[1]![0]!.update).equals(Buffer.from(answers[0]![0]!.update))).toBe(true)
    // A client that saw the insert but not the delete ends up with the server's text.
    const behind = new Y.Doc()
    Y.applyUpdate(behind, inserted)
    Y.applyUpdate(behind, answers[0]![0]!.update)
    expect(behind.getText('text').toString()).toBe('kept')
  })

  it('a client with edits of its own is asked for them (the server SyncStep1) and they arrive', async () => {
    const server = await startServer()
    const writer = provider(server.url, DOC)
    await settled(writer)
    writer.document.getText('text').insert(0, 'server side;')
    await settled(writer)
    const offline = new Y.Doc()
    offline.getText('text').insert(0, 'offline;')
    const late = provider(server.url, DOC, { doc: offline })
    await settled(late)
    await vi.waitFor(() => expect(writer.document.getText('text').toString()).toContain('offline;'))
    expect(late.document.getText('text').toString()).toContain('server side;')
  })

  it('is never stale after a local change', async () => {
    const server = await startServer()
    const writer = provider(server.url, DOC)
    await settled(writer)
    writer.document.getText('text').insert(0, 'one')
    await settled(writer)
    expect(await sharedText(server.url)).toBe('one')
    writer.document.getText('text').insert(3, ' two')
    await settled(writer)
    expect(await sharedText(server.url)).toBe('one two')
  })

  it('is never stale after a change from another instance (Redis)', async () => {
    const shared = { dbPath: `${tempDir()}/shared.db`, redisUrl: (await services.redis()).url, redisPrefix: `shared-${process.pid}` }
    const one = await startServer(shared)
    const two = await startServer(shared)
    const here = provider(one.url, DOC)
    const there = provider(two.url, DOC)
    await Promise.all([settled(here), settled(there)])
    there.document.getText('text').insert(0, 'before')
    await vi.waitFor(() => expect(here.document.getText('text').toString()).toBe('before'))
    expect(await sharedText(one.url)).toBe('before')
    there.document.getText('text').insert(6, ' and after')
    await vi.waitFor(() => expect(one.hocuspocus.documents.get(DOC)?.getText('text').toString()).toBe('before and after'))
    expect(await sharedText(one.url)).toBe('before and after')
  })

  it('is never stale after a restore', async () => {
    const server = await startServer(TOKEN_MODE)
    const base = httpBase(server.url)
    const admin = await tokenFor('root', { 'team/*': 'admin' })
    const writer = provider(server.url, DOC, { token: admin })
    await settled(writer)
    writer.document.getText('text').insert(0, 'good')
    await settled(writer)
    const good = (await call(base, 'POST', docPath(DOC, '/versions'), { token: admin, body: { label: 'good' } })).json as { id: number }
    writer.document.getText('text').delete(0, 4)
    writer.document.getText('text').insert(0, 'BAD')
    await settled(writer)
    expect(await sharedText(server.url, admin)).toBe('BAD')
    expect((await call(base, 'POST', docPath(DOC, `/versions/${good.id}/restore`), { token: admin })).status).toBe(200)
    expect(await sharedText(server.url, admin)).toBe('good')
  })

  it('a document deleted and created again under the same name: nothing of the old one', async () => {
    const server = await startServer(TOKEN_MODE)
    const admin = await tokenFor('root', { 'team/*': 'admin' })
    const old = provider(server.url, DOC, { token: admin })
    await settled(old)
    old.document.getText('text').insert(0, 'old secret')
    await settled(old)
    expect(await sharedText(server.url, admin)).toBe('old secret')
    expect((await call(httpBase(server.url), 'DELETE', docPath(DOC), { token: admin })).status).toBe(204)
    // Created again: another client writes to the same name (from a fresh Y.Doc).
    const fresh = provider(server.url, DOC, { token: admin })
    await settled(fresh)
    fresh.document.getText('text').insert(0, 'new')
    await settled(fresh)
    const frames = await ask(server.url, admin)
    expect(frames.map((f) => textOf(f.update)).join('|')).not.toContain('old secret')
    expect(await sharedText(server.url, admin)).toBe('new')
  })

  it('never reaches a socket that may not read the document', async () => {
    const server = await startServer(TOKEN_MODE)
    const ada = await tokenFor('ada', { [DOC]: 'read' })
    const owner = provider(server.url, DOC, { token: await tokenFor('root', { 'team/*': 'admin' }) })
    await settled(owner)
    owner.document.getText('text').insert(0, 'only for readers')
    await settled(owner)
    expect(await sharedText(server.url, ada)).toBe('only for readers')
    const eve = await rawClient(server.url)
    const eveToken = await tokenFor('eve', { 'public/*': 'admin' })
    eve.send(authFrame(DOC, eveToken))
    eve.send(updateFrame(DOC, EMPTY, SyncStep.Step1))
    await eve.next((d) => readFrame(d).address === DOC && authReply(d) !== null)
    // Eve's barrier on a document she may open: a stray frame for DOC would be here before it.
    eve.send(authFrame('public/eve', eveToken))
    await eve.next((d) => readFrame(d).address === 'public/eve' && authReply(d) !== null)
    expect(await barrier(eve, 'public/eve')).toBe('open')
    expect(syncFrames(eve.received)).toEqual([])
    expect(eve.received.some((d) => Buffer.from(d).includes(Buffer.from('only for readers')))).toBe(false)
  })

  it('clients arriving while a stored document loads get the stored bytes too, not only the first', async () => {
    const server = await startServer()
    const source = new Y.Doc()
    for (let i = 0; i < 200; i++) source.getText('text').insert(0, `line ${i}\n`)
    await server.storage.append(DOC, Y.encodeStateAsUpdate(source))
    await server.storage.compact(DOC)
    const all = await Promise.all([ask(server.url), ask(server.url), ask(server.url)])
    for (const frames of all) {
      expect(frames.map((f) => f.step)).toEqual([SyncStep.Update, SyncStep.Step2])
      expect(textOf(frames[0]!.update)).toBe(source.getText('text').toString())
      expect(frames[frames.length - 1]!.update.byteLength).toBeLessThan(16)
    }
  })
})
