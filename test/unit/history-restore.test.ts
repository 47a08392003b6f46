import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { diffLines, diffStates } from '../../server/history/diff.ts'
import { restoreUpdate } from '../../server/history/restore.ts'
import { docFrom, documentJson, kindOf } from '../../server/history/shape.ts'

/** A document with every kind of root, rich text and nested types. */
function sample(edit: (doc: Y.Doc) => void): Y.Doc {
  const doc = new Y.Doc()
  edit(doc)
  return doc
}

const state = (doc: Y.Doc) => Y.encodeStateAsUpdate(doc)

describe('restoreUpdate', () => {
  it('turns the current content back into the old one for every kind of root, formatting and nesting included', () => {
    const live = sample((doc) => {
      doc.getText('codemirror').insert(0, 'line one\nline two\n')
      doc.getText('notes').insert(0, 'bold start', { bold: true })
      const p = new Y.XmlElement('paragraph')
      p.insert(0, [new Y.XmlText('prose')])
      doc.getXmlFragment('prosemirror').insert(0, [p])
      const message = new Y.Map<unknown>()
      message.set('id', 'm1')
      message.set('reactions', new Y.Map())
      doc.getArray('chat').push([message])
      doc.getMap('settings').set('theme', 'light')
    })
    const old = state(live)
    live.transact(() => {
      live.getText('codemirror').insert(9, 'INSERTED ')
      live.getText('notes').format(0, 4, { bold: null, italic: true })
      live.getXmlFragment('prosemirror').delete(0, 1)
      ;(live.getArray('chat').get(0) as Y.Map<Y.Map<string[]>>).get('reactions')!.set('ann', ['👍'])
      live.getArray('chat').push(['late'])
      live.getMap('settings').set('theme', 'dark')
      live.getMap('settings').set('extra', { a: 1 })
      live.getArray('junk').push([1, 2, 3])
    })
    const update = restoreUpdate(state(live), old)
    expect(update).not.toBeNull()
    Y.applyUpdate(live, update!)
    expect(documentJson(docFrom(state(live)))).toEqual(documentJson(docFrom(old)))
    expect(live.getText('notes').toDelta()).toEqual([{ insert: 'bold start', attributes: { bold: true } }])
  })

  it('is null when nothing differs, and merges with an edit made at the same time', () => {
    const live = sample((doc) => doc.getText('codemirror').insert(0, 'keep this'))
    const old = state(live)
    expect(restoreUpdate(state(live), old)).toBeNull()

    live.getText('codemirror').insert(9, ' and this mistake')
    const update = restoreUpdate(state(live), old)!
    // Meanwhile another client adds something the restore never saw.
    const other = docFrom(state(live))
    other.getText('codemirror').insert(0, '>> ')
    Y.applyUpdate(live, Y.encodeStateAsUpdate(other, Y.encodeStateVector(live)))
    Y.applyUpdate(live, update)
    expect(live.getText('codemirror').toString()).toBe('>> keep this')
  })

  it('keeps unchanged entries of an array as they are (chat messages keep their identity)', () => {
    const live = sample((doc) => doc.getArray('chat').push([new Y.Map(), new Y.Map()]))
    const first = live.getArray('chat').get(0)
    const old = state(live)
    live.getArray('chat').push([new Y.Map()])
    Y.applyUpdate(live, restoreUpdate(state(live), old)!)
    expect(live.getArray('chat').length).toBe(2)
    expect(live.getArray('chat').get(0)).toBe(first)
  })
})

describe('diff', () => {
  it('lines added and removed, in order, around a common start and end', () => {
    expect(diffLines(['a', 'b', 'c', 'd'], ['a', 'x', 'c', 'y', 'd'])).toEqual({ added: ['x', 'y'], removed: ['b'] })
    expect(diffLines([], ['a'])).toEqual({ added: ['a'], removed: [] })
    expect(diffLines(['same'], ['same'])).toEqual({ added: [], removed: [] })
  })

  it('per root type, with each type read by its content', () => {
    const a = sample((doc) => {
      doc.getMap('custom').set('k', 1)
      doc.getArray('list').push(['x'])
    })
    const b = sample((doc) => {
      doc.getMap('custom').set('k', 2)
      doc.getArray('list').push(['x', 'y'])
    })
    const fresh = docFrom(state(a))
    expect([kindOf(fresh, 'custom'), kindOf(fresh, 'list'), kindOf(fresh, 'absent')]).toEqual(['map', 'array', null])
    expect(diffStates(state(a), state(b))).toEqual({
      custom: { kind: 'map', added: ['k: 2'], removed: ['k: 1'] },
      list: { kind: 'array', added: ['"y"'], removed: [] },
    })
  })
})
