/**
 * The chat guard's read-only model of Yjs (server/chat/effects.ts, yata.ts)
 * against Yjs itself: random concurrent edits by several replicas, each update
 * predicted on the server's document and then really applied to a copy. The
 * prediction must match: each new item's parent and key, the deletions, which
 * updates Yjs would park, and which map write becomes a key's value.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { type Parent, Unappliable, effectsOf } from '../../server/chat/effects.ts'
import { endsCurrent } from '../../server/chat/yata.ts'

function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

const pathOfType = (type: Y.AbstractType<unknown>): string =>
  type._item ? `${type._item.id.client}:${type._item.id.clock}` : `root:${Y.findRootTypeKey(type)}`
const pathOfParent = (p: Parent): string =>
  p.kind === 'type' ? pathOfType(p.type) : p.kind === 'root' ? `root:${p.name}` : `${p.write.item.id.client}:${p.write.item.id.clock}`

/** One random edit: text, the chat array of maps, map keys (message fields, reactions), nested maps. */
function edit(doc: Y.Doc, r: () => number): void {
  const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(r() * xs.length)]
  const chat = doc.getArray<Y.Map<unknown>>('chat')
  const maps = chat.toArray().filter((m) => m instanceof Y.Map)
  doc.transact(() => {
    const n = 1 + Math.floor(r() * 3)
    for (let i = 0; i < n; i++) {
      const what = r()
      const text = doc.getText('codemirror')
      if (what < 0.2) text.insert(Math.floor(r() * (text.length + 1)), 'abc'.slice(0, 1 + Math.floor(r() * 3)))
      else if (what < 0.3 && text.length > 0) text.delete(Math.floor(r() * text.length), 1)
      else if (what < 0.45) {
        const m = new Y.Map<unknown>([['id', `m${Math.floor(r() * 1e6)}`], ['text', 'x']])
        m.set('reactions', new Y.Map())
        if (r() < 0.8 || chat.length === 0) chat.push([m])
        else chat.insert(Math.floor(r() * chat.length), [m])
      } else if (what < 0.75 && maps.length > 0) {
        const m = pick(maps)!
        const key = pick(['text', 'deleted', 'editedAt', 'deletedBy'])!
        if (r() < 0.85) m.set(key, r() < 0.5 ? `v${Math.floor(r() * 100)}` : true)
        else m.delete(key)
      } else if (what < 0.9 && maps.length > 0) {
        const reactions = pick(maps)!.get('reactions')
        if (reactions instanceof Y.Map) {
          const user = pick(['ann', 'bob', 'cy'])!
          if (r() < 0.7) reactions.set(user, ['👍'])
          else reactions.delete(user)
        }
      } else if (what < 0.95 && chat.length > 0) chat.delete(Math.floor(r() * chat.length), 1)
      else doc.getMap('chat-reads').set(pick(['ann', 'bob'])!, { id: 'm', at: Math.floor(r() * 100) })
    }
  })
}

/** How many map-winner predictions were compared (the YATA port must be exercised). */
let winnersCompared = 0

/** Predict `update` on `server`, apply it to a copy, compare; then apply it to `server`. */
function predictAndApply(server: Y.Doc, update: Uint8Array): 'applied' | 'parked' {
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(server))
  let effects
  try {
    effects = effectsOf(server, update)
  } catch (error) {
    expect(error).toBeInstanceOf(Unappliable)
    Y.applyUpdate(copy, update)
    expect(copy.store.pendingStructs !== null || copy.store.pendingDs !== null).toBe(true)
    return 'parked'
  }
  // Single new writes per map key whose origin is in the document: where YATA puts them.
  const perKey = new Map<string, number>()
  for (const w of effects.writes) if (w.key !== null) perKey.set(`${pathOfParent(w.parent)}/${w.key}`, (perKey.get(`${pathOfParent(w.parent)}/${w.key}`) ?? 0) + 1)
  const predictedCurrent = new Map<string, boolean>()
  for (const w of effects.writes) {
    if (w.parent.kind !== 'type' || w.key === null || w.originIn === 'update' || w.offset !== 0 || w.item.length !== 1) continue
    if (perKey.get(`${pathOfParent(w.parent)}/${w.key}`) !== 1) continue
    predictedCurrent.set(`${w.item.id.client}:${w.item.id.clock}`, endsCurrent(server, w.parent.type, w.key, w.item))
  }
  // A removal may delete part of a longer item (a text run): some clock of it must end up deleted.
  const removed = effects.removals.map((item) => ({ client: item.id.client, clock: item.id.clock, length: item.length }))

  Y.applyUpdate(copy, update)
  expect(copy.store.pendingStructs).toBe(null)
  expect(copy.store.pendingDs).toBe(null)
  for (const w of effects.writes) {
    const actual = Y.getItem(copy.store, Y.createID(w.item.id.client, w.item.id.clock + w.offset))
    expect(actual).toBeInstanceOf(Y.Item)
    const item = actual as Y.Item
    expect(pathOfType(item.parent as Y.AbstractType<unknown>)).toBe(pathOfParent(w.parent))
    expect(item.parentSub).toBe(w.key)
    const current = predictedCurrent.get(`${w.item.id.client}:${w.item.id.clock}`)
    if (current === undefined) continue
    winnersCompared++
    expect((item.parent as Y.AbstractType<unknown>)._map.get(w.key!) === item && !item.deleted).toBe(current && !w.dead)
  }
  for (const { client, clock, length } of removed) {
    const clocks = Array.from({ length }, (_, i) => clock + i)
    expect(clocks.some((c) => Y.getItem(copy.store, Y.createID(client, c)).deleted)).toBe(true)
  }
  Y.applyUpdate(server, update)
  return 'applied'
}

describe('the chat guard’s model of Yjs', () => {
  it('predicts parents, keys, deletions, parking and map winners exactly as Yjs applies them (random concurrent edits)', () => {
    let applied = 0
    let parked = 0
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(seed)
      const server = new Y.Doc()
      const replicas = [1, 2, 3].map((id) => {
        const doc = new Y.Doc()
        doc.clientID = id * 1000 + seed
        return doc
      })
      const unsent = new Map<Y.Doc, Uint8Array[]>(replicas.map((d) => [d, []]))
      for (const d of replicas) d.on('update', (u: Uint8Array) => unsent.get(d)!.push(u))
      for (let step = 0; step < 60; step++) {
        const d = replicas[Math.floor(r() * replicas.length)]!
        const roll = r()
        if (roll < 0.55) edit(d, r)
        else if (roll < 0.7) {
          // An incremental update, possibly skipping an earlier one (missing dependencies).
          const queue = unsent.get(d)!
          if (queue.length === 0) continue
          const u = r() < 0.2 && queue.length > 1 ? queue.splice(1, 1)[0]! : queue.shift()!
          if (predictAndApply(server, u) === 'applied') applied++
          else parked++
        } else {
          // A reconnect: SyncStep2 of everything the server lacks (deleted items as ContentDeleted), then catch up.
          const step2 = Y.encodeStateAsUpdate(d, Y.encodeStateVector(server))
          if (predictAndApply(server, step2) === 'applied') applied++
          Y.applyUpdate(d, Y.encodeStateAsUpdate(server, Y.encodeStateVector(d)))
          unsent.set(d, [])
        }
      }
    }
    expect(applied).toBeGreaterThan(500)
    expect(parked).toBeGreaterThan(10)
    expect(winnersCompared).toBeGreaterThan(200)
  })
})
