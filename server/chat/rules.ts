/**
 * The chat rules of docs/chat-data-model.md §7, checked against the effects
 * of one update (effects.ts) before anything of it is stored or applied.
 * Throws `Violation` for the first broken rule; the caller refuses the whole
 * update. With `principal` null (open mode) only the structural rules apply.
 */
import * as Y from 'yjs'
import {
  CHAT_MODEL_VERSION,
  MAX_NAME_LENGTH,
  MAX_REACTION_LENGTH,
  MAX_REACTIONS_PER_USER,
  MAX_TEXT_LENGTH,
  MessageKey as K,
} from '../../client/model.ts'
import type { Effects, Write } from './effects.ts'
import type { MessageIds } from './ids.ts'
import { endsCurrent } from './yata.ts'
import { type Zone, Zones } from './zones.ts'

/** The user an update is checked for; null in open mode (no identity). */
export interface Principal {
  readonly id: string
  readonly admin: boolean
}

/** A broken rule; `rule` is a short stable name for logs and metrics. */
export class Violation extends Error {
  readonly rule: string
  constructor(rule: string, detail: string) {
    super(`${rule}: ${detail}`)
    this.name = 'Violation'
    this.rule = rule
  }
}

/** Longest id of a new message. */
export const MAX_ID_LENGTH = 128

const KNOWN = new Set<string>(Object.values(K))
/** Set when the message is created, never changed. */
const IMMUTABLE = new Set<string>([K.version, K.id, K.author, K.name, K.createdAt, K.replyTo, K.reactions])
const REQUIRED = [K.version, K.id, K.author, K.name, K.text, K.createdAt, K.reactions] as const
const TOMBSTONE = [K.deleted, K.deletedAt, K.deletedBy] as const

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_LENGTH

/** The value a live map write sets (the last element of its content), or throws if it is not plain JSON. */
function valueOf(w: Write): unknown {
  const content = w.item.content
  if (!(content instanceof Y.ContentAny)) throw new Violation('not-json', `key "${w.key}" holds ${content.constructor.name}`)
  return content.arr[content.arr.length - 1]
}

/** Common to every write into a chat map: a key, appended with `set` (no right origin), JSON or deleted content. */
function mapWrite(w: Write, where: string, allowType = false): void {
  if (w.key === null) throw new Violation('not-a-map-entry', `a list item in ${where}`)
  if (w.item.rightOrigin !== null) throw new Violation('not-a-map-entry', `a map item with a right origin in ${where}`)
  if (w.dead) return
  if (allowType && w.item.content instanceof Y.ContentType) return
  valueOf(w)
}

function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const k = keyOf(item)
    const list = groups.get(k)
    if (list) list.push(item)
    else groups.set(k, [item])
  }
  return groups
}

function validReactions(v: unknown): boolean {
  return (
    Array.isArray(v) &&
    v.length > 0 &&
    v.length <= MAX_REACTIONS_PER_USER &&
    new Set(v).size === v.length &&
    v.every((e) => typeof e === 'string' && e.length > 0 && e.length <= MAX_REACTION_LENGTH)
  )
}

function validMark(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const { id, at, ...rest } = v as Record<string, unknown>
  return typeof id === 'string' && id.length > 0 && isFiniteNumber(at) && Object.keys(rest).length === 0
}

/** Checks one update's effects; returns whether it touches the chat at all. */
export function checkEffects(doc: Y.Doc, effects: Effects, principal: Principal | null, zones: Zones, ids: () => MessageIds): boolean {
  const created = new Map<Write, Zone>()
  const entries: Write[] = []
  const newFields = new Map<Write, Write[]>()
  const existing = new Map<Y.Map<unknown>, { writes: Write[]; removals: Y.Item[] }>()
  const forMessage = (map: Y.Map<unknown>) => {
    let m = existing.get(map)
    if (!m) existing.set(map, (m = { writes: [], removals: [] }))
    return m
  }
  /** A user may write only their own key of `chat-reads` and of reactions maps. */
  const ownKey = (key: string | null, where: string) => {
    if (principal && key !== principal.id) throw new Violation('not-own-key', `${principal.id} wrote key "${key}" of ${where}`)
  }
  let touches = false

  for (const w of effects.writes) {
    const zone = zones.ofParent(w.parent, created)
    if (zone.kind === 'none') continue
    touches = true
    switch (zone.kind) {
      case 'forbidden':
        throw new Violation('outside-model', zone.why)
      case 'chat':
        entries.push(w)
        break
      case 'reads':
        mapWrite(w, 'chat-reads')
        ownKey(w.key, 'chat-reads')
        if (!w.dead && !validMark(valueOf(w))) throw new Violation('invalid-value', `read mark of "${w.key}"`)
        break
      case 'reactions':
        mapWrite(w, 'reactions')
        ownKey(w.key, 'reactions')
        if (!w.dead && !validReactions(valueOf(w))) throw new Violation('invalid-value', `reactions of "${w.key}"`)
        break
      case 'message':
        forMessage(zone.map).writes.push(w)
        break
      case 'new-message': {
        const list = newFields.get(zone.entry)
        if (list) list.push(w)
        else newFields.set(zone.entry, [w])
        break
      }
    }
  }

  for (const item of effects.removals) {
    const zone = zones.ofType(item.parent as Y.AbstractType<unknown>)
    if (zone.kind === 'none') continue
    touches = true
    if (zone.kind === 'forbidden') throw new Violation('outside-model', zone.why)
    if (zone.kind === 'chat') throw new Violation('entry-removed', 'chat entries are never removed (deletion is a tombstone)')
    if (zone.kind === 'reads' || zone.kind === 'reactions') ownKey(item.parentSub, zone.kind === 'reads' ? 'chat-reads' : 'reactions')
    if (zone.kind === 'message') forMessage(zone.map).removals.push(item)
  }

  const seen = new Set<string>()
  for (const entry of entries) checkNewMessage(entry, newFields.get(entry) ?? [], principal, ids, seen)
  for (const [map, change] of existing) checkMessageChange(doc, map, change.writes, change.removals, principal)
  return touches
}

function checkNewMessage(entry: Write, fields: Write[], principal: Principal | null, ids: () => MessageIds, seen: Set<string>): void {
  const { item } = entry
  if (entry.key !== null || entry.dead || entry.offset !== 0 || !(item.content instanceof Y.ContentType) || !(item.content.type instanceof Y.Map)) {
    throw new Violation('not-a-message', 'chat entries are message maps, pushed whole')
  }
  if (item.rightOrigin !== null) throw new Violation('not-appended', 'messages are appended with push (no right origin)')
  for (const w of fields) {
    mapWrite(w, 'a new message', w.key === K.reactions)
    if (!KNOWN.has(w.key!)) throw new Violation('unknown-key', `message key "${w.key}"`)
  }
  const byKey = groupBy(fields, (w) => w.key!)
  for (const key of REQUIRED) if (!byKey.has(key)) throw new Violation('incomplete-message', `no "${key}"`)
  const once = (key: string): unknown => {
    const ws = byKey.get(key)
    if (!ws) return undefined
    const w = ws[0]!
    if (ws.length > 1 || w.dead || w.item.origin !== null) throw new Violation('immutable-field', `"${key}" is set once, when the message is created`)
    return key === K.reactions ? w.item.content : valueOf(w)
  }
  const [v, id, author, name, createdAt, replyTo, reactions] = [K.version, K.id, K.author, K.name, K.createdAt, K.replyTo, K.reactions].map(once)
  if (v !== CHAT_MODEL_VERSION) throw new Violation('invalid-value', `v ${JSON.stringify(v)}`)
  if (!isId(id)) throw new Violation('invalid-value', 'id')
  if (seen.has(id) || ids().has(id)) throw new Violation('duplicate-id', `message id ${id} exists`)
  seen.add(id)
  if (!isId(author)) throw new Violation('invalid-value', 'author')
  if (principal && author !== principal.id) throw new Violation('not-author', `${principal.id} sent a message as ${author}`)
  if (typeof name !== 'string' || name.length > MAX_NAME_LENGTH) throw new Violation('invalid-value', 'name')
  if (!isFiniteNumber(createdAt)) throw new Violation('invalid-value', 'createdAt')
  if (replyTo !== undefined && typeof replyTo !== 'string') throw new Violation('invalid-value', 'replyTo')
  if (!(reactions instanceof Y.ContentType) || !(reactions.type instanceof Y.Map)) throw new Violation('invalid-value', 'reactions is not a map')
  // The author's own later changes in the same update (offline edits, reactions, deletion).
  checkMutableFields(byKey, principal, author, false)
}

function checkMessageChange(doc: Y.Doc, map: Y.Map<unknown>, writes: Write[], removals: Y.Item[], principal: Principal | null): void {
  for (const w of writes) mapWrite(w, 'a message')
  const keys = new Set<string>([...writes.map((w) => w.key!), ...removals.map((r) => r.parentSub ?? '')])
  for (const key of keys) {
    if (!KNOWN.has(key)) throw new Violation('unknown-key', `message key "${key}"`)
    if (IMMUTABLE.has(key)) throw new Violation('immutable-field', `"${key}" of an existing message`)
  }
  const author = map.get(K.author)
  const tombstone = map.get(K.deleted) === true
  const byKey = groupBy(writes, (w) => w.key!)
  const removed = groupBy(removals, (r) => r.parentSub!)
  checkMutableFields(byKey, principal, typeof author === 'string' ? author : undefined, tombstone, removed)
  if (tombstone) {
    for (const key of TOMBSTONE) {
      if (!map.has(key)) continue
      const ws = byKey.get(key) ?? []
      // Yjs keeps at most one live item per map key — its current value — and
      // `removals` holds live items only: a removal at this key removes the current value.
      const currentRemoved = removed.has(key)
      if (ws.length === 0) {
        if (currentRemoved) throw new Violation('undelete', `"${key}" removed from a tombstone`)
        continue
      }
      const w = ws[0]!
      if (ws.length > 1 || w.offset !== 0 || w.item.length !== 1 || w.originIn === 'update') {
        throw new Violation('undelete', `several or merged writes to "${key}" of a tombstone`)
      }
      const wins = endsCurrent(doc, map, key, w.item)
      if (wins ? w.dead : currentRemoved) throw new Violation('undelete', `"${key}" of a tombstone would be unset`)
    }
  }
}

/** `text`, `editedAt` and the tombstone keys: who may write them, and with what. */
function checkMutableFields(
  byKey: Map<string, Write[]>,
  principal: Principal | null,
  author: string | undefined,
  tombstone: boolean,
  removed: Map<string, Y.Item[]> = new Map(),
): void {
  const isAuthor = principal === null || principal.id === author
  const mayDelete = isAuthor || principal?.admin === true
  const live = (key: string) => (byKey.get(key) ?? []).filter((w) => !w.dead).map(valueOf)
  const touched = (key: string) => byKey.has(key) || removed.has(key)
  const who = principal?.id ?? 'someone'

  if (touched(K.text)) {
    const texts = live(K.text)
    if (texts.some((t) => typeof t !== 'string' || t.length > MAX_TEXT_LENGTH)) throw new Violation('invalid-value', 'text')
    // An admin deleting someone's message empties its text; nothing else.
    if (!isAuthor && !(mayDelete && texts.every((t) => t === ''))) throw new Violation('not-author', `${who} edited ${author}'s text`)
  }
  if (touched(K.editedAt)) {
    if (!isAuthor) throw new Violation('not-author', `${who} set editedAt on ${author}'s message`)
    if (!live(K.editedAt).every(isFiniteNumber)) throw new Violation('invalid-value', 'editedAt')
  }
  if (TOMBSTONE.some(touched) && !mayDelete) throw new Violation('not-author', `${who} deleted ${author}'s message`)
  if (!live(K.deleted).every((v) => v === true)) throw new Violation('invalid-value', 'deleted is only ever true')
  if (!live(K.deletedAt).every(isFiniteNumber)) throw new Violation('invalid-value', 'deletedAt')
  if (!live(K.deletedBy).every((v) => (principal ? v === principal.id : isId(v)))) throw new Violation('invalid-value', 'deletedBy is the deleting user')
  if (!tombstone && live(K.deleted).length > 0) {
    // Deleting = a tombstone: text emptied, who and when recorded, in the same update.
    if (!live(K.text).includes('') || live(K.deletedAt).length === 0 || live(K.deletedBy).length === 0) {
      throw new Violation('incomplete-delete', 'a deletion sets text "", deletedAt and deletedBy with deleted')
    }
  }
}
