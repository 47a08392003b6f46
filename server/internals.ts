/**
 * The one adapter: every use of a dependency's state that is not public API.
 * Nothing else in the server reads or writes private fields of Hocuspocus,
 * Yjs or lib0 (test/unit/architecture.test.ts checks), and each assumption
 * below is pinned by test/unit/internals.test.ts against the installed
 * versions, so an upgrade that breaks one fails there, not in production.
 *
 * Assumptions, one per export:
 * 1. lib0's `ObservableV2` (the base of `Y.Doc`) keeps its listeners in
 *    `_observers: Map<name, Set<listener>>`, and Yjs encodes an `update` event
 *    only while that map holds 'update'.
 * 2. Yjs's `StructStore` holds structs it cannot integrate yet (missing
 *    dependencies) in `pendingStructs` and deletions in `pendingDs`, `null`
 *    when there are none, and forgets them when both are set back to `null`.
 * 3. Yjs's `AbstractType` keeps, per map key, the item of the key's current
 *    value — the rightmost of the key's items, deleted or not — in
 *    `_map: Map<key, Item>`; the key's earlier items are reachable from it by
 *    `.left`. Yjs has no public way to the item of a map entry (`Y.Map#get`
 *    gives the value, `typeMapGetAllSnapshot` values only, after an O(document)
 *    snapshot): the chat rules need it to place a write to a tombstone's key
 *    (server/chat/yata.ts), the history code to see a map root's live entries.
 */
import type * as Y from 'yjs'

/** (1) Run `fn` with the document's `update` listeners detached, then put them back. */
export function withoutUpdateListeners<T>(document: Y.Doc, fn: () => T): T {
  const observers = (document as unknown as { _observers: Map<string, unknown> })._observers
  const listeners = observers.get('update')
  observers.delete('update')
  try {
    return fn()
  } finally {
    if (listeners) observers.set('update', listeners)
  }
}

/** (2) Structs and deletions Yjs parked for missing dependencies; `missing`: the clock each waits for, per client. */
export function parkedStructs(document: Y.Doc): { missing: Record<number, number> | undefined; deletions: boolean } | null {
  const { pendingStructs, pendingDs } = document.store
  if (!pendingStructs && !pendingDs) return null
  return { missing: pendingStructs ? Object.fromEntries(pendingStructs.missing) : undefined, deletions: pendingDs !== null }
}

/** (2) Forget what Yjs parked. */
export function dropParkedStructs(document: Y.Doc): void {
  document.store.pendingStructs = null
  document.store.pendingDs = null
}

/** (3) Per map key of `type` (any type, also a root not yet given a class), the item of its current value, deleted or not. */
export function keyItems<E>(type: Y.AbstractType<E>): ReadonlyMap<string, Y.Item> {
  return type._map
}
