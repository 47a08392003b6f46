import type { HocuspocusProvider } from '@hocuspocus/provider'
import { describe, expect, it, vi } from 'vitest'
import { applyAwarenessUpdate } from 'y-protocols/awareness'
import { provider, settled, socket } from '../helpers/clients.ts'
import { authFrame, authReply, awarenessFrame, awarenessPayload, rawClient, type RawClient } from '../helpers/raw.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, sign, tokenFor } from '../helpers/tokens.ts'

const DOC = 'team/room'
const MALLORY = 4242

/** A raw socket authenticated on DOC with `token`. */
async function rawOn(url: string, token: string): Promise<RawClient> {
  const raw = await rawClient(url)
  raw.send(authFrame(DOC, token))
  await vi.waitFor(() => expect(raw.received.map(authReply).find((r) => r !== null)).toEqual({ scope: 'read-write' }))
  return raw
}

/** Send one awareness entry from the raw client. */
const publish = (raw: RawClient, client: number, clock: number, state: unknown) =>
  raw.send(awarenessFrame(DOC, awarenessPayload([[client, clock, JSON.stringify(state)]])))

const stateAt = (observer: HocuspocusProvider, client: number) => observer.awareness!.getStates().get(client)
const clockOf = (p: HocuspocusProvider) => p.awareness!.meta.get(p.document.clientID)!.clock

async function room(config = TOKEN_MODE) {
  const server = await startServer(config)
  const bob = provider(server.url, DOC, { token: await tokenFor('bob', { 'team/*': 'write' }) })
  const cy = provider(server.url, DOC, { token: await tokenFor('cy', { 'team/*': 'read' }) })
  await Promise.all([settled(bob), settled(cy)])
  bob.setAwarenessField('cursor', { anchor: 1, head: 2 })
  await vi.waitFor(() => expect(stateAt(cy, bob.document.clientID)?.cursor).toEqual({ anchor: 1, head: 2 }))
  return { server, bob, cy, bobState: structuredClone(stateAt(cy, bob.document.clientID)) }
}

describe('presence cannot be spoofed', () => {
  it('the user in a presence state is the token’s, whatever the client claims', async () => {
    const { server, cy } = await room()
    const ada = provider(server.url, DOC, { token: await sign({ sub: 'ada', name: 'Ada L.', color: '#123456', docs: { 'team/*': 'write' } }) })
    await settled(ada)
    ada.setAwarenessField('user', { id: 'bob', name: 'Bob', color: '#000000', admin: true })
    ada.setAwarenessField('cursor', { anchor: 3, head: 3 })
    await vi.waitFor(() =>
      expect(stateAt(cy, ada.document.clientID)).toEqual({ user: { id: 'ada', name: 'Ada L.', color: '#123456' }, cursor: { anchor: 3, head: 3 } }),
    )
  })

  it('A cannot set or remove B’s presence by sending B’s client id; A’s own updates still go through', async () => {
    const { server, bob, cy, bobState } = await room()
    const bobId = bob.document.clientID
    const mallory = await rawOn(server.url, await tokenFor('mallory', { 'team/*': 'write' }))
    const forged = { user: { id: 'bob', name: 'Bob' }, cursor: { anchor: 99, head: 99 }, note: 'forged' }

    // First frame names Bob's id: it is held by Bob's connection, so Mallory is not bound to it.
    publish(mallory, bobId, clockOf(bob) + 10, forged)
    // Then Mallory's own id (bound from now on), and forged set / removal for Bob again.
    publish(mallory, MALLORY, 1, { seq: 1 })
    await vi.waitFor(() => expect(stateAt(cy, MALLORY)).toEqual({ seq: 1, user: { id: 'mallory', name: 'Mallory', color: expect.any(String) } }))
    publish(mallory, bobId, clockOf(bob) + 20, forged)
    publish(mallory, MALLORY, 2, { seq: 2 })
    mallory.send(awarenessFrame(DOC, awarenessPayload([[bobId, clockOf(bob) + 30, 'null'], [MALLORY, 3, JSON.stringify({ seq: 3 })]])))
    // A second client id of Mallory's own is refused too.
    publish(mallory, MALLORY + 1, 1, { seq: 'second id' })
    publish(mallory, MALLORY, 4, { seq: 4 })
    await vi.waitFor(() => expect(stateAt(cy, MALLORY)?.seq).toBe(4))

    expect(stateAt(cy, bobId)).toEqual(bobState)
    expect(server.hocuspocus.documents.get(DOC)!.awareness.getStates().get(bobId)).toEqual(bobState)
    expect(stateAt(cy, MALLORY + 1)).toBeUndefined()
    // A fresh observer sees the same.
    const dan = provider(server.url, DOC, { token: await tokenFor('dan', { 'team/*': 'read' }) })
    await settled(dan)
    await vi.waitFor(() => expect(stateAt(dan, MALLORY)?.seq).toBe(4))
    expect(stateAt(dan, bobId)).toEqual(bobState)
    expect(stateAt(dan, MALLORY + 1)).toBeUndefined()

    // A state with no connection here (e.g. a client of another instance) cannot be taken over either.
    const remote = { user: { id: 'zoe', name: 'Zoe' }, on: 'another instance' }
    const published = server.hocuspocus.documents.get(DOC)!.awareness
    applyAwarenessUpdate(published, awarenessPayload([[777, 5, JSON.stringify(remote)]]), 'another instance')
    await vi.waitFor(() => expect(stateAt(cy, 777)).toEqual(remote))
    const trudy = await rawOn(server.url, await tokenFor('trudy', { 'team/*': 'write' }))
    publish(trudy, 777, 6, { takeover: true })
    publish(trudy, 778, 1, { seq: 'trudy' })
    await vi.waitFor(() => expect(stateAt(cy, 778)?.seq).toBe('trudy'))
    expect(stateAt(cy, 777)).toEqual(remote)
  })

  it('a connection’s own removal reaches everyone: leaving the document, closing the socket, clearing its state', async () => {
    const { server, bob, cy } = await room()
    const token = await tokenFor('ada', { 'team/*': 'write' })
    // Ada has two documents on one socket; she leaves DOC only.
    const shared = socket(server.url)
    const ada = provider(server.url, DOC, { ws: shared, token })
    const other = provider(server.url, 'team/other', { ws: shared, token })
    await Promise.all([settled(ada), settled(other)])
    ada.setAwarenessField('cursor', { anchor: 0, head: 0 })
    await vi.waitFor(() => expect(stateAt(cy, ada.document.clientID)).toBeDefined())
    ada.destroy()
    await vi.waitFor(() => expect(stateAt(cy, ada.document.clientID)).toBeUndefined())
    expect(stateAt(bob, ada.document.clientID)).toBeUndefined()
    other.document.getText('t').insert(0, 'socket still open')
    await settled(other)

    // Eve clears her state while staying, then comes back; then her socket closes.
    const eve = provider(server.url, DOC, { token: await tokenFor('eve', { 'team/*': 'write' }) })
    await settled(eve)
    eve.setAwarenessField('cursor', { anchor: 5, head: 5 })
    await vi.waitFor(() => expect(stateAt(cy, eve.document.clientID)?.cursor).toEqual({ anchor: 5, head: 5 }))
    eve.awareness!.setLocalState(null)
    await vi.waitFor(() => expect(stateAt(cy, eve.document.clientID)).toBeUndefined())
    eve.awareness!.setLocalState({ cursor: { anchor: 6, head: 6 } })
    await vi.waitFor(() => expect(stateAt(cy, eve.document.clientID)?.cursor).toEqual({ anchor: 6, head: 6 }))
    eve.configuration.websocketProvider.destroy()
    await vi.waitFor(() => expect(stateAt(cy, eve.document.clientID)).toBeUndefined())
    await vi.waitFor(() => expect(stateAt(bob, eve.document.clientID)).toBeUndefined())
  })

  it('caps the size of a state and the rate of updates; the latest state still arrives', async () => {
    const { server, cy } = await room({ ...TOKEN_MODE, awarenessMaxBytes: 1024, awarenessMaxRate: 5 })
    const ada = provider(server.url, DOC, { token: await tokenFor('ada', { 'team/*': 'write' }) })
    await settled(ada)
    const id = ada.document.clientID
    ada.setAwarenessField('n', -1)
    await vi.waitFor(() => expect(stateAt(cy, id)?.n).toBe(-1))

    const blobs: unknown[] = []
    const published = server.hocuspocus.documents.get(DOC)!.awareness
    published.on('update', () => blobs.push(published.getStates().get(id)?.blob))
    ada.setAwarenessField('blob', 'x'.repeat(2000))
    ada.setAwarenessField('blob', 'small')
    await vi.waitFor(() => expect(stateAt(cy, id)?.blob).toBe('small'))
    // The oversized state never reached anyone.
    expect(blobs.filter((b) => typeof b === 'string' && b.length > 1000)).toEqual([])

    // Every state of Ada's the server publishes (before broadcasts are merged per tick).
    const seen: number[] = []
    server.hocuspocus.documents.get(DOC)!.awareness.on('update', ({ added, updated }: { added: number[]; updated: number[] }) => {
      if (added.includes(id) || updated.includes(id)) seen.push(stateAt(cy, id)?.n as number)
    })
    const started = Date.now()
    for (let n = 1; n <= 50; n++) ada.setAwarenessField('n', n)
    await vi.waitFor(() => expect(stateAt(cy, id)?.n).toBe(50), { timeout: 10_000 })
    const seconds = (Date.now() - started) / 1000
    // Bursts of 5, then 5 per second, plus the trailing latest.
    expect(seen.length).toBeLessThanOrEqual(5 + Math.ceil(seconds * 5) + 1)
  })

  it('open mode stamps nothing but still binds one client id per connection', async () => {
    const server = await startServer()
    const cy = provider(server.url, DOC)
    await settled(cy)
    const raw = await rawClient(server.url)
    raw.send(authFrame(DOC))
    publish(raw, MALLORY, 1, { user: { id: 'whoever', name: 'As Claimed' } })
    publish(raw, MALLORY + 1, 1, { user: { id: 'second', name: 'Second Id' } })
    publish(raw, MALLORY, 2, { user: { id: 'whoever', name: 'As Claimed' }, seq: 2 })
    await vi.waitFor(() => expect(stateAt(cy, MALLORY)).toEqual({ user: { id: 'whoever', name: 'As Claimed' }, seq: 2 }))
    expect(stateAt(cy, MALLORY + 1)).toBeUndefined()
  })
})
