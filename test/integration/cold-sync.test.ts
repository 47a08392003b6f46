import * as decoding from 'lib0/decoding'
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { MessageType, SyncStep } from '../../client/protocol.ts'
import { provider, providerBarrier, settled } from '../helpers/clients.ts'
import { authFrame, authReply, barrier, barrierAt, rawClient, readFrame, syncStep, updateFrame, type RawClient } from '../helpers/raw.ts'
import { httpBase, metric } from '../helpers/rest.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

const DOC = 'cold/stored'

/** A document with some history: a snapshot (after compaction) and a log after it. */
async function storedServer(compacted = true, options: Parameters<typeof startServer>[1] = {}) {
  const server = await startServer({}, options)
  const source = new Y.Doc()
  const text = source.getText('text')
  for (let i = 0; i < 200; i++) text.insert(text.length, `line ${i} of a stored document\n`)
  await server.storage.append(DOC, Y.encodeStateAsUpdate(source))
  await server.storage.compact(DOC)
  for (let i = 0; i < 3; i++) {
    const before = Y.encodeStateVector(source)
    text.insert(0, `log entry ${i}\n`)
    await server.storage.append(DOC, Y.encodeStateAsUpdate(source, before))
  }
  // As a document is stored after it unloads: one compacted snapshot, no log.
  if (compacted) await server.storage.compact(DOC)
  return { server, source }
}

/** Sync frames (Step2 / Update) a raw client received, in order: their step and their Yjs update. */
function syncFrames(received: Uint8Array[]): Array<{ step: number; update: Uint8Array }> {
  const out: Array<{ step: number; update: Uint8Array }> = []
  for (const data of received) {
    const { type, decoder } = readFrame(data)
    if (type !== MessageType.Sync) continue
    const step = decoding.readVarUint(decoder)
    if (step === SyncStep.Step1) continue
    out.push({ step, update: decoding.readVarUint8Array(decoder) })
  }
  return out
}

/** The frames `raw` received before a barrier on DOC (everything the server sent for the messages before it). */
async function beforeBarrier(raw: RawClient): Promise<Uint8Array[]> {
  const at = await barrierAt(raw, DOC)
  expect(at).toBeGreaterThanOrEqual(0)
  return raw.received.slice(0, at)
}

/** Authenticate DOC on a raw socket (open mode) and send a SyncStep1 with `stateVector`; the sync frames it brought. */
async function ask(url: string, stateVector = Y.encodeStateVector(new Y.Doc())): Promise<Array<{ step: number; update: Uint8Array }>> {
  const raw = await rawClient(url)
  raw.send(authFrame(DOC))
  raw.send(updateFrame(DOC, stateVector, SyncStep.Step1))
  return syncFrames(await beforeBarrier(raw))
}

describe('cold sync: a client with nothing gets the stored document while it loads', () => {
  it('the stored state comes first, and the answer to its SyncStep1 carries only what it lacks', async () => {
    const { server, source } = await storedServer()
    const raw = await rawClient(server.url)
    raw.send(authFrame(DOC))
    raw.send(updateFrame(DOC, Y.encodeStateVector(new Y.Doc()), SyncStep.Step1))
    const frames = syncFrames(await beforeBarrier(raw))
    // The stored snapshot as a plain update, then the empty SyncStep2 answering the client's SyncStep1.
    expect(frames).toHaveLength(2)
    expect(frames[0]!.step).toBe(SyncStep.Update)
    const replica = new Y.Doc()
    for (const f of frames) Y.applyUpdate(replica, f.update)
    expect(replica.getText('text').toString()).toBe(source.getText('text').toString())
    const metrics = await (await fetch(`${httpBase(server.url)}/metrics`)).text()
    expect(metrics).toMatch(/^collab_cold_syncs_total 1$/m)
    const answer = frames[frames.length - 1]!
    expect(answer.step).toBe(SyncStep.Step2)
    expect(answer.update.byteLength).toBeLessThan(16)
    const total = frames.reduce((n, f) => n + f.update.byteLength, 0)
    expect(total).toBeLessThan(Y.encodeStateAsUpdate(source).byteLength * 1.5)
  })

  it('is synced from storage before the load completes: the snapshot and the SyncStep2 come while a later load hook still runs', async () => {
    let open!: () => void
    const gate = new Promise<void>((resolve) => (open = resolve))
    // Runs after persistence (priority 1 < 10): the document is not loaded, and no socket connected to it, until the gate opens.
    const slowLoad = { extensionName: 'slow-load', priority: 1, onLoadDocument: () => gate }
    const { server, source } = await storedServer(true, { extensions: [slowLoad] })
    const raw = await rawClient(server.url)
    raw.send(authFrame(DOC))
    raw.send(updateFrame(DOC, Y.encodeStateVector(new Y.Doc()), SyncStep.Step1))
    await raw.next((d) => readFrame(d).address === DOC && syncFrames([d])[0]?.step === SyncStep.Step2)
    const early = syncFrames(raw.received)
    expect(early.map((f) => f.step)).toEqual([SyncStep.Update, SyncStep.Step2])
    const replica = new Y.Doc()
    for (const f of early) Y.applyUpdate(replica, f.update)
    expect(replica.getText('text').toString()).toBe(source.getText('text').toString())
    expect(server.hocuspocus.documents.get(DOC)?.getConnectionsCount() ?? 0).toBe(0)
    open()
    // Once connected: the server's SyncStep1 with the stored state vector, and no second SyncStep2 for the one SyncStep1.
    const step1 = await raw.next((d) => readFrame(d).address === DOC && syncStep(d) === SyncStep.Step1)
    const { decoder } = readFrame(step1)
    decoding.readVarUint(decoder)
    expect(Buffer.from(decoding.readVarUint8Array(decoder)).equals(Buffer.from(Y.encodeStateVector(source)))).toBe(true)
    const all = syncFrames(await beforeBarrier(raw))
    expect(all.map((f) => f.step)).toEqual([SyncStep.Update, SyncStep.Step2])
  })

  it('a real provider syncs from it, edits, and a second provider sees both', async () => {
    const { server, source } = await storedServer()
    const first = provider(server.url, DOC)
    await settled(first)
    expect(first.document.getText('text').toString()).toBe(source.getText('text').toString())
    first.document.getText('text').insert(0, 'after the cold load\n')
    await settled(first)
    const second = provider(server.url, DOC)
    await settled(second)
    await vi.waitFor(() => expect(second.document.getText('text').toString()).toBe(first.document.getText('text').toString()))
    expect(second.document.getText('text').toString().startsWith('after the cold load\n')).toBe(true)
  })

  it('a client that already holds part of the document gets the ordinary answer', async () => {
    const { server, source } = await storedServer()
    const partial = new Y.Doc()
    partial.getText('other').insert(0, 'offline edit')
    const frames = await ask(server.url, Y.encodeStateVector(partial))
    expect(frames).toHaveLength(1)
    Y.applyUpdate(partial, frames[0]!.update)
    expect(partial.getText('text').toString()).toBe(source.getText('text').toString())
  })

  it('reaches only the socket that authenticated: a refused socket asking at the same moment gets nothing', async () => {
    const server = await startServer(TOKEN_MODE)
    const secret = new Y.Doc()
    secret.getText('text').insert(0, 'only for ada')
    await server.storage.append(DOC, Y.encodeStateAsUpdate(secret))
    await server.storage.compact(DOC)
    const ada = await rawClient(server.url)
    const eve = await rawClient(server.url)
    const empty = Y.encodeStateVector(new Y.Doc())
    const eveToken = await tokenFor('eve', { 'public/*': 'admin' })
    eve.send(authFrame(DOC, eveToken))
    eve.send(updateFrame(DOC, empty, SyncStep.Step1))
    ada.send(authFrame(DOC, await tokenFor('ada', { [DOC]: 'read' })))
    ada.send(updateFrame(DOC, empty, SyncStep.Step1))
    const replica = new Y.Doc()
    for (const f of syncFrames(await beforeBarrier(ada))) Y.applyUpdate(replica, f.update)
    expect(replica.getText('text').toString()).toBe('only for ada')
    // Eve's barrier, on a document she may open, is asked after Ada's load: a stray frame would be here before it.
    eve.send(authFrame('public/eve', eveToken))
    await eve.next((d) => readFrame(d).address === 'public/eve' && authReply(d) !== null)
    expect(await barrier(eve, 'public/eve')).toBe('open')
    expect(syncFrames(eve.received.filter((d) => readFrame(d).address === DOC))).toEqual([])
    expect(eve.received.some((d) => Buffer.from(d).includes(Buffer.from('only for ada')))).toBe(false)
  })

  it('a SyncStep1 sent before the Auth: the Auth is not held with it, the document authenticates and gets the stored state', async () => {
    const { server, source } = await storedServer()
    const raw = await rawClient(server.url)
    raw.send(updateFrame(DOC, Y.encodeStateVector(new Y.Doc()), SyncStep.Step1))
    raw.send(authFrame(DOC))
    const outcome = await Promise.race([raw.next((d) => authReply(d) !== null).then(() => 'answered'), raw.closed.then((code) => `closed ${code}`)])
    expect(outcome).toBe('answered')
    const replica = new Y.Doc()
    for (const f of syncFrames(await beforeBarrier(raw))) Y.applyUpdate(replica, f.update)
    expect(replica.getText('text').toString()).toBe(source.getText('text').toString())
  })

  it('COLD_SYNC=off: the ordinary answer, once the document is loaded', async () => {
    const server = await startServer({ coldSync: false })
    const source = new Y.Doc()
    source.getText('text').insert(0, 'stored')
    await server.storage.append(DOC, Y.encodeStateAsUpdate(source))
    expect(await ask(server.url)).toHaveLength(1)
  })

  it('a stored log not yet compacted, or content an earlier extension added while loading: not served from storage, but from the loaded document', async () => {
    const { server: logged, source } = await storedServer(false)
    const plain = await ask(logged.url)
    // Never the raw log (it may hold deleted content): the loaded document's own encoding, shared (server/ws/shared-state.ts).
    expect(await metric(httpBase(logged.url), 'collab_cold_syncs_total')).toBe(0)
    const loaded = logged.hocuspocus.documents.get(DOC)!
    expect(Buffer.from(plain[0]!.update).equals(Buffer.from(Y.encodeStateAsUpdate(loaded)))).toBe(true)
    const replica = new Y.Doc()
    for (const f of plain) Y.applyUpdate(replica, f.update)
    expect(replica.getText('text').toString()).toBe(source.getText('text').toString())

    // An extension that runs before persistence (priority 100 > 10) puts content in the document while it loads.
    const seeder = {
      extensionName: 'seeder',
      async onLoadDocument({ document }: { document: Y.Doc }) {
        document.getMap('meta').set('seeded', true)
      },
    }
    const { server: seeded } = await storedServer(true, { extensions: [seeder] })
    const frames = await ask(seeded.url)
    expect(await metric(httpBase(seeded.url), 'collab_cold_syncs_total')).toBe(0)
    const copy = new Y.Doc()
    Y.applyUpdate(copy, frames[0]!.update)
    expect(copy.getMap('meta').get('seeded')).toBe(true)
  })

  it('parked structs in a stored snapshot do not start an endless sync loop', async () => {
    const server = await startServer()
    // An update whose dependency never reached storage: Yjs parks it, the snapshot carries it.
    const origin = new Y.Doc()
    origin.getText('text').insert(0, 'base ')
    const before = Y.encodeStateVector(origin)
    origin.getText('text').insert(5, 'depends on base')
    await server.storage.append(DOC, Y.encodeStateAsUpdate(origin, before))
    await server.storage.compact(DOC)
    const reader = provider(server.url, DOC)
    await vi.waitFor(() => expect(reader.synced).toBe(true), { timeout: 10_000 })
    // A loop would be one ask/answer round trip after another on this socket: let 20 of the
    // reader's own round trips (each queued behind anything the loop sent) go by.
    for (let i = 0; i < 20; i++) await providerBarrier(reader)
    const metrics = await (await fetch(`${httpBase(server.url)}/metrics`)).text()
    const deferred = Number(/collab_writes_refused_total\{door="socket",reason="missing-dependencies",rule="unappliable"\} (\d+)/.exec(metrics)?.[1] ?? 0)
    expect(deferred).toBeLessThanOrEqual(2)
  })
})
