/**
 * Variants of the client-id attack (issue 16, "Done when"): a mixed update
 * carrying the impostor's own id and the victim's, future clocks Yjs would
 * park, GC structs at future clocks, squatting an awareness id before its
 * owner types, and two instances sharing PostgreSQL. In each, the victim's id
 * gets no new clocks from anyone else.
 */
import type { HocuspocusProvider } from '@hocuspocus/provider'
import * as encoding from 'lib0/encoding'
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { Errors } from '../../client/protocol.ts'
import { parkedStructs } from '../../server/internals.ts'
import { acks, storedText } from '../helpers/auth.ts'
import { Services } from '../helpers/cluster.ts'
import { provider, providerBarrier, settled } from '../helpers/clients.ts'
import { updateFrame } from '../helpers/raw.ts'
import { call, docPath, httpBase } from '../helpers/rest.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

const DOC = 'team/variants'
const ACCESS = { 'team/*': 'write' }
const text = (p: HocuspocusProvider) => p.document.getText('text').toString()
const services = new Services()

/** An update, as a client holding `base` with id `client` would send it for `edit`. */
function updateAs(client: number, base: Uint8Array, edit: (t: Y.Text) => void): Uint8Array {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, base)
  doc.clientID = client
  const before = Y.encodeStateVector(doc)
  edit(doc.getText('text'))
  return Y.encodeStateAsUpdate(doc, before)
}

/** An update of one GC struct of `length` clocks at `client`:`clock` (v1 encoding, no deletions). */
function gcUpdate(client: number, clock: number, length: number): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 1) // clients
  encoding.writeVarUint(e, 1) // structs of this client
  encoding.writeVarUint(e, client)
  encoding.writeVarUint(e, clock)
  encoding.writeUint8(e, 0) // GC
  encoding.writeVarUint(e, length)
  encoding.writeVarUint(e, 0) // delete set: no clients
  return encoding.toUint8Array(e)
}

async function withAda(config = {}) {
  const server = await startServer({ ...TOKEN_MODE, ...config })
  const ada = provider(server.url, DOC, { token: await tokenFor('ada', ACCESS) })
  await settled(ada)
  ada.document.getText('text').insert(0, 'A1;')
  await settled(ada)
  const victim = ada.document.clientID
  const state = () => Y.getState(server.hocuspocus.documents.get(DOC)!.store, victim)
  return { server, ada, victim, state, bobToken: await tokenFor('bob', ACCESS) }
}

describe('the victim’s id gets no new clocks from anyone else', () => {
  it('a mixed update over the socket: the impostor’s own content is applied and stored, the victim’s id is left out', async () => {
    const { server, ada, victim, state, bobToken } = await withAda()
    const bob = provider(server.url, DOC, { token: bobToken })
    await settled(bob)
    const base = Y.encodeStateAsUpdate(bob.document)
    const mixed = Y.mergeUpdates([updateAs(bob.document.clientID, base, (t) => t.insert(0, 'B;')), updateAs(victim, base, (t) => t.insert(3, 'EVIL;'))])
    const answers = acks(bob)
    bob.configuration.websocketProvider.send(updateFrame(DOC, mixed))
    await vi.waitFor(() => expect(text(ada)).toBe('B;A1;'))
    await providerBarrier(bob)
    expect(answers[0]).toBe(false)
    expect(state()).toBe(3)
    expect(await storedText(server, DOC)).toBe('B;A1;')
  })

  it('future clocks Yjs would park, and GC structs at future clocks, under the victim’s id: dropped, nothing parked', async () => {
    const { server, victim, state, bobToken } = await withAda()
    const base = Y.encodeStateAsUpdate(server.hocuspocus.documents.get(DOC)!)
    // Under the victim's id at clock 103, after 100 clocks nobody has: Yjs would park it until they came.
    const ahead = new Y.Doc()
    Y.applyUpdate(ahead, base)
    ahead.clientID = victim
    ahead.getText('text').insert(3, 'x'.repeat(100))
    const skipped = Y.encodeStateVector(ahead)
    ahead.getText('text').insert(103, 'EVIL;')
    const parked = Y.encodeStateAsUpdate(ahead, skipped)
    for (const update of [parked, gcUpdate(victim, 3, 5), gcUpdate(victim, 50, 5)]) {
      const r = await call(httpBase(server.url), 'POST', docPath(DOC, '/updates'), { token: bobToken, body: update })
      expect([r.status, r.json.dropped]).toEqual([200, { error: Errors.ClientIdOwned.reason, clients: [victim] }])
    }
    expect(state()).toBe(3)
    expect(parkedStructs(server.hocuspocus.documents.get(DOC)!)).toBeNull()
    expect(await storedText(server, DOC)).toBe('A1;')
  })

  it('what no longer integrates without the dropped structs is deferred as missing dependencies: nothing stored', async () => {
    const { server, victim, state, bobToken } = await withAda()
    const doc = new Y.Doc()
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(server.hocuspocus.documents.get(DOC)!))
    const before = Y.encodeStateVector(doc)
    const own = doc.clientID
    doc.clientID = victim
    doc.getText('text').insert(3, 'EVIL;')
    // Bob's own text, right after the forged text: it builds on it.
    doc.clientID = own
    doc.getText('text').insert(8, 'B;')
    const r = await call(httpBase(server.url), 'POST', docPath(DOC, '/updates'), { token: bobToken, body: Y.encodeStateAsUpdate(doc, before) })
    expect([r.status, r.json.error]).toEqual([422, Errors.MissingDependencies.reason])
    expect(state()).toBe(3)
    expect(await storedText(server, DOC)).toBe('A1;')
  })

  it('squatting an awareness id before its owner types: Bob cannot write under the id Ada’s connection speaks for', async () => {
    const server = await startServer(TOKEN_MODE)
    const ada = provider(server.url, DOC, { token: await tokenFor('ada', ACCESS) })
    const bob = provider(server.url, DOC, { token: await tokenFor('bob', ACCESS) })
    await Promise.all([settled(ada), settled(bob)])
    ada.setAwarenessField('cursor', 1)
    await vi.waitFor(() => expect(bob.awareness!.getStates().has(ada.document.clientID)).toBe(true))
    const answers = acks(bob)
    bob.document.clientID = ada.document.clientID
    bob.document.getText('text').insert(0, 'EVIL;')
    await vi.waitFor(() => expect(answers).toContain(false))
    // Ada's first edit is hers (it would have been lost under Bob's clocks).
    ada.document.getText('text').insert(0, 'A1;')
    await settled(ada)
    expect(server.hocuspocus.documents.get(DOC)!.getText('text').toString()).toBe('A1;')
    expect(await storedText(server, DOC)).toBe('A1;')
  })

  it('two instances on one PostgreSQL: the instance that did not see Ada’s claim learns it from the database and drops Bob’s forgery', async () => {
    const databaseUrl = await services.database()
    const one = await withAda({ databaseUrl })
    // A second instance on the same database, no Redis between them: it loads the document (and its owners) now.
    const two = await startServer({ ...TOKEN_MODE, databaseUrl })
    const bob = provider(two.url, DOC, { token: one.bobToken })
    await settled(bob)
    expect(text(bob)).toBe('A1;')
    // Ada's next id is new to both: she claims it on the first instance; the second never hears of it.
    const second = new Y.Doc()
    const adaTab = provider(one.server.url, DOC, { token: await tokenFor('ada', ACCESS), doc: second })
    await settled(adaTab)
    second.getText('text').insert(3, 'A2;')
    await settled(adaTab)
    const answers = acks(bob)
    bob.document.clientID = second.clientID
    bob.document.getText('text').insert(3, 'EVIL;')
    await vi.waitFor(() => expect(answers).toContain(false))
    expect(two.hocuspocus.documents.get(DOC)!.getText('text').toString()).toBe('A1;')
    expect(await storedText(two, DOC)).toBe('A1;A2;')
  })

  it('two instances with Redis: an awareness id bound on one instance cannot be squatted on the other before its owner types', async () => {
    const shared = { ...TOKEN_MODE, databaseUrl: await services.database(), redisUrl: (await services.redis()).url, redisPrefix: `own-${process.pid}` }
    const one = await startServer(shared)
    const two = await startServer(shared)
    const ada = provider(one.url, DOC, { token: await tokenFor('ada', ACCESS) })
    const bob = provider(two.url, DOC, { token: await tokenFor('bob', ACCESS) })
    await Promise.all([settled(ada), settled(bob)])
    ada.setAwarenessField('cursor', 1)
    await vi.waitFor(() => expect(bob.awareness!.getStates().get(ada.document.clientID)).toMatchObject({ user: { id: 'ada' } }))
    const answers = acks(bob)
    bob.document.clientID = ada.document.clientID
    bob.document.getText('text').insert(0, 'EVIL;')
    await vi.waitFor(() => expect(answers).toContain(false))
    ada.document.getText('text').insert(0, 'A1;')
    await settled(ada)
    expect(await storedText(one, DOC)).toBe('A1;')
    await vi.waitFor(() => expect(two.hocuspocus.documents.get(DOC)!.getText('text').toString()).toBe('A1;'))
  })
})
