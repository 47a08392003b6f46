/**
 * Chat integrity against Yjs-level tricks: immutable fields, replaced maps,
 * unknown keys, duplicate ids, undeleting, missing dependencies and parked
 * deletions; and what open mode (no identity) still enforces.
 */
import * as encoding from 'lib0/encoding'
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import type { Room } from '../../client/index.ts'
import { expectRefused, messageMap, newMessage, plainWriter, POLICY_VIOLATION, rawCloses, rawWriter } from '../helpers/chat-forge.ts'
import { settled } from '../helpers/clients.ts'
import { collabClient, roomSaved } from '../helpers/collab.ts'
import { updateFrame } from '../helpers/raw.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

const ROOM = 'team/tricks'
const WRITE = { 'team/*': 'write' }

async function tokenRoom() {
  const server = await startServer(TOKEN_MODE)
  const client = (id: string, docs: Record<string, string> = WRITE) => collabClient(server.url, id, { token: () => tokenFor(id, docs) })
  const ann = client('ann').room(ROOM)
  await ann.synced
  const annMsg = ann.chat.send('hello from ann')
  await roomSaved(ann)
  const writer = async (id = 'bob') => plainWriter(server, ROOM, await tokenFor(id, WRITE))
  return { server, client, ann, annMsg, writer }
}

/** A Yjs update that only deletes `len` items of `client` from `clock` (no structs). */
function deletionOnly(client: number, clock: number, len: number): Uint8Array {
  const e = encoding.createEncoder()
  for (const n of [0, 1, client, 1, clock, len]) encoding.writeVarUint(e, n)
  return encoding.toUint8Array(e)
}

describe('chat guard: fields and maps', () => {
  it('the author of one’s own message cannot be changed, nor its reactions map replaced, nor unknown keys added', async () => {
    const { writer } = await tokenRoom()
    const b = await writer()
    b.doc.getArray('chat').push([newMessage({ id: 'b-1', author: 'bob', text: 'mine' })])
    await settled(b.provider)
    messageMap(b.doc, 'b-1').set('author', 'ann')
    await expectRefused(b)

    for (const change of [
      (m: Y.Map<unknown>) => m.set('reactions', new Y.Map()),
      (m: Y.Map<unknown>) => m.set('pinned', true),
      (m: Y.Map<unknown>) => m.set('createdAt', 0),
      (m: Y.Map<unknown>) => m.delete('name'),
      (m: Y.Map<unknown>) => (m.get('reactions') as Y.Map<unknown>).set('bob', 'not a list'),
      (m: Y.Map<unknown>) => m.set('text', 'x'.repeat(10_001)),
    ]) {
      const again = await writer()
      change(messageMap(again.doc, 'b-1'))
      await expectRefused(again)
    }
  })

  it('new messages must be complete, valid, with a new id and empty reactions', async () => {
    const { writer, annMsg, server } = await tokenRoom()
    const cases: Array<(doc: Y.Doc) => void> = [
      (doc) => doc.getArray('chat').push([newMessage({ id: annMsg.id, author: 'bob', text: 'same id as ann’s' })]),
      (doc) => {
        const m = newMessage({ id: 'no-date', author: 'bob', text: 'incomplete' })
        m.delete('createdAt')
        doc.getArray('chat').push([m])
      },
      (doc) => {
        const m = newMessage({ id: 'pre-reacted', author: 'bob', text: 'everyone loves this' })
        doc.transact(() => {
          doc.getArray('chat').push([m])
          ;(m.get('reactions') as Y.Map<unknown>).set('ann', ['❤️'])
        })
      },
      (doc) => doc.getArray('chat').push(['a plain string is not a message']),
      (doc) => doc.getArray('chat').insert(0, [newMessage({ id: 'first', author: 'bob', text: 'backdated with insert(0)' })]),
      (doc) => {
        const m = newMessage({ id: 'nested', author: 'bob', text: 'x' })
        m.set('text', new Y.Text('a Y.Text is not a string'))
        doc.getArray('chat').push([m])
      },
    ]
    for (const forge of cases) {
      const b = await writer()
      forge(b.doc)
      await expectRefused(b)
    }
    expect(server.hocuspocus.documents.get(ROOM)!.getArray('chat').length).toBe(1)
  })

  it('a tombstone stays one: its author cannot undelete it after an admin deleted it, but may still write its text', async () => {
    const { client, annMsg, writer } = await tokenRoom()
    const admin = client('root', { 'team/*': 'admin' }).room(ROOM)
    await admin.synced
    admin.chat.delete(annMsg.id, { asAdmin: true })
    await roomSaved(admin)

    for (const undelete of [(m: Y.Map<unknown>) => m.delete('deleted'), (m: Y.Map<unknown>) => m.set('deleted', false)]) {
      const a = await writer('ann')
      undelete(messageMap(a.doc, annMsg.id))
      await expectRefused(a)
    }
    // An edit concurrent with the deletion is not refused (see docs §7); readers hide a tombstone's text.
    const a = await writer('ann')
    messageMap(a.doc, annMsg.id).set('text', 'edited after')
    await settled(a.provider)
    await vi.waitFor(() => expect(admin.chat.get(annMsg.id)).toMatchObject({ deleted: true, text: '' }))
  })
})

describe('chat guard: updates Yjs would park', () => {
  it('an update whose parent is unknown (missing dependency) is refused, and nothing is parked or stored', async () => {
    const { server, ann } = await tokenRoom()
    const c = await rawWriter(server, ROOM, await tokenFor('bob', WRITE))
    // A message the server never saw, and a change written on top of it.
    const hidden = new Y.Doc()
    Y.applyUpdate(hidden, Y.encodeStateAsUpdate(ann.doc))
    hidden.getArray('chat').push([newMessage({ id: 'ghost', author: 'ann', text: 'forged, sent later' })])
    const base = Y.encodeStateVector(hidden)
    ;(messageMap(hidden, 'ghost').get('reactions') as Y.Map<unknown>).set('bob', ['👍'])
    const stored = (await server.storage.load(ROOM)).updates.length
    c.send(updateFrame(ROOM, Y.encodeStateAsUpdate(hidden, base)))
    await vi.waitFor(() => expect(rawCloses(c)).toEqual([POLICY_VIOLATION]))
    const live = server.hocuspocus.documents.get(ROOM)!
    expect(live.store.pendingStructs).toBe(null)
    expect((await server.storage.load(ROOM)).updates.length).toBe(stored)
  })

  it('a deletion of items the server does not have yet (ann’s next message) is refused', async () => {
    const { server, ann } = await tokenRoom()
    const c = await rawWriter(server, ROOM, await tokenFor('bob', WRITE))
    const next = Y.getState(ann.doc.store, ann.doc.clientID)
    c.send(updateFrame(ROOM, deletionOnly(ann.doc.clientID, next, 100)))
    await vi.waitFor(() => expect(rawCloses(c)).toEqual([POLICY_VIOLATION]))
    expect(server.hocuspocus.documents.get(ROOM)!.store.pendingDs).toBe(null)
    // Had it been parked, it would have deleted this message on arrival.
    const later = ann.chat.send('my next message')
    await roomSaved(ann)
    const check = collabClient(server.url, 'cy', { token: () => tokenFor('cy', WRITE) }).room(ROOM)
    await check.synced
    expect(check.chat.get(later.id)?.text).toBe('my next message')
  })
})

describe('chat guard in open mode (no identity): structural rules only', () => {
  it('accepts any author, refuses removals and malformed messages', async () => {
    const server = await startServer()
    const ann: Room = collabClient(server.url, 'ann').room('open')
    await ann.synced
    const annMsg = ann.chat.send('hello')
    await roomSaved(ann)

    const w = await plainWriter(server, 'open', 'open')
    w.doc.getArray('chat').push([newMessage({ id: 'claims-ann', author: 'ann', text: 'no identity to check' })])
    ;(messageMap(w.doc, annMsg.id).get('reactions') as Y.Map<unknown>).set('anyone', ['👍'])
    await settled(w.provider)
    await vi.waitFor(() => expect(ann.chat.get('claims-ann')?.author).toBe('ann'))

    const removal = await plainWriter(server, 'open', 'open')
    removal.doc.getArray('chat').delete(0, 1)
    await expectRefused(removal)
    const incomplete = await plainWriter(server, 'open', 'open')
    incomplete.doc.getArray('chat').push([new Y.Map([['id', 'x'], ['text', 'no author']])])
    await expectRefused(incomplete)
    expect(ann.chat.messages().map((m) => m.id)).toEqual([annMsg.id, 'claims-ann'])
  })
})
