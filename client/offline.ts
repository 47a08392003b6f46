/**
 * Local persistence of room documents, so edits made offline survive a reload.
 * In the browser the default is IndexedDB (y-indexeddb, loaded on demand) with
 * a reload journal in localStorage for what IndexedDB has not yet confirmed
 * (client/indexeddb.ts); where there is no IndexedDB (Node) rooms live in
 * memory only, unless the app passes a store of its own.
 */
import type * as Y from 'yjs'
import { openIndexedDbStore } from './indexeddb.ts'

/** A local copy of one room's document. */
export interface OfflineStore {
  /** Resolves once the stored state has been applied to the document. */
  readonly whenLoaded: Promise<unknown>
  /** Stop writing to the store (the room is left); keeps the data. */
  destroy(): Promise<unknown> | void
}

/** What the room tells its store (a store may ignore it). */
export interface OfflineStoreContext {
  /** Whether a transaction with this origin brought a change from the server (which has stored it). */
  isRemote(origin: unknown): boolean
  /** Call `listener` whenever the server has stored every local change made so far; returns the unsubscribe function. */
  onServerSaved(listener: () => void): () => void
  /** Report a problem to the app (the client's `error` event). */
  reportError(error: unknown, context: string): void
}

/** Opens the local store of a room; `key` is unique per server, user and room. */
export type OfflineStoreFactory = (key: string, doc: Y.Doc, context: OfflineStoreContext) => OfflineStore | Promise<OfflineStore>

/** IndexedDB through y-indexeddb, with the reload journal; `undefined` where IndexedDB does not exist. */
export function defaultOfflineStore(): OfflineStoreFactory | undefined {
  if (typeof (globalThis as { indexedDB?: unknown }).indexedDB === 'undefined') return undefined
  return openIndexedDbStore
}

/** The store key of a room: server, user and room, so users sharing a browser never mix edits. */
export function offlineKey(url: string, userId: string, room: string): string {
  return `yjs-collab:${url}:${userId}:${room}`
}
