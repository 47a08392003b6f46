/**
 * Updates Yjs cannot apply yet (missing dependencies, deletions of clocks the
 * server lacks) would be parked and integrated later, unchecked. The guard
 * neither stores nor applies them: it answers SyncStatus(false), keeps the
 * document open and asks the client for a full SyncStep2 — which an honest
 * client answers with the update and everything it depends on.
 */
import * as encoding from 'lib0/encoding'
import { describe, expect, it, vi } from 'vitest'
import { CloseCode, documentCloseReason } from '../../client/protocol.ts'
import * as Y from 'yjs'
import { chatState, messageMap, newMessage, rawAcks, rawCloses, rawStep1s, rawWriter } from '../helpers/chat-forge.ts'
import { acks } from '../helpers/auth.ts'
import { provider, settled } from '../helpers/clients.ts'
import { collabClient, roomSaved } from '../helpers/collab.ts'
import { updateFrame } from '../helpers/raw.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

const ROOM = 'team/deferred'
const WRITE = { 'team/*': 'write' }

async function tokenRoom() {
  const server = await startServer(TOKEN_MODE)
  const ann = collabClient(server.url, 'ann', { token: () => tokenFor('ann', WRITE) }).room(ROOM)
  await ann.synced
  ann.chat.send('hello from ann')
  await roomSaved(ann)
  return { server, ann }
}

/** A Yjs update that only deletes `len` items of `client` from `clock` (no structs). */
function deletionOnly(client: number, clock: number, len: number): Uint8Array {
  const e = encoding.createEncoder()
  for (const n of [0, 1, client, 1, clock, len]) encoding.writeVarUint(e, n)
  return encoding.toUint8Array(e)
}

describe('chat guard: updates Yjs cannot apply yet', () => {
  it('one whose parent is unknown is neither stored nor applied nor parked: SyncStatus(false), and a SyncStep1 asks for the rest', async () => {
    const { server, ann } = await tokenRoom()
    const c = await rawWriter(server, ROOM, await tokenFor('bob', WRITE))
    // A message the server never saw, and a change written on top of it: sent alone, its parent is unknown.
    const hidden = new Y.Doc()
    Y.applyUpdate(hidden, Y.encodeStateAsUpdate(ann.doc))
    hidden.getArray('chat').push([newMessage({ id: 'ghost', author: 'ann', text: 'forged, sent later' })])
    const base = Y.encodeStateVector(hidden)
    ;(messageMap(hidden, 'ghost').get('reactions') as Y.Map<unknown>).set('bob', ['👍'])
    const stored = (await server.storage.load(ROOM)).updates.length
    const before = chatState(server.hocuspocus.documents.get(ROOM)!)
    c.send(updateFrame(ROOM, Y.encodeStateAsUpdate(hidden, base)))
    await vi.waitFor(() => expect(rawAcks(c)).toEqual([false]))
    await vi.waitFor(() => expect(rawStep1s(c)).toBe(1))
    const live = server.hocuspocus.documents.get(ROOM)!
    expect(live.store.pendingStructs).toBe(null)
    expect(chatState(live)).toEqual(before)
    expect((await server.storage.load(ROOM)).updates.length).toBe(stored)
    expect(rawCloses(c)).toEqual([])

    // The "rest" it would send is the forged message itself: that is checked like any other and refused.
    c.send(updateFrame(ROOM, Y.encodeStateAsUpdate(hidden, Y.encodeStateVector(live)), 1))
    await vi.waitFor(() => expect(rawCloses(c)).toEqual([documentCloseReason(CloseCode.PolicyViolation)]))
    expect(chatState(live)).toEqual(before)
  })

  it('a deletion of clocks the server does not have yet (ann’s next message) is not parked', async () => {
    const { server, ann } = await tokenRoom()
    const c = await rawWriter(server, ROOM, await tokenFor('bob', WRITE))
    const next = Y.getState(ann.doc.store, ann.doc.clientID)
    c.send(updateFrame(ROOM, deletionOnly(ann.doc.clientID, next, 100)))
    await vi.waitFor(() => expect(rawAcks(c)).toEqual([false]))
    expect(server.hocuspocus.documents.get(ROOM)!.store.pendingDs).toBe(null)
    // Had it been parked, it would have deleted this message on arrival.
    const later = ann.chat.send('my next message')
    await roomSaved(ann)
    const check = collabClient(server.url, 'cy', { token: () => tokenFor('cy', WRITE) }).room(ROOM)
    await check.synced
    expect(check.chat.get(later.id)?.text).toBe('my next message')
  })

  it('an honest provider whose update arrives before the one it depends on (queued while offline) recovers by itself', async () => {
    const { server, ann } = await tokenRoom()
    const doc = new Y.Doc()
    const p = provider(server.url, ROOM, { token: await tokenFor('bob', WRITE), doc })
    await settled(p)
    const seen = acks(p)
    // Two of bob's changes the server never got; only the second is sent (the first was lost with a server).
    const lost = new Y.Doc()
    Y.applyUpdate(lost, Y.encodeStateAsUpdate(doc))
    const updates: Uint8Array[] = []
    lost.on('update', (u: Uint8Array) => updates.push(u))
    lost.getArray('chat').push([newMessage({ id: 'bob-1', author: 'bob', text: 'first' })])
    ;(messageMap(lost, 'bob-1').get('reactions') as Y.Map<unknown>).set('bob', ['👍'])
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(lost), p) // the provider's own origin: it does not send these itself
    p.configuration.websocketProvider.send(updateFrame(ROOM, updates[1]!))

    await vi.waitFor(() => expect(ann.chat.get('bob-1')).toMatchObject({ author: 'bob', reactions: { '👍': ['bob'] } }))
    expect(seen[0]).toBe(false)
    // Still a writer on an open document.
    doc.getText('codemirror').insert(0, 'still writing')
    await vi.waitFor(() => expect(ann.codemirror.toString()).toBe('still writing'))
    await vi.waitFor(() => expect(seen.at(-1)).toBe(true))
  })
})
