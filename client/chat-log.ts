/**
 * A plain mirror of the chat array that keeps reads cheap at 10,000+
 * messages: entries in order, message maps by id, cached snapshots, and
 * positions (rebuilt in one pass after the array changes). Fed by the array's
 * change deltas, so it never re-reads the whole array.
 */
import * as Y from 'yjs'
import { type ChatMessage, readMessage } from './model.ts'

/** A message `Y.Map`. */
export type MessageMap = Y.Map<unknown>

/** A message without its delivery status. */
export type Snapshot = Omit<ChatMessage, 'status'>

/** The ordered, indexed view of one chat array. */
export class MessageLog {
  /** Mirror of the array, same order. */
  private items: unknown[]
  private readonly byId = new Map<string, MessageMap>()
  private readonly snapshots = new WeakMap<MessageMap, Snapshot>()
  private positions: Map<unknown, number> | undefined

  /** Mirror `array` as it is now. */
  constructor(array: Y.Array<unknown>) {
    this.items = array.toArray()
    for (const item of this.items) if (item instanceof Y.Map) this.index(item)
  }

  /** Number of entries (messages, tombstones, and anything malformed). */
  get length(): number {
    return this.items.length
  }

  /** Apply an array change delta; returns the message maps inserted and the snapshots of those removed. */
  apply(delta: Y.YEvent<Y.Array<unknown>>['changes']['delta']): { added: MessageMap[]; removed: Snapshot[] } {
    const added: MessageMap[] = []
    const removed: Snapshot[] = []
    let index = 0
    for (const d of delta) {
      if (d.retain !== undefined) index += d.retain
      else if (d.insert !== undefined) {
        const inserted = d.insert as unknown[]
        if (index === this.items.length) {
          // Appending, the common case: positions stay valid and grow in place.
          for (const item of inserted) {
            this.positions?.set(item, this.items.length)
            this.items.push(item)
          }
        } else {
          this.positions = undefined
          this.items = [...this.items.slice(0, index), ...inserted, ...this.items.slice(index)]
        }
        index += inserted.length
        for (const item of inserted) if (item instanceof Y.Map) added.push(item)
      } else if (d.delete !== undefined) {
        this.positions = undefined
        for (const gone of this.items.splice(index, d.delete)) if (gone instanceof Y.Map) removed.push(...this.unindex(gone))
      }
    }
    for (const map of added) this.index(map)
    return { added, removed }
  }

  /** The message map with this id. */
  map(id: string): MessageMap | undefined {
    return this.byId.get(id)
  }

  /** Whether `map` is the message its id stands for (not a malformed entry or a duplicate). */
  isCurrent(map: MessageMap): boolean {
    const snap = this.snapshot(map)
    return snap !== undefined && this.byId.get(snap.id) === map
  }

  /** The snapshot of a message map (cached until `refresh`). */
  snapshot(map: MessageMap): Snapshot | undefined {
    let snap = this.snapshots.get(map)
    if (!snap) {
      snap = readMessage(map)
      if (snap) this.snapshots.set(map, snap)
    }
    return snap
  }

  /** Re-read a changed message map; returns the snapshots before and after. */
  refresh(map: MessageMap): { before: Snapshot | undefined; after: Snapshot | undefined } {
    const before = this.snapshots.get(map)
    this.snapshots.delete(map)
    return { before, after: this.snapshot(map) }
  }

  /** The snapshot at array position `i` if it is a current message. */
  at(i: number): Snapshot | undefined {
    const item = this.items[i]
    return item instanceof Y.Map && this.isCurrent(item) ? this.snapshot(item) : undefined
  }

  /** Index of message `id` in the array, or -1. O(1) after one O(n) pass per array change. */
  position(id: string): number {
    const map = this.byId.get(id)
    if (!map) return -1
    if (!this.positions) {
      const positions = new Map<unknown, number>()
      this.items.forEach((item, i) => positions.set(item, i))
      this.positions = positions
    }
    return this.positions.get(map) ?? -1
  }

  /** Index a message map by id; of two with the same id, the earlier in the array wins. */
  private index(map: MessageMap): void {
    const snap = this.snapshot(map)
    if (!snap) return
    const existing = this.byId.get(snap.id)
    if (existing === undefined) this.byId.set(snap.id, map)
    else if (existing !== map && this.items.indexOf(map) < this.items.indexOf(existing)) this.byId.set(snap.id, map)
  }

  private unindex(map: MessageMap): Snapshot[] {
    const snap = this.snapshots.get(map)
    if (!snap || this.byId.get(snap.id) !== map) return []
    this.byId.delete(snap.id)
    const twin = this.items.find((item) => item instanceof Y.Map && this.snapshot(item)?.id === snap.id)
    if (twin instanceof Y.Map) this.byId.set(snap.id, twin)
    return [snap]
  }
}
