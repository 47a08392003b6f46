import type { Connection } from '@hocuspocus/server'
import { describe, expect, it, vi } from 'vitest'
import { CloseCode, documentCloseReason } from '../../client/protocol.ts'
import { collabClient, roomSaved, texts } from '../helpers/collab.ts'
import { startServer } from '../helpers/server.ts'

describe('authentication failure', () => {
  it('stops the client, reports why, and does not retry', async () => {
    const attempts: string[] = []
    const server = await startServer(
      {},
      {
        extensions: [
          {
            async onAuthenticate({ token }: { token: string }) {
              attempts.push(token)
              if (token === 'bad') throw new Error('nope')
            },
          },
        ],
      },
    )
    const client = collabClient(server.url, 'mallory', { token: 'bad' })
    const stopped: unknown[] = []
    client.on('stopped', (reason) => stopped.push(reason))
    const room = client.room('r')
    room.chat.send('let me in')

    await vi.waitFor(() => expect(client.stopped).toMatchObject({ kind: 'auth', reason: expect.any(String) }))
    expect(stopped).toEqual([client.stopped])
    await vi.waitFor(() => expect(client.status).toBe('offline'))
    expect(room.isSynced).toBe(false)
    expect(room.unsaved).toBe(true)

    // A good client does a full round trip meanwhile; the stopped one has not come back
    // (it would retry within ~50 ms with the test's reconnect settings).
    const good = collabClient(server.url, 'ann').room('r')
    await good.synced
    good.chat.send('hello')
    await roomSaved(good)
    expect(attempts.filter((t) => t === 'bad')).toEqual(['bad'])
    expect(client.status).toBe('offline')
    expect(texts(good)).toEqual(['hello'])

    // A token function is asked again on resume (e.g. after the app got a fresh login).
    let token = 'bad'
    const refreshing = collabClient(server.url, 'ann', { token: async () => token })
    const r2 = refreshing.room('r')
    await vi.waitFor(() => expect(refreshing.stopped?.kind).toBe('auth'))
    token = 'good'
    refreshing.resume()
    await r2.synced
    expect(refreshing.stopped).toBe(null)
    expect(texts(r2)).toEqual(['hello'])
  })
})

describe('resume right after a stop', () => {
  it('resumed while the refused socket is still closing: the room syncs on the new socket', async () => {
    const server = await startServer(
      {},
      {
        extensions: [
          {
            async onAuthenticate({ token }: { token: string }) {
              if (token === 'bad') throw new Error('nope')
            },
          },
        ],
      },
    )
    let token = 'bad'
    const client = collabClient(server.url, 'ann', { token: async () => token })
    // In the same turn as the stop: its disconnect has only begun closing the socket.
    client.on('stopped', () => {
      token = 'good'
      client.resume()
    })
    const room = client.room('r')
    await room.synced
    room.chat.send('after the resume')
    await roomSaved(room)
    expect(client.stopped).toBe(null)
  })
})

describe('pause right after a resume that waits for the old socket', () => {
  it('stays paused: the old socket’s close does not connect it again', async () => {
    const server = await startServer()
    const client = collabClient(server.url, 'ann')
    const room = client.room('r')
    await room.synced
    client.pause()
    client.resume() // the socket is still closing: this resume waits for its close
    client.pause()
    // Another client's full round trip is the barrier: by then the first socket's close has long come.
    const other = collabClient(server.url, 'bob').room('r')
    await other.synced
    other.chat.send('hello')
    await roomSaved(other)
    await vi.waitFor(() => expect(server.hocuspocus.getConnectionsCount()).toBe(1))
    expect(client.status).toBe('offline')
  })
})

describe('token refresh', () => {
  it('asks the token function again when the server requests a fresh token', async () => {
    const synced: string[] = []
    let connection: Connection | undefined
    const server = await startServer(
      {},
      {
        extensions: [
          {
            async connected(payload: { connection: Connection }) {
              connection = payload.connection
            },
            async onTokenSync({ token }: { token: string }) {
              synced.push(token)
            },
          },
        ],
      },
    )
    let issued = 0
    const client = collabClient(server.url, 'ann', { token: async () => `token-${++issued}` })
    const room = client.room('r')
    await room.synced
    await vi.waitFor(() => expect(connection).toBeDefined())
    expect(issued).toBe(1)

    connection!.requestToken()
    await vi.waitFor(() => expect(synced).toEqual(['token-2']))
    // The room carries on as before.
    room.chat.send('still in')
    await roomSaved(room)
    expect(texts(room)).toEqual(['still in'])
  })
})

describe('expired token', () => {
  it('asks the token function again and gets in, instead of stopping', async () => {
    const server = await startServer(
      {},
      {
        extensions: [
          {
            async onAuthenticate({ token }: { token: string }) {
              if (token !== 'fresh') throw Object.assign(new Error('expired'), { reason: documentCloseReason(CloseCode.TokenExpired) })
            },
          },
        ],
      },
    )
    const tokens = ['stale', 'stale', 'fresh']
    const asked: string[] = []
    const client = collabClient(server.url, 'ann', { token: async () => asked[asked.push(tokens[asked.length] ?? 'fresh') - 1]! })
    const room = client.room('r')
    const denied: unknown[] = []
    room.on('denied', (d) => denied.push(d))
    await room.synced
    expect(asked).toEqual(['stale', 'stale', 'fresh'])
    expect(denied).toEqual([{ reason: documentCloseReason(CloseCode.TokenExpired) }, { reason: documentCloseReason(CloseCode.TokenExpired) }])
    expect(client.stopped).toBe(null)

    // A fixed token cannot get any fresher: that client stops and says why.
    const fixed = collabClient(server.url, 'bob', { token: 'stale' })
    fixed.room('r')
    await vi.waitFor(() => expect(fixed.stopped).toEqual({ kind: 'auth', reason: documentCloseReason(CloseCode.TokenExpired), code: CloseCode.TokenExpired.code }))
  })
})
