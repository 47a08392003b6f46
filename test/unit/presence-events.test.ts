/**
 * Presence events count a user's connections to a document by the
 * connections Hocuspocus says `connected` for: a disconnect of one that never
 * connected (its socket closed while the document loaded) ends nobody's
 * presence, and one that closed before `connected` ran is not counted in.
 */
import type { Connection, connectedPayload, onDisconnectPayload } from '@hocuspocus/server'
import { describe, expect, it } from 'vitest'
import { AuthSession } from '../../server/auth/session.ts'
import { PresenceEvents } from '../../server/events/presence.ts'
import type { NewEvent } from '../../server/storage/types.ts'

const DOC = 'team/standup'

/** A connection's hook context for `user`, and whether the document still has the connection. */
function tab(user: string, open = true) {
  const context = { session: new AuthSession('token', 'write', { id: user, name: user.toUpperCase(), color: '#000' }) }
  const connection = { document: { hasConnection: () => open } } as unknown as Connection
  return {
    connected: { documentName: DOC, context, connection } as unknown as connectedPayload,
    disconnect: { documentName: DOC, context } as unknown as onDisconnectPayload,
  }
}

describe('presence events', () => {
  it('a disconnect of a connection that never connected ends nobody’s presence; the last real one does', async () => {
    const events: NewEvent[] = []
    const presence = new PresenceEvents(async (e) => void events.push(...e))
    const first = tab('ada')
    const closedWhileLoading = tab('ada')
    await presence.connected(first.connected)
    await presence.onDisconnect(closedWhileLoading.disconnect)
    expect(events.map((e) => `${e.type} ${e.actor}`)).toEqual(['presence.joined ada'])
    await presence.onDisconnect(first.disconnect)
    await presence.onDisconnect(first.disconnect)
    expect(events.map((e) => `${e.type} ${e.actor}`)).toEqual(['presence.joined ada', 'presence.left ada'])
  })

  it('a connection already gone when `connected` runs is not counted: no joined without a left', async () => {
    const events: NewEvent[] = []
    const presence = new PresenceEvents(async (e) => void events.push(...e))
    await presence.connected(tab('bob', false).connected)
    expect(events).toEqual([])
  })
})
