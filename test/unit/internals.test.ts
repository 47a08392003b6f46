/**
 * Pins every assumption server/internals.ts makes about the installed
 * Hocuspocus, Yjs and lib0: when an upgrade breaks one, this fails.
 */
import { Hocuspocus } from '@hocuspocus/server'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { clientConnectionView, dropParkedStructs, keyItems, parkedStructs, withoutUpdateListeners } from '../../server/internals.ts'

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

  it("(4) a type's map entries: per key the item of its current value, the key's older items to its left, a deleted value kept", () => {
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

  it('(3) a Hocuspocus ClientConnection has the socket id its hooks carry, and its per-address queue once authenticated', async () => {
    const ids: string[] = []
    let release = () => {}
    const loading = new Promise<void>((resolve) => (release = resolve))
    const hocuspocus = new Hocuspocus({
      quiet: true,
      extensions: [
        {
          async onAuthenticate({ socketId }: { socketId: string }) {
            ids.push(socketId)
          },
          // Hold the document's load, so messages for it wait in the queue.
          async onLoadDocument() {
            await loading
          },
        },
      ],
    })
    const sent: Uint8Array[] = []
    const socket = {
      send: (d: Uint8Array) => sent.push(d),
      close: () => {},
      readyState: 1,
    }
    const client = hocuspocus.handleConnection(socket as never, new Request('http://127.0.0.1/ws'), {})
    const view = clientConnectionView(client)
    expect(typeof view.socketId).toBe('string')
    expect(view.queue('doc')).toBeUndefined() // not authenticated
    // An Auth frame (varString 'doc', type 2, Token 0, varString 'open'), then a message held for the document.
    const auth = Uint8Array.of(3, 100, 111, 99, 2, 0, 4, 111, 112, 101, 110)
    client.handleMessage(auth)
    await expect.poll(() => ids).toEqual([view.socketId])
    // A SyncStep1 with an empty state vector, sent while the document loads.
    const step1 = Uint8Array.of(3, 100, 111, 99, 0, 0, 1, 0)
    client.handleMessage(step1)
    await expect.poll(() => view.queue('doc')?.some((m) => m.byteLength === step1.byteLength && m.every((b, i) => b === step1[i]))).toBe(true)
    release()
    hocuspocus.closeConnections()
  })
})
