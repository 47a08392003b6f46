/**
 * Nobody can write under somebody else's name (issue 16): Ada edits offline,
 * Bob takes her Yjs client id and types at her next clocks, Ada comes back.
 * Bob's forged structs are nowhere — not applied, not stored, not broadcast —
 * and Ada’s edit, acknowledged, survives a restart. At the socket, the HTTP fallback, the
 * y-websocket endpoint and REST. Each "not broadcast" ends on a positive
 * barrier (Ada's own edit reaching the observer, sent after the attempt).
 */
import { join } from 'node:path'
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { httpSocketClass } from '../../client/http-socket.ts'
import { Errors } from '../../client/protocol.ts'
import { acks, storedText } from '../helpers/auth.ts'
import { offline, provider, settled } from '../helpers/clients.ts'
import { call, docPath, httpBase, makeUpdate } from '../helpers/rest.ts'
import { startServer, tempDir } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

const DOC = 'team/own'
const METRICS_TOKEN = 'metrics-token-0123456789-abcdefghijklmnop'
const text = (p: HocuspocusProvider) => p.document.getText('text').toString()

/** Every text the observer's document ever showed. */
function history(p: HocuspocusProvider): string[] {
  const seen = [text(p)]
  p.document.on('update', () => seen.push(text(p)))
  return seen
}

async function scene() {
  const dbPath = join(tempDir(), 'collab.db')
  const server = await startServer({ ...TOKEN_MODE, dbPath, metricsToken: METRICS_TOKEN })
  const access = { 'team/*': 'write' }
  const bobToken = await tokenFor('bob', access)
  const ada = provider(server.url, DOC, { token: await tokenFor('ada', access) })
  const observer = provider(server.url, DOC, { token: await tokenFor('obs', { 'team/*': 'read' }) })
  await Promise.all([settled(ada), settled(observer)])
  const seen = history(observer)
  ada.document.getText('text').insert(0, 'A1;')
  await settled(ada)
  await vi.waitFor(() => expect(text(observer)).toBe('A1;'))
  // Ada goes offline and types.
  const adaSocket = ada.configuration.websocketProvider
  await offline(adaSocket)
  await vi.waitFor(() => expect(server.hocuspocus.documents.get(DOC)!.getConnectionsCount()).toBe(1))
  ada.document.getText('text').insert(3, 'A2;')
  const victim = ada.document.clientID
  /** Ada back online: her edit is acknowledged and reaches the observer (the barrier). */
  const adaReturns = async (expected = 'A1;A2;') => {
    adaSocket.connect()
    await settled(ada)
    await vi.waitFor(() => expect(text(observer)).toBe(expected))
  }
  return { server, dbPath, ada, observer, seen, victim, bobToken, adaReturns }
}

type Scene = Awaited<ReturnType<typeof scene>>

/**
 * Bob, synced, types under Ada's id while she is offline: not acknowledged (the
 * sender is not told its forgery was saved; its connection stays open); then Ada returns.
 */
async function forgeAsVictim(s: Scene, bob: HocuspocusProvider): Promise<void> {
  await settled(bob)
  const answers = acks(bob)
  bob.document.clientID = s.victim
  bob.document.getText('text').insert(3, 'EVIL;')
  await vi.waitFor(() => expect(answers).toContain(false))
  expect(answers).not.toContain(true)
  await s.adaReturns()
}

/** Bob's forgery is nowhere, Ada's edit everywhere, also after a restart. */
async function expectVictimSafe({ server, dbPath, seen }: Scene, door: string): Promise<void> {
  expect(seen.filter((t) => t.includes('EVIL'))).toEqual([])
  expect(server.hocuspocus.documents.get(DOC)!.getText('text').toString()).toBe('A1;A2;')
  expect(await storedText(server, DOC)).toBe('A1;A2;')
  const http = httpBase(server.url)
  const dropped = await (await fetch(`${http}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text()
  expect(dropped).toMatch(new RegExp(`collab_foreign_structs_dropped_total\\{door="${door}"\\} [1-9]`))
  await server.close()
  const again = await startServer({ ...TOKEN_MODE, dbPath })
  const reader = provider(again.url, DOC, { token: await tokenFor('eve', { 'team/*': 'read' }) })
  await settled(reader)
  expect(text(reader)).toBe('A1;A2;')
}

describe('a client id belongs to the user who first used it', () => {
  it('socket: Bob typing under Ada’s id while she is offline is not applied, not stored, not broadcast; Ada’s edit survives', async () => {
    const s = await scene()
    const bob = provider(s.server.url, DOC, { token: s.bobToken })
    await forgeAsVictim(s, bob)
    // Bob's connection stayed open (Ada, the observer, Bob); his own copy keeps what he forged, nobody else's does.
    expect(s.server.hocuspocus.documents.get(DOC)!.getConnectionsCount()).toBe(3)
    await expectVictimSafe(s, 'socket')
  })

  it('y-websocket endpoint: the same forgery is dropped', async () => {
    const s = await scene()
    const doc = new Y.Doc()
    const yws = new WebsocketProvider(s.server.url.replace(/\/ws$/, '/yws'), DOC, doc, { params: { token: s.bobToken }, disableBc: true })
    onTestFinished(() => yws.destroy())
    await vi.waitFor(() => expect(yws.synced).toBe(true))
    const own = doc.clientID
    doc.clientID = s.victim
    doc.getText('text').insert(3, 'EVIL;')
    // A later edit of Bob's own on the same socket: handled after the forgery, and it does arrive.
    doc.clientID = own
    doc.getText('text').insert(0, 'B;')
    await vi.waitFor(() => expect(text(s.observer)).toBe('B;A1;'))
    await s.adaReturns('B;A1;A2;')
    expect(s.seen.filter((t) => t.includes('EVIL'))).toEqual([])
    expect(await storedText(s.server, DOC)).toBe('B;A1;A2;')
    const metrics = await (await fetch(`${httpBase(s.server.url)}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text()
    expect(metrics).toMatch(/collab_foreign_structs_dropped_total\{door="yws"\} [1-9]/)
  })

  it('HTTP fallback: the same forgery is dropped', async () => {
    const s = await scene()
    const websocketProvider = new HocuspocusProviderWebsocket({ url: s.server.url, WebSocketPolyfill: httpSocketClass({ token: () => s.bobToken }) })
    const bob = new HocuspocusProvider({ websocketProvider, name: DOC, token: s.bobToken, document: new Y.Doc() })
    bob.attach()
    onTestFinished(() => (bob.destroy(), websocketProvider.destroy()))
    await forgeAsVictim(s, bob)
    await expectVictimSafe(s, 'http')
  })

  it('REST: an update under Ada’s id is not stored or applied; the answer names what was dropped', async () => {
    const s = await scene()
    const base = httpBase(s.server.url)
    const state = Y.encodeStateAsUpdate(s.server.hocuspocus.documents.get(DOC)!)
    const forged = makeUpdate((d) => {
      d.clientID = s.victim
      d.getText('text').insert(3, 'EVIL;')
    }, state)
    const r = await call(base, 'POST', docPath(DOC, '/updates'), { token: s.bobToken, body: forged })
    expect(r.status).toBe(200)
    expect(r.json.dropped).toEqual({ error: Errors.ClientIdOwned.reason, clients: [s.victim] })
    await s.adaReturns()
    await expectVictimSafe(s, 'rest')
  })
})
