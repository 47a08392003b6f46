import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { SyncStep } from '../../client/protocol.ts'
import { EchoFilter } from '../../server/ws/echo.ts'
import { syncMessage } from '../../server/ws/frame.ts'

function edit(text: string): Uint8Array {
  const doc = new Y.Doc()
  let update: Uint8Array | undefined
  doc.on('update', (u: Uint8Array) => (update = u))
  doc.getText('t').insert(0, text)
  return update!
}

describe('EchoFilter', () => {
  it('drops only a broadcast that is byte for byte an update the socket sent, once', () => {
    const mine = edit('mine')
    const theirs = edit('theirs')
    const filter = new EchoFilter()
    filter.remember('doc', mine)
    expect(filter.isEcho(syncMessage('doc', SyncStep.Update, theirs))).toBe(false)
    // A broadcast that merged my update with another client's carries their change: sent.
    expect(filter.isEcho(syncMessage('doc', SyncStep.Update, Y.mergeUpdates([mine, theirs])))).toBe(false)
    // Not an update message (a SyncStep2 answer with the same bytes): sent.
    expect(filter.isEcho(syncMessage('doc', SyncStep.Step2, mine))).toBe(false)
    expect(filter.isEcho(syncMessage('doc', SyncStep.Update, mine))).toBe(true)
    expect(filter.isEcho(syncMessage('doc', SyncStep.Update, mine))).toBe(false)
  })

  it('remembers a bounded number of updates', () => {
    const filter = new EchoFilter()
    const updates = Array.from({ length: 20 }, (_, i) => edit(`u${i}`))
    for (const u of updates) filter.remember('doc', u)
    expect(filter.isEcho(syncMessage('doc', SyncStep.Update, updates[0]!))).toBe(false)
    expect(filter.isEcho(syncMessage('doc', SyncStep.Update, updates[19]!))).toBe(true)
  })

  it('forgets an update whose echo did not come soon (merged or re-encoded): a late identical frame is sent', () => {
    const filter = new EchoFilter()
    const mine = edit('mine')
    filter.remember('doc', mine)
    for (let i = 0; i < 40; i++) expect(filter.isEcho(syncMessage('doc', SyncStep.Update, edit(`other ${i}`)))).toBe(false)
    expect(filter.isEcho(syncMessage('doc', SyncStep.Update, mine))).toBe(false)
  })

  it('matches the address too: another session of the document on the same socket gets the update', () => {
    const filter = new EchoFilter()
    const mine = edit('mine')
    filter.remember('doc\0s1', mine)
    expect(filter.isEcho(syncMessage('doc\0s2', SyncStep.Update, mine))).toBe(false)
    expect(filter.isEcho(syncMessage('doc', SyncStep.Update, mine))).toBe(false)
    expect(filter.isEcho(syncMessage('doc\0s1', SyncStep.Update, mine))).toBe(true)
  })

  it('keeps a copy of a small update, never a view of the frame it came in (which would keep the frame alive), and no large one', () => {
    const filter = new EchoFilter()
    const small = edit('small')
    const frame = new Uint8Array(1 << 16)
    frame.set(small, 100)
    const view = frame.subarray(100, 100 + small.byteLength)
    filter.remember('doc', view)
    frame.fill(0)
    expect(filter.isEcho(syncMessage('doc', SyncStep.Update, small))).toBe(true)
    const large = edit('x'.repeat(64 * 1024))
    filter.remember('doc', large)
    expect(filter.isEcho(syncMessage('doc', SyncStep.Update, large))).toBe(false)
  })
})
