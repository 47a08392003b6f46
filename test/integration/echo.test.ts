import * as decoding from 'lib0/decoding'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { MessageType, SyncStep } from '../../client/protocol.ts'
import { outboundUpdate, sameBytes } from '../../server/ws/frame.ts'
import { authFrame, authReply, authenticatedClient, rawClient, readFrame, updateFrame } from '../helpers/raw.ts'
import { metric } from '../helpers/rest.ts'
import { startServer } from '../helpers/server.ts'

function edit(doc: Y.Doc, text: string): Uint8Array {
  let update: Uint8Array | undefined
  const take = (u: Uint8Array) => (update = u)
  doc.on('update', take)
  doc.getText('text').insert(0, text)
  doc.off('update', take)
  return update!
}

const isAck = (d: Uint8Array) => {
  const { type, decoder } = readFrame(d)
  return type === MessageType.SyncStatus && decoding.readVarUint(decoder) === 1
}
const carries = (update: Uint8Array) => (d: Uint8Array) => {
  const u = outboundUpdate(d)
  return u !== undefined && sameBytes(u, update)
}

describe('no echo of a client’s own update', () => {
  it('the sender gets its ack, not its update back; the others get the update', async () => {
    const server = await startServer()
    const a = await authenticatedClient(server.url, 'echo')
    const b = await authenticatedClient(server.url, 'echo')
    const docA = new Y.Doc()
    const docB = new Y.Doc()
    const mine = edit(docA, 'from a. ')
    a.send(updateFrame('echo', mine, SyncStep.Update))
    await a.next(isAck)
    await b.next(carries(mine))

    // Barrier: an update from b reaches a after anything the server sent a for its own update.
    Y.applyUpdate(docB, mine)
    const theirs = edit(docB, 'from b. ')
    b.send(updateFrame('echo', theirs, SyncStep.Update))
    const at = a.received.indexOf(await a.next(carries(theirs)))
    expect(a.received.slice(0, at).filter(carries(mine))).toEqual([])
    expect(await metric(server.url.replace(/^ws/, 'http').replace(/\/ws$/, ''), 'collab_echoes_dropped_total')).toBeGreaterThanOrEqual(1)
  })

  it('another session of the document on the same socket still gets the update (the echo is per address)', async () => {
    const server = await startServer()
    const c = await rawClient(server.url)
    const s1 = 'echo\0s1'
    const s2 = 'echo\0s2'
    // s2 attaches first, so it comes first in the document's connections.
    c.send(authFrame(s2))
    await c.next((d) => authReply(d) !== null && readFrame(d).address === s2)
    c.send(authFrame(s1))
    await c.next((d) => authReply(d) !== null && readFrame(d).address === s1)
    const mine = edit(new Y.Doc(), 'from s1. ')
    const from = c.received.length
    c.send(updateFrame(s1, mine, SyncStep.Update))
    await c.next((d) => readFrame(d).address === s1 && isAck(d), from)
    // Barrier: an update from another socket reaches s2 after anything sent to s2 for s1's update.
    const other = await authenticatedClient(server.url, 'echo')
    const theirs = edit(new Y.Doc(), 'from another socket. ')
    other.send(updateFrame('echo', theirs, SyncStep.Update))
    const at = c.received.indexOf(await c.next((d) => readFrame(d).address === s2 && carries(theirs)(d), from))
    const before = c.received.slice(from, at)
    expect(before.filter((d) => readFrame(d).address === s2 && carries(mine)(d))).toHaveLength(1)
    expect(before.filter((d) => readFrame(d).address === s1 && carries(mine)(d))).toHaveLength(0)
  })
})
