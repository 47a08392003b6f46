/**
 * Restore as a change: the Yjs update that makes a document's content equal to
 * an old state again.
 *
 * It is made on a replica of the current state (same items, same ids): one
 * transaction replaces each root type's content with a copy of the old one,
 * and the update that transaction produces applies cleanly to the live
 * document and to every client — it is an ordinary edit, so it merges with
 * concurrent edits like any other. Unchanged parts are left alone (a text's
 * common start and end, an array's equal leading and trailing entries, a map's
 * equal keys), so cursors and chat messages outside the change keep their identity.
 */
import * as Y from 'yjs'
import { type TypeKind, docFrom, kindOf, typed } from './shape.ts'
import { commonEnds } from './diff.ts'

/** The update turning `current` into the content of `target`, or null when they already match. */
export function restoreUpdate(current: Uint8Array, target: Uint8Array): Uint8Array | null {
  const now = docFrom(current)
  // The change is written under a fresh client id, unused in the document (Yjs already moves off an id it
  // sees in `current`; checked all the same): the ownership check claims it for the admin who restores.
  while (now.store.clients.has(now.clientID)) now.clientID = new Y.Doc().clientID
  const old = docFrom(target)
  let update: Uint8Array | null = null
  now.on('update', (u: Uint8Array) => (update = update ? Y.mergeUpdates([update, u]) : u))
  try {
    const names = [...new Set([...now.share.keys(), ...old.share.keys()])].sort()
    const kinds = new Map<string, TypeKind>()
    for (const name of names) {
      const kind = kindOf(old, name) ?? kindOf(now, name)
      if (kind) kinds.set(name, kind)
    }
    now.transact(() => {
      for (const [name, kind] of kinds) replace(now, old, name, kind)
    })
    return update
  } finally {
    now.destroy()
    old.destroy()
  }
}

function replace(now: Y.Doc, old: Y.Doc, name: string, kind: TypeKind): void {
  switch (kind) {
    case 'text':
      return replaceText(typed(now, name, 'text'), typed(old, name, 'text'))
    case 'xml': {
      const target = typed(now, name, 'xml')
      const source = typed(old, name, 'xml')
      if (target.toString() === source.toString()) return
      target.delete(0, target.length)
      // (an XmlHook is inserted like an element; the typing leaves it out)
      target.insert(0, source.toArray().map((node) => node.clone()) as Array<Y.XmlElement | Y.XmlText>)
      return
    }
    case 'array':
      return replaceArray(typed(now, name, 'array'), typed(old, name, 'array'))
    case 'map':
      return replaceMap(typed(now, name, 'map'), typed(old, name, 'map'))
  }
}

type Delta = Array<{ insert: unknown; attributes?: object }>

function replaceText(target: Y.Text, source: Y.Text): void {
  const before = target.toDelta() as Delta
  const after = source.toDelta() as Delta
  const plain = (delta: Delta) => delta.every((op) => typeof op.insert === 'string' && !op.attributes)
  if (!plain(before) || !plain(after)) {
    // Formatting or embeds: replace it all, formatting included.
    if (JSON.stringify(before) === JSON.stringify(after)) return
    target.delete(0, target.length)
    target.applyDelta(after.map((op) => ({ ...op, insert: cloneValue(op.insert) })))
    return
  }
  const a = target.toString()
  const b = source.toString()
  const { start, endA, endB } = commonEnds(a, b)
  if (endA > start) target.delete(start, endA - start)
  if (endB > start) target.insert(start, b.slice(start, endB))
}

function replaceArray(target: Y.Array<unknown>, source: Y.Array<unknown>): void {
  const a = target.toArray().map(fingerprint)
  const b = source.toArray().map(fingerprint)
  const { start, endA, endB } = commonEnds(a, b)
  if (endA > start) target.delete(start, endA - start)
  if (endB > start) target.insert(start, source.slice(start, endB).map(cloneValue))
}

function replaceMap(target: Y.Map<unknown>, source: Y.Map<unknown>): void {
  for (const key of [...target.keys()]) if (!source.has(key)) target.delete(key)
  for (const [key, value] of source.entries()) {
    if (target.has(key) && fingerprint(target.get(key)) === fingerprint(value)) continue
    target.set(key, cloneValue(value))
  }
}

/** A comparable form of a value: JSON, with shared types by their content (and kind). */
function fingerprint(value: unknown): string {
  if (value instanceof Y.AbstractType) return `${value.constructor.name}:${JSON.stringify(value instanceof Y.XmlFragment ? value.toString() : value.toJSON())}`
  if (value instanceof Uint8Array) return `bytes:${Buffer.from(value).toString('base64')}`
  if (value instanceof Y.Doc) return `doc:${value.guid}`
  return JSON.stringify(value) ?? 'undefined'
}

/** A copy of a value from the old state that can be inserted into the current one. */
function cloneValue(value: unknown): unknown {
  if (value instanceof Y.AbstractType) return value.clone()
  if (value instanceof Y.Doc) return new Y.Doc({ guid: value.guid, meta: value.meta })
  if (value instanceof Uint8Array) return value.slice()
  return value
}
