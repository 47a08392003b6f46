/**
 * The fallback through a proxy, and over time: a proxy that buffers every
 * answer (the stream never shows a byte: the client long-polls), and
 * token refresh on a session that outlives its first token.
 */
import { join } from 'node:path'
import { decodeJwt } from 'jose'
import { describe, expect, it, vi } from 'vitest'
import { HttpSocket } from '../../client/http-socket.ts'
import { collabClient, roomSaved } from '../helpers/collab.ts'
import { bufferingProxy } from '../helpers/buffering-proxy.ts'
import { spawnServer } from '../helpers/process.ts'
import { startServer, tempDir } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

const LONG = { timeout: 20_000, interval: 20 }

describe('HTTP fallback through proxies and over time', () => {
  it('behind a proxy that buffers the stream, the client long-polls and still edits both ways', async () => {
    const server = await startServer()
    const proxy = await bufferingProxy(Number(new URL(server.url).port))
    const sockets: HttpSocket[] = []
    // The client's socket class is an HttpSocket we can see from here (to read its mode); `transport: 'websocket'`
    // only means "use this class as it is".
    class Watched extends HttpSocket {
      constructor(url: string) {
        super(url, { stallMs: 1000 })
        sockets.push(this)
      }
    }
    const behind = collabClient(`ws://127.0.0.1:${proxy}/ws`, 'ann', { transport: 'websocket', WebSocketPolyfill: Watched })
    const direct = collabClient(server.url, 'bob')
    const ann = behind.room('r')
    const bob = direct.room('r')
    await Promise.all([ann.synced, bob.synced])
    expect(sockets.at(-1)!.mode).toBe('poll')
    ann.codemirror.insert(0, 'polled')
    await roomSaved(ann)
    await vi.waitFor(() => expect(bob.codemirror.toString()).toBe('polled'))
    bob.codemirror.insert(6, ' and back')
    await vi.waitFor(() => expect(ann.codemirror.toString()).toBe('polled and back'))
  })

  it('a session outlives its first token: fresh ones keep the room open and the stream reopens with them', async () => {
    const server = await startServer(TOKEN_MODE)
    let issued = 0
    const token = async () => {
      issued += 1
      return tokenFor('ada', { r: 'write' }, { ttl: 2 })
    }
    const client = collabClient(server.url, 'ada', { transport: 'http', token })
    const room = client.room('r')
    await room.synced
    const first = decodeJwt(await token()).exp! * 1000
    const closed: unknown[] = []
    room.on('closed', (c) => closed.push(c))
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(first + 2500), LONG)
    expect(issued).toBeGreaterThanOrEqual(3)
    room.codemirror.insert(0, 'still here')
    await roomSaved(room)
    expect(closed).toEqual([])
    expect(client.transport).toBe('http')
    expect(server.hocuspocus.documents.get('r')!.getText('codemirror').toString()).toBe('still here')
  })
})

describe('HTTP fallback across a server restart and a stalled upgrade', () => {
  it('after a restart the session is gone: the client opens a new one, and what it typed meanwhile is saved', async () => {
    const db = join(tempDir(), 'collab.db')
    let server = await spawnServer({ DB_PATH: db })
    const client = collabClient(server.url, 'ann', { transport: 'http' })
    const room = client.room('r')
    await room.synced
    room.codemirror.insert(0, 'before. ')
    await roomSaved(room)
    server.proc.kill('SIGKILL')
    await server.exited
    room.codemirror.insert(8, 'while down.')
    server = await spawnServer({ DB_PATH: db }, { port: server.port })
    await roomSaved(room)
    const reader = collabClient(server.url, 'bob').room('r')
    await reader.synced
    await vi.waitFor(() => expect(reader.codemirror.toString()).toBe('before. while down.'))
    expect(client.transport).toBe('http')
  })

  it('a WebSocket that neither opens nor fails within upgradeTimeoutMs counts as blocked: the client falls back', async () => {
    const server = await startServer()
    /** An upgrade a proxy holds: nothing ever happens. */
    class Stalled extends EventTarget {
      readyState = 0
      binaryType = 'arraybuffer'
      send(): void {}
      close(): void {}
    }
    const client = collabClient(server.url, 'ann', { WebSocketPolyfill: Stalled, fallback: { upgradeTimeoutMs: 300 } })
    await client.room('r').synced
    expect(client.transport).toBe('http')
  })
})
