/**
 * Chat integrity (issue 6, part 1): another user's message, reactions and read
 * mark cannot be forged, edited or deleted. B writes with a plain Y.Doc synced
 * from the server, as any Yjs program could; A and C use our client.
 */
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import type { Room } from '../../client/index.ts'
import { acks } from '../helpers/auth.ts'
import { chatState, expectChatEverywhere, expectRefused, messageMap, newMessage, plainWriter, POLICY_VIOLATION } from '../helpers/chat-forge.ts'
import { settled } from '../helpers/clients.ts'
import { collabClient, roomSaved } from '../helpers/collab.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

const ROOM = 'team/chat'
const WRITE = { 'team/*': 'write' }

/** A token-mode room where ann wrote a message (with her reaction and read mark) and bob one of his own. */
async function room() {
  const server = await startServer(TOKEN_MODE)
  const client = (id: string, docs: Record<string, string> = WRITE) => collabClient(server.url, id, { token: () => tokenFor(id, docs) }).room(ROOM)
  const [ann, bob, cy] = [client('ann'), client('bob'), client('cy')] as [Room, Room, Room]
  await Promise.all([ann.synced, bob.synced, cy.synced])
  const annMsg = ann.chat.send('hello from ann')
  ann.chat.react(annMsg.id, '👍')
  ann.chat.markRead(annMsg.id)
  const bobMsg = bob.chat.send('hello from bob')
  await Promise.all([roomSaved(ann), roomSaved(bob)])
  await vi.waitFor(() => expect(cy.chat.messages()).toHaveLength(2))
  const before = chatState(server.hocuspocus.documents.get(ROOM)!)
  /** B: a plain Yjs writer with bob's token. */
  const mallory = async () => plainWriter(server, ROOM, await tokenFor('bob', WRITE))
  const intact = () => expectChatEverywhere(server, ROOM, before, ann, [ann, bob, cy])
  return { server, client, ann, bob, cy, annMsg, bobMsg, before, mallory, intact }
}

describe('chat guard: one user cannot touch another user’s chat', () => {
  it('B forging a message with A as author is refused with 4422; nothing of it anywhere', async () => {
    const { mallory, intact, server } = await room()
    const b = await mallory()
    const sent = acks(b.provider)
    b.doc.getArray('chat').push([newMessage({ id: 'forged-1', author: 'ann', name: 'Ann', text: 'I owe bob 100 €' })])
    await expectRefused(b)
    expect(sent).toEqual([])
    await intact()
    // Operators see it: the refusal is counted by rule.
    expect(await server.metrics.registry.getSingleMetricAsString('collab_writes_refused_total')).toMatch(/collab_writes_refused_total\{door="socket",reason="policy-violation",rule="[^"]+"\} 1/)
  })

  it('B editing A’s message (its text, or any key of its map) is refused; A’s message intact in memory, on disk and at every client', async () => {
    const { mallory, intact, annMsg } = await room()
    const b = await mallory()
    b.doc.transact(() => {
      const m = messageMap(b.doc, annMsg.id)
      m.set('text', 'ann says bob is right')
      m.set('editedAt', Date.now())
    })
    await expectRefused(b)
    // Nor may B add keys to A's message map, or overwrite its author.
    for (const [key, value] of [['editedAt', Date.now()], ['replyTo', 'another-id'], ['author', 'bob']] as const) {
      const again = await mallory()
      messageMap(again.doc, annMsg.id).set(key, value)
      await expectRefused(again)
    }
    await intact()
  })

  it('B deleting A’s message is refused: as a tombstone, by removing the entry, or by moving it', async () => {
    const { mallory, intact, annMsg } = await room()
    const tombstone = await mallory()
    tombstone.doc.transact(() => {
      const m = messageMap(tombstone.doc, annMsg.id)
      m.set('text', '')
      m.set('deleted', true)
      m.set('deletedAt', Date.now())
      m.set('deletedBy', 'bob')
    })
    await expectRefused(tombstone)

    const removal = await mallory()
    const chat = removal.doc.getArray<Y.Map<unknown>>('chat')
    chat.delete(chat.toArray().findIndex((m) => m.get('id') === annMsg.id), 1)
    await expectRefused(removal)

    // "Moving" = removing the entry and pushing a copy at the end.
    const move = await mallory()
    const array = move.doc.getArray<Y.Map<unknown>>('chat')
    move.doc.transact(() => {
      const index = array.toArray().findIndex((m) => m.get('id') === annMsg.id)
      array.delete(index, 1)
      array.push([newMessage({ id: annMsg.id, author: 'ann', name: 'Ann', text: 'hello from ann' })])
    })
    await expectRefused(move)
    await intact()
  })

  it('B changing A’s reactions or A’s read mark is refused', async () => {
    const { mallory, intact, annMsg, bobMsg } = await room()
    const unreact = await mallory()
    ;(messageMap(unreact.doc, annMsg.id).get('reactions') as Y.Map<unknown>).delete('ann')
    await expectRefused(unreact)

    const react = await mallory()
    ;(messageMap(react.doc, bobMsg.id).get('reactions') as Y.Map<unknown>).set('ann', ['💩'])
    await expectRefused(react)

    const read = await mallory()
    read.doc.getMap('chat-reads').set('ann', { id: bobMsg.id, at: Date.now() })
    await expectRefused(read)

    const unread = await mallory()
    unread.doc.getMap('chat-reads').delete('ann')
    await expectRefused(unread)
    await intact()
  })

  it('an update with a legitimate change and a forbidden one is refused whole', async () => {
    const { server, mallory, intact, annMsg, bobMsg } = await room()
    const b = await mallory()
    b.doc.transact(() => {
      messageMap(b.doc, bobMsg.id).set('text', 'bob edits his own message')
      b.doc.getText('codemirror').insert(0, 'and some text')
      ;(messageMap(b.doc, bobMsg.id).get('reactions') as Y.Map<unknown>).set('bob', ['🎉'])
      const annReactions = messageMap(b.doc, annMsg.id).get('reactions') as Y.Map<unknown>
      annReactions.delete('ann')
    })
    await expectRefused(b)
    await intact()
    expect(server.hocuspocus.documents.get(ROOM)!.getText('codemirror').toString()).not.toContain('and some text')
  })
})

describe('chat guard: what users may do', () => {
  it('B deletes B’s own message, an admin deletes A’s; B’s own reactions, read mark and non-chat edits pass', async () => {
    const { server, client, ann, bob, cy, annMsg, bobMsg, mallory } = await room()
    const closed: Array<number | undefined> = []
    for (const r of [ann, bob, cy]) r.on('closed', (e) => closed.push(e.code))

    bob.chat.delete(bobMsg.id)
    bob.chat.react(annMsg.id, '🎉')
    bob.chat.markRead(annMsg.id)
    await roomSaved(bob)
    const admin = client('root', { 'team/*': 'admin' })
    await admin.synced
    admin.chat.delete(annMsg.id, { asAdmin: true })
    await roomSaved(admin)
    await vi.waitFor(() => {
      expect(cy.chat.get(bobMsg.id)).toMatchObject({ deleted: true, deletedBy: 'bob', text: '' })
      expect(cy.chat.get(annMsg.id)).toMatchObject({ deleted: true, deletedBy: 'root', text: '' })
      expect(cy.chat.readBy(annMsg.id)).toEqual(['ann', 'bob'])
    })

    // A plain Yjs program as bob: non-chat edits, its own message and reaction.
    const b = await mallory()
    b.doc.transact(() => {
      b.doc.getText('codemirror').insert(0, 'plain text edit ')
      b.doc.getXmlFragment('prosemirror').insert(0, [new Y.XmlElement('paragraph')])
      b.doc.getMap('settings').set('theme', 'dark')
    })
    await settled(b.provider)
    b.doc.getArray('chat').push([newMessage({ id: 'plain-bob', author: 'bob', text: 'from a plain program' })])
    await settled(b.provider)
    ;(messageMap(b.doc, 'plain-bob').get('reactions') as Y.Map<unknown>).set('bob', ['👍'])
    await settled(b.provider)
    await vi.waitFor(() => expect(cy.chat.get('plain-bob')).toMatchObject({ author: 'bob', reactions: { '👍': ['bob'] } }))
    expect(b.closed.map((c) => c.reason)).not.toContain(POLICY_VIOLATION)
    expect(server.hocuspocus.documents.get(ROOM)!.getText('codemirror').toString()).toContain('plain text edit ')
    expect(closed).toEqual([])
  })
})
