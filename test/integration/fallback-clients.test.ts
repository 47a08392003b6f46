/**
 * Real clients on the HTTP fallback: the stock provider over `HttpSocket`
 * next to one on a WebSocket, and our CollabClient falling back by itself
 * when the upgrade is refused.
 */
import { HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { describe, expect, it, vi } from 'vitest'
import { httpSocketClass, type HttpMode } from '../../client/http-socket.ts'
import type { Transport } from '../../client/transport.ts'
import { provider, settled } from '../helpers/clients.ts'
import { collabClient, roomSaved, texts } from '../helpers/collab.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

const DOC = 'team/plan'

/** A provider socket whose connections are HTTP fallback sessions. */
function httpSocket(url: string, options: { mode?: HttpMode; token?: () => string | Promise<string> } = {}): HocuspocusProviderWebsocket {
  const ws = new HocuspocusProviderWebsocket({ url, WebSocketPolyfill: httpSocketClass(options), delay: 50, minDelay: 50, maxDelay: 500 })
  return ws
}

/** A WebSocket a proxy refuses: it fails before it opens, as a refused upgrade does. */
class RefusedWebSocket extends EventTarget {
  readyState = 0
  binaryType = 'arraybuffer'
  constructor() {
    super()
    setTimeout(() => {
      this.readyState = 3
      this.dispatchEvent(new Event('error'))
      this.dispatchEvent(Object.assign(new Event('close'), { code: 1006, reason: '' }))
    }, 5)
  }
  send(): void {}
  close(): void {}
}

describe('HTTP fallback clients', () => {
  for (const mode of ['stream', 'poll'] as const) {
    it(`a WebSocket provider and a fallback provider (${mode}) see each other's edits and acks`, async () => {
      const server = await startServer(TOKEN_MODE)
      const adaToken = await tokenFor('ada', { [DOC]: 'write' })
      const bobToken = await tokenFor('bob', { [DOC]: 'write' })
      const ws = provider(server.url, DOC, { token: adaToken })
      const socket = httpSocket(server.url, { mode, token: () => bobToken })
      const fallback = provider(server.url, DOC, { ws: socket, token: bobToken })
      try {
        await Promise.all([settled(ws), settled(fallback)])
        ws.document.getText('text').insert(0, 'from ws. ')
        await vi.waitFor(() => expect(fallback.document.getText('text').toString()).toBe('from ws. '))
        fallback.document.getText('text').insert(9, 'from http.')
        await settled(fallback)
        await vi.waitFor(() => expect(ws.document.getText('text').toString()).toBe('from ws. from http.'))
        await settled(ws)
        // Presence, both ways.
        fallback.setAwarenessField('user', { name: 'Bob' })
        ws.setAwarenessField('user', { name: 'Ada' })
        await vi.waitFor(() => expect([...ws.awareness!.getStates().values()].map((s) => s.user?.name)).toContain('Bob'))
        await vi.waitFor(() => expect([...fallback.awareness!.getStates().values()].map((s) => s.user?.name)).toContain('Ada'))
        expect(server.hocuspocus.documents.get(DOC)!.getText('text').toString()).toBe('from ws. from http.')
      } finally {
        socket.destroy()
      }
    })
  }

  it("our client falls back by itself when the upgrade is refused: it edits, chats and shows presence with a WebSocket client, and says so", async () => {
    const server = await startServer()
    const transports: Transport[] = []
    const blocked = collabClient(server.url, 'ann', { WebSocketPolyfill: RefusedWebSocket, transport: 'auto' })
    blocked.on('transport', (t) => transports.push(t))
    const direct = collabClient(server.url, 'bob')
    const ann = blocked.room('r')
    const bob = direct.room('r')
    await Promise.all([ann.synced, bob.synced])
    expect(blocked.status).toBe('connected')
    expect(blocked.transport).toBe('http')
    expect(transports).toEqual(['http'])
    await vi.waitFor(() => expect(direct.transport).toBe('websocket'))

    ann.codemirror.insert(0, 'ann over http')
    await roomSaved(ann)
    await vi.waitFor(() => expect(bob.codemirror.toString()).toBe('ann over http'))
    bob.chat.send('hi ann')
    ann.chat.send('hi bob')
    await vi.waitFor(() => expect(texts(bob)).toEqual(expect.arrayContaining(['hi ann', 'hi bob'])))
    await vi.waitFor(() => expect(texts(ann)).toEqual(expect.arrayContaining(['hi ann', 'hi bob'])))
    await roomSaved(ann)
    await vi.waitFor(() => expect(bob.presence.others().map((e) => e.user.id)).toEqual(['ann']))
    await vi.waitFor(() => expect(ann.presence.others().map((e) => e.user.id)).toEqual(['bob']))
  })

  it('tries a WebSocket again later, and moves onto it once the upgrade works', async () => {
    const server = await startServer()
    let blocked = true
    // Refused while `blocked`, then the real thing.
    const Flaky = function (this: unknown, url: string) {
      return blocked ? new RefusedWebSocket() : new WebSocket(url)
    } as unknown as typeof WebSocket
    const transports: Transport[] = []
    const client = collabClient(server.url, 'ann', { WebSocketPolyfill: Flaky, fallback: { retryWebSocketMs: 200 } })
    client.on('transport', (t) => transports.push(t))
    const room = client.room('r')
    await room.synced
    expect(client.transport).toBe('http')
    blocked = false
    await vi.waitFor(() => expect(client.transport).toBe('websocket'), { timeout: 10_000 })
    expect(transports).toEqual(['http', 'websocket'])
    room.codemirror.insert(0, 'on a socket again')
    await roomSaved(room)
    expect(server.hocuspocus.documents.get('r')!.getText('codemirror').toString()).toBe('on a socket again')
  })

  it('offline queue and typing on the fallback: edits made while paused are sent and acknowledged on resume; typing reaches a WebSocket peer', async () => {
    const server = await startServer()
    const client = collabClient(server.url, 'ann', { transport: 'http' })
    const ann = client.room('r')
    const bob = collabClient(server.url, 'bob').room('r')
    await Promise.all([ann.synced, bob.synced])
    ann.typing.start()
    await vi.waitFor(() => expect(bob.typing.who().map((e) => e.user.id)).toEqual(['ann']))
    ann.typing.stop()
    client.pause()
    await vi.waitFor(() => expect(client.status).toBe('offline'))
    ann.codemirror.insert(0, 'made offline')
    expect(ann.unsaved).toBe(true)
    client.resume()
    await roomSaved(ann)
    await vi.waitFor(() => expect(bob.codemirror.toString()).toBe('made offline'))
    expect(client.transport).toBe('http')
  })

  it("transport 'http' uses the fallback only; 'websocket' never falls back", async () => {
    const server = await startServer()
    const httpOnly = collabClient(server.url, 'ann', { transport: 'http' })
    await httpOnly.room('r').synced
    expect(httpOnly.transport).toBe('http')
    const wsOnly = collabClient(server.url, 'bob', { transport: 'websocket', WebSocketPolyfill: RefusedWebSocket })
    wsOnly.room('r')
    await vi.waitFor(() => expect(server.hocuspocus.getConnectionsCount()).toBe(1))
    expect(wsOnly.status).not.toBe('connected')
    expect(wsOnly.transport).toBeNull()
  })
})
