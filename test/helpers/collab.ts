import { onTestFinished, vi } from 'vitest'
import { CollabClient, type CollabClientOptions, type Room } from '../../client/index.ts'

/** Reconnect quickly in tests: servers stop and start within a test. */
export const FAST_RECONNECT = { minDelay: 50, maxDelay: 500, factor: 2 } as const

/**
 * A real CollabClient for user `id` (name = id capitalised), closed when the
 * test ends. Options override the defaults.
 */
export function collabClient(url: string, id: string, options: Partial<CollabClientOptions> = {}): CollabClient {
  const client = new CollabClient({
    url,
    token: 'open',
    user: { id, name: id.charAt(0).toUpperCase() + id.slice(1), color: '#3366cc' },
    reconnect: FAST_RECONNECT,
    ...options,
  })
  onTestFinished(() => client.close())
  return client
}

/** Wait until the room has synced and the server has acknowledged every local change. */
export async function roomSaved(room: Room, timeout = 15_000): Promise<void> {
  await vi.waitFor(
    () => {
      if (!room.isSynced || room.unsaved) throw new Error(`room ${room.name} not saved: synced=${room.isSynced} unsaved=${room.unsaved}`)
    },
    { timeout, interval: 10 },
  )
}

/** Text of the visible messages, in order. */
export function texts(room: Room): string[] {
  return room.chat.messages().map((m) => m.text)
}
