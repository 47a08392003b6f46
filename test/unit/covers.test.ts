import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { covers } from '../../server/history/covers.ts'

const state = (doc: Y.Doc) => Y.encodeStateAsUpdate(doc)

describe('covers (does a stored state hold everything in another?)', () => {
  it('two replicas with the same edits cover each other', () => {
    const a = new Y.Doc()
    const b = new Y.Doc()
    a.on('update', (update: Uint8Array) => Y.applyUpdate(b, update))
    for (const ch of 'hello') a.getText('t').insert(a.getText('t').length, ch)
    b.getText('t').insert(0, '> ')
    Y.applyUpdate(a, state(b))
    a.getText('t').delete(3, 3)
    expect(a.getText('t').toString()).toBe(b.getText('t').toString())
    expect(covers(state(a), state(b))).toBe(true)
    expect(covers(state(b), state(a))).toBe(true)
  })

  it('a state with an insertion or a deletion more is not covered; an older one is', () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'abc')
    const older = state(doc)
    doc.getText('t').insert(3, 'd')
    const inserted = state(doc)
    doc.getText('t').delete(0, 1)
    const deleted = state(doc)
    expect(covers(older, inserted)).toBe(false)
    expect(covers(inserted, deleted)).toBe(false)
    expect(covers(deleted, older)).toBe(true)
    expect(covers(deleted, deleted)).toBe(true)
  })
})
