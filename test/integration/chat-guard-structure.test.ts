/**
 * Chat integrity against Yjs-level tricks: immutable fields, replaced maps,
 * unknown keys, duplicate ids, undeleting; and what open mode (no identity)
 * still enforces.
 */
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import type { Room } from '../../client/index.ts'
import { expectRefused, messageMap, newMessage, plainWriter } from '../helpers/chat-forge.ts'
import { settled } from '../helpers/clients.ts'
import { collabClient, roomSaved } from '../helpers/collab.ts'
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
