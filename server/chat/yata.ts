/**
 * Where Yjs will place one new item among the existing items of a map key —
 * the conflict loop of `Item.integrate` (node_modules/yjs/src/structs/Item.js),
 * read-only. The item becomes the key's value iff nothing ends up to its
 * right. Used for the one question the rules cannot answer from the item
 * alone: would a deleted write to a tombstone's `deleted` key become the
 * current value (and so unset it)? An honest client's losing write never does.
 *
 * Preconditions (checked by the caller): the item has length 1, no right
 * origin, and its origin is null or an item already in the document.
 */
import * as Y from 'yjs'
import { keyItems } from '../internals.ts'

export function endsCurrent<E>(doc: Y.Doc, map: Y.AbstractType<E>, key: string, item: Y.Item): boolean {
  const store = doc.store
  const current = keyItems(map).get(key) ?? null
  let left: Y.Item | null = item.origin ? (Y.getItem(store, item.origin) as Y.Item) : null
  let o: Y.Item | null
  if (left !== null) o = left.right
  else {
    o = current
    while (o !== null && o.left !== null) o = o.left
  }
  const conflicting = new Set<Y.AbstractStruct>()
  const beforeOrigin = new Set<Y.AbstractStruct>()
  while (o !== null) {
    beforeOrigin.add(o)
    conflicting.add(o)
    if (Y.compareIDs(item.origin, o.origin)) {
      if (o.id.client < item.id.client) {
        left = o
        conflicting.clear()
      } else if (Y.compareIDs(item.rightOrigin, o.rightOrigin)) break
    } else if (o.origin !== null && beforeOrigin.has(Y.getItem(store, o.origin))) {
      if (!conflicting.has(Y.getItem(store, o.origin))) {
        left = o
        conflicting.clear()
      }
    } else break
    o = o.right
  }
  if (left !== null) return left.right === null
  return current === null
}
