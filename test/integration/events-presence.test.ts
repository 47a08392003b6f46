/**
 * Presence events (docs/events.md, off by default): `presence.joined` when a
 * user's first connection to a document is authenticated, `presence.left`
 * when their last one to it closes — one pair per user, not per tab.
 */
import { describe, expect, it, vi } from 'vitest'
import type { CollabServer } from '../../server/app.ts'
import type { FeedEvent } from '../../server/storage/types.ts'
import { offline, provider, settled } from '../helpers/clients.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

const DOC = 'team/standup'
const ACCESS = { 'team/*': 'write' }

const presence = async (server: CollabServer): Promise<Array<[string, string, unknown]>> =>
  (await server.storage.events.read(0, 1000)).filter((e: FeedEvent) => e.type.startsWith('presence.')).map((e) => [e.type, e.actor, e.data])

describe('presence events', () => {
  it('a user joining on two tabs is one presence.joined; leaving is presence.left once the last tab has gone', async () => {
    const server = await startServer({ ...TOKEN_MODE, eventsPresence: true })
    const one = provider(server.url, DOC, { token: await tokenFor('ada', ACCESS) })
    await settled(one)
    await vi.waitFor(async () => expect(await presence(server)).toEqual([['presence.joined', 'ada', { name: 'Ada' }]]))
    const two = provider(server.url, DOC, { token: await tokenFor('ada', ACCESS) })
    const bob = provider(server.url, DOC, { token: await tokenFor('bob', ACCESS) })
    await Promise.all([settled(two), settled(bob)])
    await vi.waitFor(async () => expect((await presence(server)).map(([type, actor]) => `${type} ${actor}`)).toEqual(['presence.joined ada', 'presence.joined bob']))
    await offline(one.configuration.websocketProvider)
    await offline(bob.configuration.websocketProvider)
    await vi.waitFor(async () => expect((await presence(server)).map(([type, actor]) => `${type} ${actor}`)).toEqual(['presence.joined ada', 'presence.joined bob', 'presence.left bob']))
    await offline(two.configuration.websocketProvider)
    await vi.waitFor(async () => expect((await presence(server)).at(-1)).toEqual(['presence.left', 'ada', { name: 'Ada' }]))
    expect(await presence(server)).toHaveLength(4)
  })

  it('off by default: nobody joining or leaving makes an event', async () => {
    const server = await startServer({ ...TOKEN_MODE })
    const ada = provider(server.url, DOC, { token: await tokenFor('ada', ACCESS) })
    await settled(ada)
    ada.document.getText('text').insert(0, 'hello')
    await settled(ada)
    await offline(ada.configuration.websocketProvider)
    await vi.waitFor(() => expect(server.hocuspocus.documents.get(DOC)?.getConnectionsCount() ?? 0).toBe(0))
    expect((await server.storage.events.read(0, 100)).map((e) => e.type)).toContain('document.created')
    expect(await presence(server)).toEqual([])
  })
})
