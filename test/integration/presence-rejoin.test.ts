import { describe, expect, it } from 'vitest'
import { offline, provider, settled } from '../helpers/clients.ts'
import { whenGone, whenPresent } from '../helpers/presence.ts'
import { startServer } from '../helpers/server.ts'

/** Far below the 15 s after which y-protocols would renew the state by itself. */
const BACK_WITHIN_MS = 2000

describe('presence of a client that comes back', () => {
  it('a client whose socket dropped is back in the others’ presence as soon as it reconnects, not at its next 15 s renewal', async () => {
    const server = await startServer()
    const watcher = provider(server.url, 'room')
    const blip = provider(server.url, 'room')
    blip.setAwarenessField('user', { id: 'blip', name: 'Blip', color: '#0af' })
    await Promise.all([settled(watcher), settled(blip)])
    const id = blip.document.clientID
    await whenPresent(watcher.awareness!, id, 10_000)

    // The socket drops (network blip): the server removes the entry, at the clock the client still has.
    const socket = blip.configuration.websocketProvider
    await offline(socket)
    await whenGone(watcher.awareness!, id, 10_000)
    const reconnecting = Date.now()
    await socket.connect()
    const back = await whenPresent(watcher.awareness!, id, 10 * BACK_WITHIN_MS)
    expect(back - reconnecting).toBeLessThan(BACK_WITHIN_MS)
    // Its state is the one it had, and its next change still gets through.
    expect(watcher.awareness!.getStates().get(id)).toMatchObject({ user: { id: 'blip' } })
    blip.setAwarenessField('cursor', { anchor: 1, head: 2 })
    await whenPresent(watcher.awareness!, id, 10_000, (state) => (state.cursor as { head?: number } | undefined)?.head === 2)
  })
})
