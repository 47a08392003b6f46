import { describe, expect, it, vi } from 'vitest'
import { ChatError, type ChatMessage, type Room } from '../../client/index.ts'
import { collabClient, roomSaved } from '../helpers/collab.ts'
import { startServer } from '../helpers/server.ts'

/** Three users in one room, each on their own client and socket. */
async function threeInARoom(room = 'team') {
  const server = await startServer()
  const clients = ['ann', 'bob', 'cy'].map((id) => collabClient(server.url, id))
  const [ann, bob, cy] = clients.map((c) => c.room(room)) as [Room, Room, Room]
  await Promise.all([ann.synced, bob.synced, cy.synced])
  return { server, ann, bob, cy }
}

describe('chat between three clients', () => {
  it('delivers every message to everyone in the same order, pending then saved', async () => {
    const { server, ann, bob, cy } = await threeInARoom()
    const seenByBob: string[] = []
    bob.chat.on('message', (m) => seenByBob.push(m.text))
    const annChanges: ChatMessage[] = []
    ann.chat.on('change', (m) => annChanges.push(m))

    const first = ann.chat.send('hello from ann')
    expect(first).toMatchObject({ author: 'ann', text: 'hello from ann', status: 'pending' })
    expect(typeof first.id).toBe('string')
    expect(first.createdAt).toBeGreaterThan(0)
    // Concurrent sends from all three.
    bob.chat.send('bob one')
    cy.chat.send('cy one')
    ann.chat.send('ann two')
    const reply = bob.chat.send('bob replies', { replyTo: first.id })
    expect(reply.replyTo).toBe(first.id)

    await vi.waitFor(() => {
      for (const room of [ann, bob, cy]) expect(room.chat.messages()).toHaveLength(5)
    })
    const order = ann.chat.messages().map((m) => m.id)
    expect(bob.chat.messages().map((m) => m.id)).toEqual(order)
    expect(cy.chat.messages().map((m) => m.id)).toEqual(order)
    expect(new Set(order).size).toBe(5)
    expect(seenByBob.sort()).toEqual(['ann two', 'bob one', 'bob replies', 'cy one', 'hello from ann'])

    // The server acknowledges (= stores) everything: pending turns into saved, with an event.
    await Promise.all([ann, bob, cy].map((r) => roomSaved(r)))
    await vi.waitFor(() => {
      for (const room of [ann, bob, cy]) expect(room.chat.messages().every((m) => m.status === 'saved')).toBe(true)
    })
    expect(ann.chat.get(first.id)?.status).toBe('saved')
    expect(annChanges).toContainEqual(expect.objectContaining({ id: first.id, status: 'saved' }))

    // A newcomer reads the same order from the server.
    const late = collabClient(server.url, 'dee').room('team')
    await late.synced
    expect(late.chat.messages().map((m) => m.id)).toEqual(order)
    expect(late.chat.get(reply.id)).toMatchObject({ author: 'bob', name: 'Bob', replyTo: first.id, status: 'saved' })
  })

  it('pages history backwards from a message, "last N" style', async () => {
    const { ann, bob } = await threeInARoom()
    for (let i = 0; i < 25; i++) ann.chat.send(`m${i}`)
    await vi.waitFor(() => expect(bob.chat.messages()).toHaveLength(25))

    const last10 = bob.chat.history({ limit: 10 })
    expect(last10.map((m) => m.text)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i + 15}`))
    const before = bob.chat.history({ before: last10[0]!.id, limit: 10 })
    expect(before.map((m) => m.text)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i + 5}`))
    const rest = bob.chat.history({ before: before[0]!.id, limit: 10 })
    expect(rest.map((m) => m.text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'])
    expect(bob.chat.history({ before: rest[0]!.id, limit: 10 })).toEqual([])
    expect(() => bob.chat.history({ before: 'no-such-id', limit: 10 })).toThrow(ChatError)
  })

  it('lets an author edit and delete only their own messages', async () => {
    const { ann, bob, cy } = await threeInARoom()
    const msg = ann.chat.send('frist')
    await vi.waitFor(() => expect(bob.chat.get(msg.id)).toBeDefined())

    expect(() => bob.chat.edit(msg.id, 'hijacked')).toThrow(expect.objectContaining({ code: 'not-author' }))
    expect(() => bob.chat.delete(msg.id)).toThrow(expect.objectContaining({ code: 'not-author' }))

    const changes: ChatMessage[] = []
    bob.chat.on('change', (m) => changes.push(m))
    ann.chat.edit(msg.id, 'first')
    await vi.waitFor(() => expect(bob.chat.get(msg.id)?.text).toBe('first'))
    expect(bob.chat.get(msg.id)?.editedAt).toBeGreaterThan(0)
    expect(changes.some((m) => m.id === msg.id && m.text === 'first')).toBe(true)

    const removed: string[] = []
    cy.chat.on('remove', (m) => removed.push(m.id))
    ann.chat.delete(msg.id)
    await vi.waitFor(() => expect(removed).toEqual([msg.id]))
    expect(cy.chat.messages()).toEqual([])
    expect(cy.chat.get(msg.id)).toMatchObject({ deleted: true, text: '' })
    expect(() => ann.chat.edit(msg.id, 'back')).toThrow(expect.objectContaining({ code: 'deleted' }))
    expect(bob.chat.messages()).toEqual([])
  })

  it('merges reactions and read receipts from several users', async () => {
    const { ann, bob, cy } = await threeInARoom()
    const m1 = ann.chat.send('one')
    const m2 = ann.chat.send('two')
    await vi.waitFor(() => {
      expect(bob.chat.messages()).toHaveLength(2)
      expect(cy.chat.messages()).toHaveLength(2)
    })

    expect(bob.chat.react(m1.id, '👍')).toBe(true)
    cy.chat.react(m1.id, '👍')
    cy.chat.react(m1.id, '🎉')
    ann.chat.react(m1.id, '👍')
    expect(ann.chat.react(m1.id, '👍')).toBe(false) // toggled off again
    await vi.waitFor(() => {
      for (const room of [ann, bob, cy]) expect(room.chat.get(m1.id)?.reactions).toEqual({ '👍': ['bob', 'cy'], '🎉': ['cy'] })
    })

    bob.chat.markRead(m2.id)
    cy.chat.markRead(m1.id)
    bob.chat.markRead(m1.id) // older than bob's mark: bob has still read m2
    await vi.waitFor(() => {
      for (const room of [ann, bob, cy]) {
        expect(room.chat.readBy(m1.id)).toEqual(['bob', 'cy'])
        expect(room.chat.readBy(m2.id)).toEqual(['bob'])
      }
    })
    await Promise.all([ann, bob, cy].map((r) => roomSaved(r)))
  })
})
