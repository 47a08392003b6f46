/**
 * The chat data model is a contract: a program that knows nothing of our
 * client — plain Yjs and @hocuspocus/provider, written from
 * docs/chat-data-model.md alone — reads and writes the same chat. This file
 * deliberately imports nothing from client/ but its types for the checks.
 */
import { HocuspocusProvider } from '@hocuspocus/provider'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import * as Y from 'yjs'
import { collabClient, roomSaved } from '../helpers/collab.ts'
import { startServer } from '../helpers/server.ts'

/** What the plain program shows of a message (docs/chat-data-model.md, "Reading"). */
interface Shown {
  id: string
  author: string
  name: string
  text: string
  replyTo?: string
  reactions: Record<string, string[]>
}

function readChat(doc: Y.Doc): Shown[] {
  const shown: Shown[] = []
  for (const entry of doc.getArray<unknown>('chat').toArray()) {
    if (!(entry instanceof Y.Map) || entry.get('v') !== 1 || entry.get('deleted') === true) continue
    const id = entry.get('id')
    const author = entry.get('author')
    if (typeof id !== 'string' || typeof author !== 'string') continue
    const reactions: Record<string, string[]> = {}
    const byUser = entry.get('reactions')
    if (byUser instanceof Y.Map) {
      for (const [user, emojis] of byUser.entries()) {
        for (const emoji of emojis as string[]) (reactions[emoji] ??= []).push(user)
      }
    }
    for (const users of Object.values(reactions)) users.sort()
    const replyTo = entry.get('replyTo')
    shown.push({
      id,
      author,
      name: String(entry.get('name') ?? author),
      text: String(entry.get('text')),
      ...(typeof replyTo === 'string' ? { replyTo } : {}),
      reactions,
    })
  }
  return shown
}

function appendMessage(doc: Y.Doc, fields: { id: string; author: string; name: string; text: string; replyTo?: string }) {
  const message = new Y.Map<unknown>()
  message.set('v', 1)
  message.set('id', fields.id)
  message.set('author', fields.author)
  message.set('name', fields.name)
  message.set('text', fields.text)
  message.set('createdAt', Date.now())
  if (fields.replyTo) message.set('replyTo', fields.replyTo)
  message.set('reactions', new Y.Map())
  doc.getArray('chat').push([message])
}

describe('the chat data model (docs/chat-data-model.md) as a contract', () => {
  it('lets a plain Yjs + provider program read and append chat messages', async () => {
    const server = await startServer()
    const ours = collabClient(server.url, 'ann').room('contract')
    await ours.synced
    const hello = ours.chat.send('hello from our client')
    ours.chat.edit(hello.id, 'hello from our client (edited)')
    ours.chat.react(hello.id, '👍')
    ours.chat.delete(ours.chat.send('gone').id)

    // The plain program: its own document and provider, nothing else.
    const doc = new Y.Doc()
    const plain = new HocuspocusProvider({ url: server.url, name: 'contract', document: doc, token: 'open' })
    onTestFinished(() => plain.destroy())
    await vi.waitFor(() => expect(plain.isSynced).toBe(true))
    await vi.waitFor(() => expect(readChat(doc)).toHaveLength(1))
    expect(readChat(doc)).toEqual([
      { id: hello.id, author: 'ann', name: 'Ann', text: 'hello from our client (edited)', reactions: { '👍': ['ann'] } },
    ])

    // It appends a reply, reacts as its own user, and marks the message read.
    doc.transact(() => appendMessage(doc, { id: 'plain-1', author: 'plain', name: 'Plain', text: 'hi back', replyTo: hello.id }))
    const target = doc.getArray<Y.Map<unknown>>('chat').toArray().find((m) => m.get('id') === hello.id)!
    ;(target.get('reactions') as Y.Map<string[]>).set('plain', ['👍', '🎉'])
    doc.getMap('chat-reads').set('plain', { id: 'plain-1', at: Date.now() })

    await vi.waitFor(() => expect(ours.chat.messages()).toHaveLength(2))
    expect(ours.chat.messages()[1]).toMatchObject({ id: 'plain-1', author: 'plain', name: 'Plain', text: 'hi back', replyTo: hello.id })
    await vi.waitFor(() => expect(ours.chat.get(hello.id)?.reactions).toEqual({ '👍': ['ann', 'plain'], '🎉': ['plain'] }))
    await vi.waitFor(() => expect(ours.chat.readBy(hello.id)).toEqual(['plain']))
    expect(ours.chat.readBy('plain-1')).toEqual(['plain'])

    // Our client's reply reaches the plain program as the document describes it.
    const answer = ours.chat.send('welcome, plain', { replyTo: 'plain-1' })
    await roomSaved(ours)
    await vi.waitFor(() => expect(readChat(doc).at(-1)).toEqual({
      id: answer.id,
      author: 'ann',
      name: 'Ann',
      text: 'welcome, plain',
      replyTo: 'plain-1',
      reactions: {},
    }))
  })
})
