/**
 * Which part of the chat data model (docs/chat-data-model.md) a shared type
 * is: the `chat` array, a message map, a message's reactions map, the
 * `chat-reads` map — or nothing of the chat. Types never move in Yjs, so the
 * answer for an existing type is cached for the life of the type.
 */
import * as Y from 'yjs'
import { MessageKey, SharedNames } from '../../client/model.ts'
import type { Parent, Write } from './effects.ts'

/** The zone of a type's children. */
export type Zone =
  | { readonly kind: 'none' }
  /** `chat`: its entries are messages. */
  | { readonly kind: 'chat' }
  /** `chat-reads`: read marks by user id. */
  | { readonly kind: 'reads' }
  /** A message map already in the document. */
  | { readonly kind: 'message'; readonly map: Y.Map<unknown> }
  /** A message map this update creates (its entry in `chat`). */
  | { readonly kind: 'new-message'; readonly entry: Write }
  /** A message's `reactions` map: reactions by user id. */
  | { readonly kind: 'reactions' }
  /** Inside the chat but not part of the model (or a reserved root name): nothing may be written. */
  | { readonly kind: 'forbidden'; readonly why: string }

const NONE: Zone = { kind: 'none' }
const CHAT: Zone = { kind: 'chat' }
const READS: Zone = { kind: 'reads' }
const REACTIONS: Zone = { kind: 'reactions' }

/** Root names the model reserves for future versions: nobody writes there now. */
export const RESERVED_ROOT = /^(chat|collab)/

export function rootZone(name: string): Zone {
  if (name === SharedNames.chat) return CHAT
  if (name === SharedNames.chatReads) return READS
  if (RESERVED_ROOT.test(name)) return { kind: 'forbidden', why: `root "${name}" is reserved by the chat data model` }
  return NONE
}

/** The zone of the children of a type placed in `outer` at `key`. */
function childZone(outer: Zone, key: string | null, isMap: boolean, self: () => Zone): Zone {
  switch (outer.kind) {
    case 'none':
      return NONE
    case 'chat':
      return isMap && key === null ? self() : { kind: 'forbidden', why: 'a chat entry that is not a message map' }
    case 'message':
    case 'new-message':
      return isMap && key === MessageKey.reactions ? REACTIONS : { kind: 'forbidden', why: `a shared type under message key "${key}"` }
    case 'forbidden':
      return outer
    default:
      return { kind: 'forbidden', why: `a shared type inside ${outer.kind}` }
  }
}

/**
 * Where an existing type sits: its root name, or the item that holds it (whose
 * `parent` and `parentSub` say in what and under which key). Public Yjs: a
 * relative position records the id of its type's item (or the root's name),
 * and one at index 0 associated left is made without walking the type. Null
 * when that item is no longer an item (collected), which a type reached from a
 * live item never is.
 */
function placeOf(type: Y.AbstractType<unknown>): string | Y.Item | null {
  const position = Y.createRelativePositionFromTypeIndex(type, 0, -1)
  if (position.type === null) return position.tname!
  const item = Y.getItem(type.doc!.store, position.type)
  return item instanceof Y.Item ? item : null
}

/** Zones of existing types, cached; zones of types an update creates, per update. */
export class Zones {
  private readonly cache = new WeakMap<Y.AbstractType<unknown>, Zone>()

  /** The zone of an existing type's children. */
  ofType(type: Y.AbstractType<unknown>): Zone {
    let zone = this.cache.get(type)
    if (zone) return zone
    const place = placeOf(type)
    if (typeof place === 'string') zone = rootZone(place)
    else if (place === null) zone = { kind: 'forbidden', why: 'a type Yjs has collected' }
    else {
      const outer = this.ofType(place.parent as Y.AbstractType<unknown>)
      zone = childZone(outer, place.parentSub, type instanceof Y.Map, () => ({ kind: 'message', map: type as Y.Map<unknown> }))
    }
    this.cache.set(type, zone)
    return zone
  }

  /** The zone of a new item's parent. `created` memoizes types created by the same update. */
  ofParent(parent: Parent, created: Map<Write, Zone>): Zone {
    if (parent.kind === 'type') return this.ofType(parent.type)
    if (parent.kind === 'root') return rootZone(parent.name)
    const entry = parent.write
    let zone = created.get(entry)
    if (!zone) {
      const content = entry.item.content
      const isMap = content instanceof Y.ContentType && content.type instanceof Y.Map
      zone = childZone(this.ofParent(entry.parent, created), entry.key, isMap, () => ({ kind: 'new-message', entry }))
      created.set(entry, zone)
    }
    return zone
  }
}
