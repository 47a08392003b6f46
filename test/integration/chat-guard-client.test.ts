/**
 * Our own client never produces a change the chat guard refuses: every chat
 * operation, online and offline, concurrent with other users and an admin, in
 * token mode. A refusal would show as a `closed` event with 4422 and unsaved
 * changes that never get saved.
 */
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import type { CollabClient, OfflineStoreFactory, Room } from '../../client/index.ts'
import { chatState, storedDoc } from '../helpers/chat-forge.ts'
import { collabClient, roomSaved } from '../helpers/collab.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

const ROOM = 'team/honest'
const chatStateOf = (room: Room) => chatState(room.doc)

/** A memory stand-in for y-indexeddb (as in client-reload.test.ts): a "reload" sends everything as one SyncStep2. */
function memoryStore(): OfflineStoreFactory {
  const disk = new Map<string, Uint8Array[]>()
  return (key, doc) => {
    const updates = disk.get(key) ?? []
    disk.set(key, updates)
    const origin = { store: key }
    const whenLoaded = Promise.resolve().then(() => doc.transact(() => updates.forEach((u) => Y.applyUpdate(doc, u)), origin))
    const keep = (update: Uint8Array, from: unknown) => {
      if (from !== origin) updates.push(update)
    }
    doc.on('update', keep)
    return { whenLoaded, destroy: () => doc.off('update', keep) }
  }
}

async function users() {
  const server = await startServer(TOKEN_MODE)
  const closed: Array<{ who: string; code: number | undefined }> = []
  const join = async (id: string, role = 'write', offline: OfflineStoreFactory | false = false): Promise<{ client: CollabClient; room: Room }> => {
    const client = collabClient(server.url, id, { token: () => tokenFor(id, { 'team/*': role }), offline })
    const room = client.room(ROOM)
    room.on('closed', (e) => closed.push({ who: id, code: e.code }))
    await room.synced
    return { client, room }
  }
  const [ann, bob, root] = await Promise.all([join('ann'), join('bob'), join('root', 'admin')])
  /** Everyone saved, nobody closed, and server memory, storage and clients agree. */
  const converged = async () => {
    await Promise.all([ann, bob, root].map((u) => roomSaved(u.room, 20_000)))
    const live = server.hocuspocus.documents.get(ROOM)!
    await vi.waitFor(() => {
      for (const u of [ann, bob, root]) expect(chatState(u.room.doc)).toEqual(chatState(live))
    })
    expect(chatState(await storedDoc(server, ROOM))).toEqual(chatState(live))
    expect(closed).toEqual([])
  }
  return { server, join, ann: ann.room, bob: bob.room, root: root.room, annClient: ann.client, converged }
}

describe('chat guard and our client', () => {
  it('never refuses our client’s own operations online: send, reply, edit, react, unreact, read, delete, admin delete', async () => {
    const { ann, bob, root, converged } = await users()
    const a1 = ann.chat.send('one')
    await vi.waitFor(() => expect(bob.chat.get(a1.id)).toBeDefined())
    const b1 = bob.chat.send('two', { replyTo: a1.id })
    await vi.waitFor(() => {
      for (const r of [ann, bob, root]) expect(r.chat.messages().map((m) => m.id)).toEqual([a1.id, b1.id])
    })
    ann.chat.edit(a1.id, 'one (edited)')
    bob.chat.react(a1.id, '👍')
    ann.chat.react(a1.id, '👍')
    ann.chat.react(a1.id, '🎉')
    ann.chat.react(a1.id, '🎉')
    root.chat.react(b1.id, '✅')
    await vi.waitFor(() => expect(bob.chat.get(a1.id)?.text).toBe('one (edited)'))
    bob.chat.markRead(a1.id)
    ann.chat.markRead(b1.id)
    bob.chat.delete(b1.id)
    const a2 = ann.chat.send('to be removed by an admin')
    await vi.waitFor(() => expect(root.chat.get(a2.id)).toBeDefined())
    root.chat.delete(a2.id, { asAdmin: true })
    await converged()
    expect(ann.chat.messages().map((m) => m.text)).toEqual(['one (edited)'])
    expect(ann.chat.get(a1.id)?.reactions).toEqual({ '👍': ['ann', 'bob'] })
    expect(ann.chat.readBy(a1.id)).toEqual(['ann', 'bob'])
  })

  it('never refuses offline work synced later, even concurrent with an admin deleting the same messages', async () => {
    const { ann, bob, root, annClient, converged } = await users()
    const [m1, m2, m3] = ['first', 'second', 'third'].map((t) => ann.chat.send(t)) as [ReturnType<typeof ann.chat.send>, ReturnType<typeof ann.chat.send>, ReturnType<typeof ann.chat.send>]
    await converged()

    annClient.pause()
    await vi.waitFor(() => expect(annClient.status).toBe('offline'))
    // Offline: ann sends, edits (twice), reacts and unreacts, reads, deletes.
    const m4 = ann.chat.send('written offline')
    ann.chat.edit(m4.id, 'written offline (edited)')
    ann.chat.react(m4.id, '👀')
    ann.chat.react(m2.id, '👍')
    ann.chat.react(m2.id, '👍')
    ann.chat.react(m2.id, '🎉')
    ann.chat.edit(m1.id, 'first, edited offline')
    ann.chat.edit(m1.id, 'first, edited offline twice')
    ann.chat.delete(m3.id)
    const m5 = ann.chat.send('sent and deleted offline')
    ann.chat.delete(m5.id)
    ann.chat.markRead(m4.id)
    // Meanwhile, online: the admin deletes m1 and m3, bob reacts to m2.
    root.chat.delete(m1.id, { asAdmin: true })
    root.chat.delete(m3.id, { asAdmin: true })
    bob.chat.react(m2.id, '🎉')
    await Promise.all([roomSaved(root), roomSaved(bob)])

    annClient.resume()
    await converged()
    expect(ann.chat.messages().map((m) => m.text)).toEqual(['second', 'written offline (edited)'])
    expect(bob.chat.get(m1.id)).toMatchObject({ deleted: true, text: '' })
    expect(bob.chat.get(m3.id)).toMatchObject({ deleted: true, text: '' })
    expect(bob.chat.get(m5.id)).toMatchObject({ deleted: true, deletedBy: 'ann' })
    expect(bob.chat.get(m2.id)?.reactions).toEqual({ '🎉': ['ann', 'bob'] })
    expect(bob.chat.readBy(m4.id)).toEqual(['ann'])
  })

  it('never refuses offline work sent after a reload as one SyncStep2 (deleted items included), concurrent with an admin', async () => {
    const { server, bob, root } = await users()
    const store = memoryStore()
    const token = () => tokenFor('ann', { 'team/*': 'write' })
    const first = collabClient(server.url, 'ann', { token, offline: store }).room(ROOM)
    await first.synced
    const [m1, m2, m3] = ['first', 'second', 'third'].map((t) => first.chat.send(t)) as [ReturnType<typeof first.chat.send>, ReturnType<typeof first.chat.send>, ReturnType<typeof first.chat.send>]
    await roomSaved(first)

    // A page that never gets online: everything goes to the local store only.
    const offlineClient = collabClient(server.url, 'ann', { token, offline: store, startPaused: true })
    const offline = offlineClient.room(ROOM)
    await offline.loaded
    offline.chat.edit(m1.id, 'first, edited offline')
    offline.chat.edit(m1.id, 'first, edited offline twice')
    offline.chat.react(m2.id, '👍')
    offline.chat.react(m2.id, '👍')
    offline.chat.react(m2.id, '🎉')
    offline.chat.delete(m3.id)
    const m4 = offline.chat.send('written offline')
    offline.chat.edit(m4.id, 'written offline (edited)')
    const m5 = offline.chat.send('sent and deleted offline')
    offline.chat.delete(m5.id)
    offline.chat.markRead(m4.id)
    offlineClient.close()
    // Meanwhile the admin deletes m1 and m3, bob reacts to m2 (once the messages reached them).
    await vi.waitFor(() => {
      for (const id of [m1.id, m2.id, m3.id]) {
        expect(root.chat.get(id)).toBeDefined()
        expect(bob.chat.get(id)).toBeDefined()
      }
    })
    root.chat.delete(m1.id, { asAdmin: true })
    root.chat.delete(m3.id, { asAdmin: true })
    bob.chat.react(m2.id, '🎉')
    await Promise.all([roomSaved(root), roomSaved(bob)])

    const closed: Array<number | undefined> = []
    const reloaded = collabClient(server.url, 'ann', { token, offline: store }).room(ROOM)
    reloaded.on('closed', (e) => closed.push(e.code))
    await reloaded.synced
    await roomSaved(reloaded, 20_000)
    await vi.waitFor(() => expect(chatStateOf(bob)).toEqual(chatStateOf(reloaded)))
    expect(closed).toEqual([])
    expect(chatStateOf(reloaded)).toEqual(chatState(server.hocuspocus.documents.get(ROOM)!))
    expect(bob.chat.messages().map((m) => m.text)).toEqual(['second', 'written offline (edited)'])
    expect(bob.chat.get(m3.id)).toMatchObject({ deleted: true, text: '' })
    expect(bob.chat.get(m2.id)?.reactions).toEqual({ '🎉': ['ann', 'bob'] })
  })
})
