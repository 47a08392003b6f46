/**
 * Names of people, by user id, for showing them by name when they are no
 * longer here: read receipts and reactions name user ids, and presence only
 * knows who is connected now. The page remembers every name it has seen in
 * presence (kept in localStorage, newest first, bounded) and the names on
 * messages; someone who read and left is shown by the name they had.
 */
import type { ChatMessage, PresenceEntry, Room } from '../index.ts'

const KEY = 'collab-demo:people'
/** Most people remembered; the ones seen longest ago go first. */
const MAX_PEOPLE = 500

interface Person {
  name: string
  color?: string
  /** When last seen in presence, ms. */
  seen: number
}

function load(): Map<string, Person> {
  try {
    const raw: unknown = JSON.parse(localStorage.getItem(KEY) ?? '{}')
    const out = new Map<string, Person>()
    if (typeof raw !== 'object' || raw === null) return out
    for (const [id, value] of Object.entries(raw as Record<string, unknown>)) {
      const p = value as Partial<Person> | null
      if (p && typeof p.name === 'string' && typeof p.seen === 'number') out.set(id, { name: p.name, seen: p.seen, ...(typeof p.color === 'string' ? { color: p.color } : {}) })
    }
    return out
  } catch (error) {
    console.warn('page: the remembered names cannot be read; starting afresh', error)
    return new Map()
  }
}

/** Who is who: people here now, then remembered ones, then the names on messages. */
export class People {
  private readonly room: Room
  private readonly known: Map<string, Person>

  constructor(room: Room) {
    this.room = room
    this.known = load()
  }

  /** Everyone in the room's presence now (without the local user once the room is left). */
  private here(): PresenceEntry[] {
    const others = this.room.presence.others()
    return this.room.presence.awareness.getLocalState() === null ? others : [this.room.presence.me(), ...others]
  }

  /** Remember everyone in the room's presence now (call on every presence change). */
  remember(): void {
    const now = Date.now()
    let changed = false
    for (const entry of this.here()) {
      const { id, name, color } = entry.user
      const before = this.known.get(id)
      if (before && before.name === name && before.color === color && now - before.seen < 60_000) continue
      this.known.set(id, { name, color, seen: now })
      changed = true
    }
    if (changed) this.save()
  }

  /** `id`'s name and colour: from presence now, else remembered, else from a message they wrote, else the id. */
  lookup(id: string, messages: readonly ChatMessage[] = []): { name: string; color?: string } {
    const here = this.here().find((p) => p.user.id === id)
    if (here) return { name: here.user.name, color: here.user.color }
    const remembered = this.known.get(id)
    if (remembered) return { name: remembered.name, ...(remembered.color ? { color: remembered.color } : {}) }
    const written = messages.find((m) => m.author === id && m.name)
    return { name: written?.name ?? id }
  }

  private save(): void {
    const newest = [...this.known.entries()].sort((a, b) => b[1].seen - a[1].seen).slice(0, MAX_PEOPLE)
    try {
      localStorage.setItem(KEY, JSON.stringify(Object.fromEntries(newest)))
    } catch (error) {
      console.warn('page: the names seen cannot be kept (storage full or blocked)', error)
    }
  }
}
