/**
 * The common case, decided without working out an update's effects
 * (server/chat/effects.ts): an update that surely integrates completely now,
 * into a document that has no chat. Most updates are one client typing
 * after its own last change — their structs continue that client's clocks,
 * and everything they point at is already in the document. For those, the
 * dependencies check needs no port of Yjs's integration and, where no chat
 * can be touched, the chat rules have nothing to look at.
 *
 * Each test here is a *sufficient* condition: when it says no, the full
 * effects decide, exactly as before.
 */
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'
import { RESERVED_ROOT } from './zones.ts'
import type { DecodedUpdate } from './effects.ts'

/**
 * The client ids the update has structs for, when it surely integrates
 * completely into `doc` now; null when only its effects can tell. Sure means:
 * one section per client (as many as the update declares), each a run of
 * consecutive clocks without Skip structs that starts at or before what the
 * document has of that client; every origin, right origin and parent of
 * another client already in the document, and of the same client earlier than
 * the struct itself; every deletion within what the document will have.
 */
export function surelyIntegrates(doc: Y.Doc, update: Uint8Array, decoded: DecodedUpdate): number[] | null {
  const store = doc.store
  const clients: number[] = []
  const ends: number[] = []
  let client = -1
  let next = 0
  for (const s of decoded.structs) {
    if (s instanceof Y.Skip) return null
    const id = s.id
    if (id.client !== client) {
      if (clients.includes(id.client)) return null
      if (id.clock > Y.getState(store, id.client)) return null
      client = id.client
      clients.push(client)
      ends.push(0)
    } else if (id.clock !== next) return null
    next = id.clock + s.length
    ends[ends.length - 1] = next
    if (s instanceof Y.Item && !(refOk(store, s.origin, id) && refOk(store, s.rightOrigin, id) && (!(s.parent instanceof Y.ID) || refOk(store, s.parent, id)))) return null
  }
  if (sectionCount(update) !== clients.length) return null
  for (const [c, ranges] of decoded.ds.clients) {
    const at = clients.indexOf(c)
    const end = Math.max(Y.getState(store, c), at === -1 ? 0 : ends[at]!)
    for (const { clock, len } of ranges) if (clock + len > end) return null
  }
  return clients
}

/** A reference the document (or, for the struct's own client, an earlier clock of it) surely resolves. */
function refOk(store: Y.Doc['store'], ref: Y.ID | null, self: Y.ID): boolean {
  if (ref === null) return true
  if (ref.client === self.client) return ref.clock < self.clock
  return ref.clock < Y.getState(store, ref.client)
}

/** The section count the update declares (its first varUint), as `sections` in effects.ts reads it. */
function sectionCount(update: Uint8Array): number {
  try {
    return decoding.readVarUint(decoding.createDecoder(update))
  } catch {
    return -1
  }
}

/**
 * Whether the update may touch the chat (or a root the chat data model
 * reserves): the document has such a root, or the update names one. When
 * neither, no struct can land in the chat (every type in the document sits
 * under a root in `doc.share`, and a new root comes named) and nothing of
 * the chat exists to delete.
 */
export function mayTouchChat(doc: Y.Doc, decoded: DecodedUpdate): boolean {
  for (const name of doc.share.keys()) if (RESERVED_ROOT.test(name)) return true
  for (const s of decoded.structs) if (s instanceof Y.Item && typeof s.parent === 'string' && RESERVED_ROOT.test(s.parent)) return true
  return false
}

/**
 * The root shared types an update that surely integrates (see
 * `surelyIntegrates`) changes, read from the document without working out
 * its effects: each item's parent is named (a root), or is an item of the
 * document (a nested type), or comes from its origin, an item of the
 * document; each deletion is of items of the document. Null when an item
 * leans on another item of the same update (then the effects tell).
 */
export function quickRoots(doc: Y.Doc, decoded: DecodedUpdate, rootOf: (type: Y.AbstractType<unknown>) => string): string[] | null {
  const store = doc.store
  const roots = new Set<string>()
  /** A struct of the document at `id`: undefined when the document does not have it (it is in this update). */
  const at = (id: Y.ID): Y.Item | Y.GC | undefined => (id.clock < Y.getState(store, id.client) ? (Y.getItem(store, id) as Y.Item | Y.GC) : undefined)
  for (const s of decoded.structs) {
    if (!(s instanceof Y.Item)) continue
    const left = s.origin ? at(s.origin) : null
    const right = s.rightOrigin ? at(s.rightOrigin) : null
    if (left === undefined || right === undefined) return null
    // Next to garbage, Yjs stores the item as garbage: it changes nothing.
    if (left instanceof Y.GC || right instanceof Y.GC) continue
    let type: Y.AbstractType<unknown> | null = null
    if (typeof s.parent === 'string') {
      roots.add(s.parent)
      continue
    } else if (s.parent instanceof Y.ID) {
      const holder = at(s.parent)
      if (holder === undefined) return null
      type = holder instanceof Y.Item && holder.content instanceof Y.ContentType ? holder.content.type : null
    } else {
      const from = left ?? right
      type = from ? (from.parent as Y.AbstractType<unknown> | null) : null
    }
    if (type) roots.add(rootOf(type))
  }
  for (const [client, ranges] of decoded.ds.clients) {
    const known = Y.getState(store, client)
    for (const { clock, len } of ranges) {
      if (clock + len > known) return null
      const list = store.clients.get(client)!
      for (let i = Y.findIndexSS(list, clock); i < list.length && list[i]!.id.clock < clock + len; i++) {
        const item = list[i]!
        if (item instanceof Y.Item && !item.deleted && item.parent) roots.add(rootOf(item.parent as Y.AbstractType<unknown>))
      }
    }
  }
  return [...roots]
}
