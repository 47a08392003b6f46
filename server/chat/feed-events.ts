/**
 * The chat events of one admitted update (docs/events.md): which messages it
 * creates, edits and deletes, read from its effects before it is applied, so
 * that the events commit in the same transaction as the update. Pure; call
 * only for an update the chat rules allowed (rules.ts), so every message it
 * creates is complete and every change is one the model defines.
 */
import * as Y from 'yjs'
import { MessageKey as K } from '../../client/model.ts'
import type { Effects, Write } from './effects.ts'
import type { Zone, Zones } from './zones.ts'

export type ChatEventType = 'chat.message.created' | 'chat.message.edited' | 'chat.message.deleted'

export interface ChatEvent {
  readonly type: ChatEventType
  /** The message as docs/chat-data-model.md §3.1 defines it (for an edit or deletion: its id, author and what changed). */
  readonly data: Record<string, unknown>
}

/** The value a live map write sets (plain JSON: the rules allowed it). */
function valueOf(w: Write): unknown {
  const content = w.item.content
  return content instanceof Y.ContentAny ? content.arr[content.arr.length - 1] : undefined
}

/** Per key, the last live value written (the one Yjs keeps of one client's writes in one update). */
function values(writes: readonly Write[]): Map<string, unknown> {
  const out = new Map<string, unknown>()
  for (const w of writes) if (w.key !== null && !w.dead && w.key !== K.reactions) out.set(w.key, valueOf(w))
  return out
}

const MESSAGE_KEYS = [K.version, K.id, K.author, K.name, K.text, K.createdAt, K.replyTo, K.editedAt, K.deleted, K.deletedAt, K.deletedBy] as const

export function chatEvents(effects: Effects, zones: Zones): ChatEvent[] {
  const created = new Map<Write, Zone>()
  const newMessages = new Map<Write, Write[]>()
  const changed = new Map<Y.Map<unknown>, Write[]>()
  for (const w of effects.writes) {
    const zone = zones.ofParent(w.parent, created)
    if (zone.kind === 'chat') newMessages.set(w, newMessages.get(w) ?? [])
    else if (zone.kind === 'new-message') newMessages.set(zone.entry, [...(newMessages.get(zone.entry) ?? []), w])
    else if (zone.kind === 'message') changed.set(zone.map, [...(changed.get(zone.map) ?? []), w])
  }
  const events: ChatEvent[] = []
  for (const fields of newMessages.values()) {
    const set = values(fields)
    const message: Record<string, unknown> = {}
    for (const key of MESSAGE_KEYS) if (set.has(key)) message[key] = set.get(key)
    message[K.reactions] = {}
    events.push({ type: 'chat.message.created', data: message })
  }
  for (const [map, writes] of changed) {
    const set = values(writes)
    const base = { id: map.get(K.id), author: map.get(K.author) }
    if (set.get(K.deleted) === true && map.get(K.deleted) !== true) {
      events.push({ type: 'chat.message.deleted', data: { ...base, deletedBy: set.get(K.deletedBy), deletedAt: set.get(K.deletedAt) } })
    } else if (set.has(K.text) && map.get(K.deleted) !== true) {
      events.push({ type: 'chat.message.edited', data: { ...base, text: set.get(K.text), editedAt: set.get(K.editedAt) ?? map.get(K.editedAt) ?? null } })
    }
  }
  return events
}
