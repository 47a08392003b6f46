import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import type { OfflineStoreFactory } from '../../client/index.ts'
import { collabClient, roomSaved, texts } from '../helpers/collab.ts'
import { startServer } from '../helpers/server.ts'

/**
 * A stand-in for the browser's IndexedDB store (y-indexeddb), which Node lacks:
 * updates kept per key across "page loads", applied back on open with the
 * store as the transaction origin, as y-indexeddb does.
 */
function memoryStore() {
  const disk = new Map<string, Uint8Array[]>()
  const factory: OfflineStoreFactory = (key, doc) => {
    const updates = disk.get(key) ?? []
    disk.set(key, updates)
    const origin = { store: key }
    const whenLoaded = Promise.resolve().then(() => doc.transact(() => updates.forEach((u) => Y.applyUpdate(doc, u)), origin))
    const keep = (update: Uint8Array, from: unknown) => {
      if (from !== origin) updates.push(update)
    }
    doc.on('update', keep)
    return { whenLoaded, destroy: () => doc.off('update', keep) }
  }
  return { disk, factory }
}

describe('offline store', () => {
  it('keeps what was written offline across a reload and syncs it when back online', async () => {
    const server = await startServer()
    const store = memoryStore()

    // First "page load": never connects (offline from the start).
    const before = collabClient(server.url, 'ann', { offline: store.factory, startPaused: true })
    expect(before.status).toBe('offline')
    const first = before.room('r')
    await first.loaded
    const sent = first.chat.send('written on a plane')
    first.codemirror.insert(0, 'draft')
    expect(first.unsaved).toBe(true)
    before.close()

    // Second "page load", online: the offline work is there at once, then reaches the server.
    const after = collabClient(server.url, 'ann', { offline: store.factory })
    const second = after.room('r')
    await second.loaded
    expect(second.chat.get(sent.id)).toMatchObject({ text: 'written on a plane', status: 'pending' })
    expect(second.codemirror.toString()).toBe('draft')
    await second.synced
    await roomSaved(second)
    expect(second.chat.get(sent.id)?.status).toBe('saved')

    const bob = collabClient(server.url, 'bob').room('r')
    await bob.synced
    await vi.waitFor(() => expect(texts(bob)).toEqual(['written on a plane']))
    expect(bob.codemirror.toString()).toBe('draft')

    // The store is per server, user and room: another user on the same device starts clean.
    const eve = collabClient(server.url, 'eve', { offline: store.factory, startPaused: true }).room('r')
    await eve.loaded
    expect(texts(eve)).toEqual([])
    expect([...store.disk.keys()].filter((k) => k.includes(':ann:'))).toHaveLength(1)
  })
})
