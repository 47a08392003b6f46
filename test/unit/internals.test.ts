/**
 * Pins every assumption server/internals.ts makes about the installed
 * Hocuspocus, Yjs and lib0: when an upgrade breaks one, this fails.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { dropParkedStructs, parkedStructs, withoutUpdateListeners } from '../../server/internals.ts'

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
})
