import { describe, expect, it, vi } from 'vitest'
import { provider, settled } from '../helpers/clients.ts'
import { startServer } from '../helpers/server.ts'

describe('awareness', () => {
  it('user name, colour and cursor reach peers and disappear when the user disconnects', async () => {
    const server = await startServer()
    const ada = provider(server.url, 'room')
    const bob = provider(server.url, 'room')
    await Promise.all([settled(ada), settled(bob)])

    ada.setAwarenessField('user', { id: 'ada', name: 'Ada', color: '#e91e63' })
    ada.setAwarenessField('cursor', { anchor: 3, head: 7 })

    const adaId = ada.document.clientID
    await vi.waitFor(() => {
      expect(bob.awareness!.getStates().get(adaId)).toEqual({
        user: { id: 'ada', name: 'Ada', color: '#e91e63' },
        cursor: { anchor: 3, head: 7 },
      })
    })

    // Ada goes away without saying goodbye: her socket closes.
    ada.configuration.websocketProvider.destroy()
    await vi.waitFor(() => expect(bob.awareness!.getStates().has(adaId)).toBe(false), { timeout: 10_000 })
  })
})
