/**
 * Local persistence of room documents, so edits made offline survive a reload.
 * In the browser the default is IndexedDB (y-indexeddb, loaded on demand);
 * where there is no IndexedDB (Node) rooms live in memory only, unless the app
 * passes a store of its own.
 */
import type * as Y from 'yjs'

/** A local copy of one room's document. */
export interface OfflineStore {
  /** Resolves once the stored state has been applied to the document. */
  readonly whenLoaded: Promise<unknown>
  /** Stop writing to the store (the room is left); keeps the data. */
  destroy(): Promise<unknown> | void
}

/** Opens the local store of a room; `key` is unique per server, user and room. */
export type OfflineStoreFactory = (key: string, doc: Y.Doc) => OfflineStore | Promise<OfflineStore>

/** IndexedDB through y-indexeddb; `undefined` where IndexedDB does not exist. */
export function defaultOfflineStore(): OfflineStoreFactory | undefined {
  if (typeof (globalThis as { indexedDB?: unknown }).indexedDB === 'undefined') return undefined
  return async (key, doc) => {
    const { IndexeddbPersistence } = await import('y-indexeddb')
    const store = new IndexeddbPersistence(key, doc)
    return { whenLoaded: store.whenSynced, destroy: () => store.destroy() }
  }
}

/** The store key of a room: server, user and room, so users sharing a browser never mix edits. */
export function offlineKey(url: string, userId: string, room: string): string {
  return `yjs-collab:${url}:${userId}:${room}`
}
