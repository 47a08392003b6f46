import { describe, expect, it, vi } from 'vitest'
import type { PresenceEntry } from '../../client/index.ts'
import { collabClient } from '../helpers/collab.ts'
import { startServer } from '../helpers/server.ts'

const ids = (entries: { user: { id: string } }[]) => entries.map((e) => e.user.id).sort()

describe('typing indicator', () => {
  it('reaches the others and clears itself after 3 s without input', async () => {
    const server = await startServer()
    const ann = collabClient(server.url, 'ann').room('r')
    const bob = collabClient(server.url, 'bob').room('r')
    await Promise.all([ann.synced, bob.synced])

    const seen: string[][] = []
    bob.typing.onChange((who) => seen.push(ids(who)))
    ann.typing.start()
    expect(ann.typing.isTyping).toBe(true)
    const started = Date.now()
    await vi.waitFor(() => expect(ids(bob.typing.who())).toEqual(['ann']))
    expect(seen).toContainEqual(['ann'])
    // The typer's own list holds only the others.
    expect(ann.typing.who()).toEqual([])

    // No stop(), no more input: it clears itself after ~3 s.
    await vi.waitFor(() => expect(bob.typing.who()).toEqual([]), { timeout: 10_000, interval: 50 })
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_500)
    expect(ann.typing.isTyping).toBe(false)
    expect(seen.at(-1)).toEqual([])

    // stop() clears at once.
    ann.typing.start()
    await vi.waitFor(() => expect(ids(bob.typing.who())).toEqual(['ann']))
    const stopped = Date.now()
    ann.typing.stop()
    await vi.waitFor(() => expect(bob.typing.who()).toEqual([]))
    expect(Date.now() - stopped).toBeLessThan(2_500)
  })
})

describe('presence', () => {
  it('shows who joins, goes away when idle, comes back, and leaves on disconnect', async () => {
    const server = await startServer()
    const ann = collabClient(server.url, 'ann').room('r')
    await ann.synced
    const changes: PresenceEntry[][] = []
    ann.presence.onChange((others) => changes.push(others))
    expect(ann.presence.me()).toMatchObject({ user: { id: 'ann', name: 'Ann' }, status: 'online' })

    const bobClient = collabClient(server.url, 'bob', { awayAfterMs: 400 })
    const bob = bobClient.room('r')
    bob.presence.set({ status: 'online', mood: 'curious' })
    await vi.waitFor(() => expect(ann.presence.others()).toMatchObject([{ user: { id: 'bob', name: 'Bob' }, status: 'online', mood: 'curious' }]))
    expect(changes.length).toBeGreaterThan(0)

    // Idle for awayAfterMs: away by itself; activity brings bob back.
    await vi.waitFor(() => expect(ann.presence.others()[0]?.status).toBe('away'), { timeout: 10_000 })
    bob.presence.touch()
    await vi.waitFor(() => expect(ann.presence.others()[0]?.status).toBe('online'))
    // An explicit 'away' sticks through activity.
    bob.presence.set({ status: 'away' })
    bob.presence.touch()
    await vi.waitFor(() => expect(ann.presence.others()[0]?.status).toBe('away'))
    expect(bob.presence.me().status).toBe('away')

    // Disconnecting takes bob off the list within a few seconds.
    const left = Date.now()
    bobClient.close()
    await vi.waitFor(() => expect(ann.presence.others()).toEqual([]), { timeout: 5_000 })
    expect(Date.now() - left).toBeLessThan(5_000)
    expect(changes.at(-1)).toEqual([])
  })

  it('shares editor cursors as relative positions that survive concurrent edits', async () => {
    const server = await startServer()
    const ann = collabClient(server.url, 'ann').room('doc')
    const bob = collabClient(server.url, 'bob').room('doc')
    await Promise.all([ann.synced, bob.synced])
    ann.codemirror.insert(0, 'hello world')
    await vi.waitFor(() => expect(bob.codemirror.toString()).toBe('hello world'))

    // Ann selects "world".
    ann.presence.setTextCursor(ann.codemirror, 6, 11)
    await vi.waitFor(() => expect(bob.presence.textCursors(bob.codemirror)).toMatchObject([{ user: { id: 'ann' }, anchor: 6, head: 11 }]))
    // Bob types before the selection: it moves with the text.
    bob.codemirror.insert(0, '>> ')
    expect(bob.presence.textCursors(bob.codemirror)).toMatchObject([{ anchor: 9, head: 14 }])
    ann.presence.setTextCursor(ann.codemirror, null)
    await vi.waitFor(() => expect(bob.presence.textCursors(bob.codemirror)).toEqual([]))
  })
})
