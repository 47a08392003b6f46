import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { MessageKey, SharedNames, createMessageMap } from '../../client/model.ts'
import { call, docPath, httpBase, makeUpdate } from '../helpers/rest.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

interface Message {
  id: string
  author: string
  name: string
  text: string
  createdAt: number
  deleted: boolean
  replyTo?: string
  reactions: Record<string, string[]>
}

/** A room with messages m0…m(n-1), as docs/chat-data-model.md lays them out, plus what readers must skip. */
function room(n: number): Uint8Array {
  return makeUpdate((doc) => {
    const chat = doc.getArray(SharedNames.chat)
    for (let i = 0; i < n; i++) {
      doc.transact(() => {
        const m = createMessageMap({ id: `m${i}`, author: i % 2 ? 'bob' : 'ada', name: i % 2 ? 'Bob' : 'Ada', text: `message ${i}`, createdAt: 1_700_000_000_000 + i, replyTo: i === 3 ? 'm2' : undefined })
        chat.push([m])
        if (i === 4) (m.get(MessageKey.reactions) as Y.Map<string[]>).set('bob', ['👍'])
      })
    }
    doc.transact(() => {
      chat.push(['not a message', new Y.Map()]) // skipped: not version-1 message maps
      chat.push([createMessageMap({ id: 'm1', author: 'eve', name: 'Eve', text: 'duplicate id', createdAt: 0 })]) // skipped: the first m1 wins
      const gone = createMessageMap({ id: 'gone', author: 'ada', name: 'Ada', text: 'secret', createdAt: 0 })
      gone.set(MessageKey.text, '')
      gone.set(MessageKey.deleted, true)
      chat.push([gone]) // a tombstone: hidden
    })
  })
}

describe('REST chat history', () => {
  it('pages backwards with before/limit, oldest first, following the chat data model', async () => {
    const server = await startServer(TOKEN_MODE)
    const base = httpBase(server.url)
    const writer = await tokenFor('ada', { 'team/*': 'write' })
    // Written to storage directly, as data from before the chat rules were enforced: readers must cope with it.
    await server.storage.append('team/room', room(12))

    const reader = await tokenFor('bob', { 'team/*': 'read' })
    const last = await call(base, 'GET', docPath('team/room', '/chat?limit=5'), { token: reader })
    expect(last.status).toBe(200)
    const page1 = last.json.messages as Message[]
    expect(page1.map((m) => m.id)).toEqual(['m7', 'm8', 'm9', 'm10', 'm11'])
    expect(last.json.hasMore).toBe(true)
    expect(page1[0]).toMatchObject({ author: 'bob', name: 'Bob', text: 'message 7', createdAt: 1_700_000_000_007, deleted: false })

    const before = await call(base, 'GET', docPath('team/room', '/chat?limit=5&before=m7'), { token: reader })
    const page2 = before.json.messages as Message[]
    expect(page2.map((m) => m.id)).toEqual(['m2', 'm3', 'm4', 'm5', 'm6'])
    expect(page2.find((m) => m.id === 'm3')!.replyTo).toBe('m2')
    expect(page2.find((m) => m.id === 'm4')!.reactions).toEqual({ '👍': ['bob'] })

    const rest = await call(base, 'GET', docPath('team/room', '/chat?before=m2'), { token: reader })
    expect((rest.json.messages as Message[]).map((m) => [m.id, m.text])).toEqual([['m0', 'message 0'], ['m1', 'message 1']])
    expect(rest.json.hasMore).toBe(false)

    const unknown = await call(base, 'GET', docPath('team/room', '/chat?before=nope'), { token: reader })
    expect([unknown.status, unknown.json.error]).toEqual([404, 'not-found'])
    const tooMany = await call(base, 'GET', docPath('team/room', '/chat?limit=100000'), { token: reader })
    expect([tooMany.status, tooMany.json.error]).toEqual([400, 'bad-request'])
    // A room without a chat: an empty page, not an error.
    expect((await call(base, 'POST', docPath('team/quiet', '/updates'), { token: writer, body: makeUpdate((d) => d.getText('codemirror').insert(0, 'x')) })).status).toBe(200)
    const quiet = await call(base, 'GET', docPath('team/quiet', '/chat'), { token: reader })
    expect([quiet.status, quiet.json.messages, quiet.json.hasMore]).toEqual([200, [], false])
  })

  it('REST writes obey the chat rules like socket updates: one’s own messages only, refused whole with 422 policy-violation', async () => {
    const server = await startServer(TOKEN_MODE)
    const base = httpBase(server.url)
    const bob = await tokenFor('bob', { 'team/*': 'write' })
    const post = (body: Uint8Array) => call(base, 'POST', docPath('team/rules', '/updates'), { token: bob, body })
    const message = (id: string, author: string) =>
      makeUpdate((doc) => doc.getArray(SharedNames.chat).push([createMessageMap({ id, author, name: author, text: `by ${author}`, createdAt: Date.now() })]))
    expect((await post(message('own', 'bob'))).status).toBe(200)
    const forged = await post(message('forged', 'ada'))
    expect([forged.status, forged.json.error]).toEqual([422, 'policy-violation'])
    const junk = await post(makeUpdate((doc) => doc.getArray(SharedNames.chat).push(['not a message'])))
    expect([junk.status, junk.json.error]).toEqual([422, 'policy-violation'])
    const messages = (await call(base, 'GET', docPath('team/rules', '/chat'), { token: bob })).json.messages as Message[]
    expect(messages.map((m) => [m.id, m.author])).toEqual([['own', 'bob']])
    expect((await server.storage.load('team/rules')).updates).toHaveLength(1)
  })
})
