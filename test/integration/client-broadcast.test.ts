import { describe, expect, it, vi } from 'vitest'
import type { ChatMessage } from '../../client/index.ts'
import { collabClient } from '../helpers/collab.ts'
import { startServer } from '../helpers/server.ts'

const CLIENTS = 100

describe('broadcast', () => {
  it(`delivers one message to all ${CLIENTS} clients in a room`, async () => {
    const server = await startServer()
    const rooms = Array.from({ length: CLIENTS }, (_, i) => collabClient(server.url, `user${i}`).room('lobby'))
    await Promise.all(rooms.map((r) => r.synced))

    const received = new Map<number, ChatMessage>()
    rooms.forEach((room, i) => room.chat.on('message', (m) => received.set(i, m)))
    const sent = rooms[0]!.chat.send('hello, everyone')

    await vi.waitFor(() => expect(received.size).toBe(CLIENTS), { timeout: 30_000, interval: 20 })
    for (const m of received.values()) expect(m).toMatchObject({ id: sent.id, author: 'user0', text: 'hello, everyone' })
    for (const room of rooms) expect(room.chat.messages().map((m) => m.id)).toEqual([sent.id])
    // Everyone is on the presence list of the sender, each on a socket of its own.
    await vi.waitFor(() => expect(rooms[0]!.presence.others()).toHaveLength(CLIENTS - 1), { timeout: 30_000 })
  })
})
