/**
 * What a Yjs update would do to a document, worked out without applying it:
 * the items it would insert (with the parent type and map key Yjs would give
 * each one) and the live items of the document it would delete.
 *
 * The struct loop is a read-only port of Yjs 13's `integrateStructs` /
 * `Item.getMissing` (node_modules/yjs/src/utils/encoding.js, structs/Item.js):
 * same order, same dependency rules, so a parent is resolved exactly as Yjs
 * will resolve it — from the origin item (left, else right) when the item
 * carries no parent of its own, to nothing (garbage) when a neighbour is a GC
 * struct. An update Yjs would not apply completely right now — missing
 * earlier clocks of a client, an origin or parent the server does not have,
 * deletions of clocks it does not have, a client in two sections — throws
 * `Unappliable`: Yjs would park those parts and integrate them later, during
 * some other update's apply, where no check could see them.
 */
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'

/** Where a new item goes: an existing type, a root named by the update, or a type this update creates. */
export type Parent =
  | { readonly kind: 'type'; readonly type: Y.AbstractType<unknown> }
  | { readonly kind: 'root'; readonly name: string }
  | { readonly kind: 'new'; readonly write: Write }

/** One item the update inserts (the part of it the document does not have yet). */
export interface Write {
  readonly item: Y.Item
  /** Clocks of the item the document already has (Yjs integrates the rest). */
  readonly offset: number
  readonly parent: Parent
  /** The map key (Yjs `parentSub`), or null for a list entry. */
  readonly key: string | null
  /** Where `item.origin` points: nowhere, an item of the document, or an item of this update. */
  readonly originIn: 'none' | 'doc' | 'update'
  /** Deleted in the same update: content already deleted, or covered by its delete set. */
  dead: boolean
}

/** The effects of one update on one document. */
export interface Effects {
  writes: Write[]
  /** Live items of the document the update deletes. */
  removals: Y.Item[]
  /** Clients the update has structs for. */
  clients: number[]
}

/** The update cannot be applied completely now (Yjs would park part of it) or would make Yjs throw. */
export class Unappliable extends Error {
  constructor(detail: string) {
    super(detail)
    this.name = 'Unappliable'
  }
}

type Struct = Y.Item | Y.GC | Y.Skip
/** A referenced struct: garbage, an item of the document, or a write of this update. */
type Ref = { gc: true } | { doc: Y.Item } | { write: Write }
const GARBAGE: Ref = { gc: true }

/** A clock range of one client that this update integrates, and what is there. */
interface Span {
  start: number
  end: number
  ref: Ref
}

/** What `Y.decodeUpdate` returns: the update's structs and delete set. */
export type DecodedUpdate = ReturnType<typeof Y.decodeUpdate>

/** `decoded`: the update as the door decoded it already (the frame guard); decoded here otherwise. */
export function effectsOf(doc: Y.Doc, update: Uint8Array, decoded: DecodedUpdate = Y.decodeUpdate(update)): Effects {
  const { structs, ds } = decoded
  const byClient = sections(update, structs)
  const store = doc.store
  const spans = new Map<number, Span[]>()
  const state = new Map<number, number>()
  const stateOf = (client: number) => state.get(client) ?? Y.getState(store, client)
  const writes: Write[] = []

  const lookup = (id: Y.ID): Ref => {
    if (id.clock < Y.getState(store, id.client)) {
      const list = store.clients.get(id.client)!
      const found = list[Y.findIndexSS(list, id.clock)]!
      return found instanceof Y.Item ? { doc: found } : GARBAGE
    }
    const span = findSpan(spans.get(id.client), id.clock)
    if (!span) throw new Unappliable(`refers to ${id.client}:${id.clock}, which does not exist`)
    return span.ref
  }

  const missing = (s: Y.Item | Y.GC): number | null => {
    if (s instanceof Y.GC) return null
    const { origin, rightOrigin, parent } = s
    if (origin && origin.client !== s.id.client && origin.clock >= stateOf(origin.client)) return origin.client
    if (rightOrigin && rightOrigin.client !== s.id.client && rightOrigin.clock >= stateOf(rightOrigin.client)) return rightOrigin.client
    if (parent instanceof Y.ID && parent.client !== s.id.client && parent.clock >= stateOf(parent.client)) return parent.client
    return null
  }

  const integrate = (s: Y.Item | Y.GC, offset: number) => {
    const start = s.id.clock + offset
    const span: Span = { start, end: s.id.clock + s.length, ref: GARBAGE }
    const list = spans.get(s.id.client) ?? []
    list.push(span)
    spans.set(s.id.client, list)
    if (s instanceof Y.GC) return
    const left = s.origin ? lookup(s.origin) : null
    const right = s.rightOrigin ? lookup(s.rightOrigin) : null
    let parent: Parent | null = null
    let key: string | null = s.parentSub
    if ((left && 'gc' in left) || (right && 'gc' in right)) parent = null
    else if (s.parent === null) {
      const from = left ?? right
      if (from && 'doc' in from) {
        parent = { kind: 'type', type: from.doc.parent as Y.AbstractType<unknown> }
        key = from.doc.parentSub
      } else if (from && 'write' in from) {
        parent = from.write.parent
        key = from.write.key
      }
    } else if (s.parent instanceof Y.ID) {
      const p = lookup(s.parent)
      if ('doc' in p) parent = p.doc.content instanceof Y.ContentType ? { kind: 'type', type: p.doc.content.type } : null
      else if ('write' in p) parent = p.write.item.content instanceof Y.ContentType ? { kind: 'new', write: p.write } : null
    } else parent = { kind: 'root', name: s.parent as unknown as string }
    // Without a parent Yjs stores the item as garbage: no effect.
    if (parent === null) return
    const originIn = left === null ? 'none' : 'doc' in left ? 'doc' : 'update'
    const write: Write = { item: s, offset, parent, key, originIn, dead: s.content instanceof Y.ContentDeleted }
    span.ref = { write }
    writes.push(write)
  }

  // The loop of Yjs's integrateStructs, without touching the document.
  const order = [...byClient.keys()].sort((a, b) => a - b)
  const readers = new Map([...byClient].map(([client, refs]) => [client, { i: 0, refs }]))
  const nextReader = () => {
    while (order.length > 0) {
      const reader = readers.get(order[order.length - 1]!)!
      if (reader.i < reader.refs.length) return reader
      order.pop()
    }
    return null
  }
  const stack: Struct[] = []
  let reader = nextReader()
  let head: Struct | undefined = reader?.refs[reader.i++]
  while (head !== undefined) {
    if (!(head instanceof Y.Skip)) {
      const offset = stateOf(head.id.client) - head.id.clock
      if (offset < 0) throw new Unappliable(`client ${head.id.client} skips clocks ${stateOf(head.id.client)}..${head.id.clock - 1}`)
      const needed = missing(head)
      if (needed !== null) {
        stack.push(head)
        const other = readers.get(needed)
        if (!other || other.i === other.refs.length) throw new Unappliable(`depends on client ${needed} beyond what the server has`)
        head = other.refs[other.i++]!
        continue
      }
      if (offset === 0 || offset < head.length) {
        integrate(head, offset)
        state.set(head.id.client, head.id.clock + head.length)
      }
    }
    if (stack.length > 0) head = stack.pop()
    else if (reader && reader.i < reader.refs.length) head = reader.refs[reader.i++]
    else {
      reader = nextReader()
      head = reader?.refs[reader.i++]
    }
  }

  const removals: Y.Item[] = []
  for (const [client, ranges] of ds.clients) {
    const known = Y.getState(store, client)
    const end = stateOf(client)
    for (const { clock, len } of ranges) {
      if (clock + len > end) throw new Unappliable(`deletes ${client}:${clock}..${clock + len - 1}, beyond what the server has`)
      if (clock < known) {
        const list = store.clients.get(client)!
        for (let i = Y.findIndexSS(list, clock); i < list.length && list[i]!.id.clock < clock + len; i++) {
          const s = list[i]!
          if (s instanceof Y.Item && !s.deleted) removals.push(s)
        }
      }
      if (clock + len > known) markDead(spans.get(client), Math.max(clock, known), clock + len)
    }
  }
  return { writes, removals, clients: [...byClient.keys()] }
}

/** Structs by client; refuses a client in two sections and empty sections (Yjs would drop or mix them). */
function sections(update: Uint8Array, structs: Struct[]): Map<number, Struct[]> {
  const byClient = new Map<number, Struct[]>()
  let current: Struct[] | undefined
  let last = -1
  for (const s of structs) {
    if (s.id.client !== last) {
      if (byClient.has(s.id.client)) throw new Unappliable(`client ${s.id.client} in two sections`)
      current = []
      byClient.set(s.id.client, current)
      last = s.id.client
    }
    current!.push(s)
  }
  const declared = decoding.readVarUint(decoding.createDecoder(update))
  if (declared !== byClient.size) throw new Unappliable(`${declared} sections for ${byClient.size} clients`)
  return byClient
}

/** The span containing `clock` (spans of one client are integrated in clock order). */
function findSpan(list: Span[] | undefined, clock: number): Span | undefined {
  if (!list) return undefined
  let lo = 0
  let hi = list.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const span = list[mid]!
    if (clock < span.start) hi = mid - 1
    else if (clock >= span.end) lo = mid + 1
    else return span
  }
  return undefined
}

/** Mark the writes overlapping [from, to) as deleted by the update itself. */
function markDead(list: Span[] | undefined, from: number, to: number): void {
  if (!list) return
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (list[mid]!.end <= from) lo = mid + 1
    else hi = mid
  }
  for (let i = lo; i < list.length && list[i]!.start < to; i++) {
    const ref = list[i]!.ref
    if ('write' in ref) ref.write.dead = true
  }
}
