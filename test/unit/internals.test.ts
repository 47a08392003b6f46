/**
 * Pins every assumption server/internals.ts makes about the installed
 * Hocuspocus, Yjs and lib0: when an upgrade breaks one, this fails.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { dropParkedStructs, keyItems, parkedStructs, withoutUpdateListeners } from '../../server/internals.ts'

/** An update whose dependency is not in it: Yjs parks it. */
function dependentUpdate(): Uint8Array {
  const origin = new Y.Doc()
  origin.getText('t').insert(0, 'base ')
  const before = Y.encodeStateVector(origin)
  origin.getText('t').insert(5, 'needs base')
  return Y.encodeStateAsUpdate(origin, before)
}

describe('server/internals.ts assumptions', () => {
  it('(1) a Y.Doc with its update listeners detached emits no update event, and gets them back', () => {
    const doc = new Y.Doc()
    const seen: number[] = []
    doc.on('update', (u: Uint8Array) => seen.push(u.byteLength))
    withoutUpdateListeners(doc, () => doc.getText('t').insert(0, 'quiet'))
    expect(seen).toEqual([])
    doc.getText('t').insert(0, 'loud ')
    expect(seen).toHaveLength(1)
    expect(doc.getText('t').toString()).toBe('loud quiet')
  })

  it('(2) parked structs are seen and dropped, and the document stays usable', () => {
    const doc = new Y.Doc()
    expect(parkedStructs(doc)).toBeNull()
    Y.applyUpdate(doc, dependentUpdate())
    const parked = parkedStructs(doc)
    expect(parked?.missing).toBeDefined()
    expect(Object.keys(parked!.missing!)).toHaveLength(1)
    dropParkedStructs(doc)
    expect(parkedStructs(doc)).toBeNull()
    // Gone for good: the full state no longer carries them.
    const copy = new Y.Doc()
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
    expect(parkedStructs(copy)).toBeNull()
  })

  it("(3) a type's map entries: per key the item of its current value, the key's older items to its left, a deleted value kept", () => {
    const a = new Y.Doc()
    const b = new Y.Doc()
    a.clientID = 1
    b.clientID = 2
    a.getMap('m').set('k', 'from a')
    b.getMap('m').set('k', 'from b') // concurrent: the higher client id wins
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
    const map = a.getMap('m')
    expect(map.get('k')).toBe('from b')
    const current = keyItems(map).get('k')
    expect(current).toBeInstanceOf(Y.Item)
    expect(current!.right).toBeNull()
    expect(current!.deleted).toBe(false)
    expect(current!.content.getContent()).toEqual(['from b'])
    expect(current!.left?.id.client).toBe(a.clientID) // the losing write, deleted
    expect(current!.left?.deleted).toBe(true)
    expect(current!.left?.left).toBeNull()
    map.delete('k')
    expect(keyItems(map).get('k')).toBe(current)
    expect(current!.deleted).toBe(true)
    // A root read from an update, before any code gave it a class, has its entries too.
    const plain = new Y.Doc()
    Y.applyUpdate(plain, Y.encodeStateAsUpdate(a))
    const root = plain.share.get('m')!
    expect(root).not.toBeInstanceOf(Y.Map)
    expect([...keyItems(root).keys()]).toEqual(['k'])
    expect(keyItems(root).get('k')!.id).toEqual(current!.id)
  })
})
