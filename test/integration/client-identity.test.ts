/**
 * With tokens, the client takes the user's identity from the token: no
 * `user.id` means the token's `sub` (and name); a `user.id` that disagrees is
 * refused at once, with a named error — not by the server on the first chat
 * message. A read-only token makes the room say so (`room.readOnly`).
 */
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { CollabClient, IdentityMismatchError } from '../../client/index.ts'
import { FAST_RECONNECT, roomSaved } from '../helpers/collab.ts'
import { startServer } from '../helpers/server.ts'
import { sign, TOKEN_MODE } from '../helpers/tokens.ts'

const ROOM = 'team/notes'
const WRITE = { 'team/*': 'write' }

function client(url: string, options: Omit<ConstructorParameters<typeof CollabClient>[0], 'url'>): CollabClient {
  const c = new CollabClient({ url, reconnect: FAST_RECONNECT, offline: false, ...options })
  onTestFinished(() => c.close())
  return c
}

describe('identity from the token', () => {
  it('no user.id: the client is the token’s user, and its messages are saved', async () => {
    const server = await startServer(TOKEN_MODE)
    const ada = client(server.url, { token: await sign({ sub: 'ada', name: 'Ada L.', docs: WRITE }) })
    expect(ada.user).toMatchObject({ id: 'ada', name: 'Ada L.' })
    const room = ada.room(ROOM)
    await room.synced
    const sent = room.chat.send('hello from the token’s user')
    await roomSaved(room)
    expect(room.chat.get(sent.id)).toMatchObject({ author: 'ada', name: 'Ada L.', status: 'saved' })
  })

  it('a user.id that is not the token’s sub is refused at once with IdentityMismatchError', async () => {
    const server = await startServer(TOKEN_MODE)
    const token = await sign({ sub: 'ada', docs: WRITE })
    let thrown: unknown
    try {
      client(server.url, { token, user: { id: 'u-7dea19e941949d1c', name: 'Guest' } })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(IdentityMismatchError)
    expect(thrown).toMatchObject({ code: 'identity-mismatch', userId: 'u-7dea19e941949d1c', tokenSub: 'ada' })
  })

  it('a token function giving another user’s token: stopped at join (kind identity), before any message is refused', async () => {
    const server = await startServer(TOKEN_MODE)
    const bob = client(server.url, { token: () => sign({ sub: 'ada', docs: WRITE }), user: { id: 'bob', name: 'Bob' } })
    const room = bob.room(ROOM)
    const denied: unknown[] = []
    room.on('denied', (event) => denied.push(event))
    await vi.waitFor(() => expect(bob.stopped).toMatchObject({ kind: 'identity', reason: 'identity-mismatch' }))
    expect(bob.stopped?.error).toBeInstanceOf(IdentityMismatchError)
    expect(bob.stopped?.code).toBeUndefined() // the client's own refusal, no close code from the server
    expect(denied).toEqual([]) // not reported as the room refusing this user
    expect(room.isSynced).toBe(false)
  })

  it('open mode (no JWT): user.id is required and used as given', async () => {
    const server = await startServer()
    expect(() => client(server.url, { token: 'dev' })).toThrow(TypeError)
    const ann = client(server.url, { token: 'dev', user: { id: 'ann', name: 'Ann' } })
    expect(ann.user).toMatchObject({ id: 'ann', name: 'Ann' })
  })
})

describe('room.readOnly', () => {
  it('true with a read token, false with a write token; the access event says so at join', async () => {
    const server = await startServer(TOKEN_MODE)
    const reader = client(server.url, { token: await sign({ sub: 'rita', docs: { 'team/*': 'read' } }) }).room(ROOM)
    const writer = client(server.url, { token: await sign({ sub: 'wes', docs: WRITE }) }).room(ROOM)
    const events: unknown[] = []
    reader.on('access', (event) => events.push(event))
    await reader.synced
    await writer.synced
    await vi.waitFor(() => expect(reader.readOnly).toBe(true))
    expect(events).toEqual([{ readOnly: true }])
    expect(writer.readOnly).toBe(false)
  })
})
