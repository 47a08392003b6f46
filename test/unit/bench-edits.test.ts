import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { editsInDoc, makeEdit, readEdits, type Edit } from '../../bench/lib/edits.ts'

function updatesOf(doc: Y.Doc, act: () => void): Uint8Array[] {
  const updates: Uint8Array[] = []
  const listen = (u: Uint8Array) => updates.push(u)
  doc.on('update', listen)
  act()
  doc.off('update', listen)
  return updates
}

describe('bench edits', () => {
  it('a chat edit is a chat-data-model message whose id carries sender, seq and time', () => {
    const doc = new Y.Doc()
    const [update] = updatesOf(doc, () => makeEdit(doc, 'chat', { sender: 7, seq: 3, t: 123456 }))
    const message = doc.getArray<Y.Map<unknown>>('chat').get(0)
    expect(message.toJSON()).toMatchObject({ v: 1, id: '7.3.123456', author: 'user-7', reactions: {} })
    expect(typeof message.get('text')).toBe('string')
    const out: Edit[] = []
    expect(readEdits(update!, out)).toBe(0)
    expect(out).toEqual([{ sender: 7, seq: 3, t: 123456 }])
  })

  it('reads every edit of a merged update and of a whole document, text and chat alike', () => {
    const doc = new Y.Doc()
    const updates = updatesOf(doc, () => {
      for (let seq = 0; seq < 3; seq++) {
        makeEdit(doc, 'chat', { sender: 1, seq, t: 10 + seq })
        makeEdit(doc, 'text', { sender: 2, seq, t: 20 + seq })
      }
    })
    const out: Edit[] = []
    expect(readEdits(Y.mergeUpdates(updates), out)).toBe(0)
    expect(out).toHaveLength(6)
    const whole = editsInDoc(doc)
    expect(whole.bad).toBe(0)
    expect(whole.edits.map((e) => `${e.sender}.${e.seq}`).sort()).toEqual(['1.0', '1.1', '1.2', '2.0', '2.1', '2.2'])
  })

  it('counts content that is not a bench edit', () => {
    const doc = new Y.Doc()
    const [update] = updatesOf(doc, () => doc.getArray('chat').push(['stray']))
    expect(readEdits(update!, [])).toBe(1)
    expect(editsInDoc(doc).bad).toBe(1)
  })
})
