import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Unappliable, effectsOf } from '../../server/chat/effects.ts'
import { mayTouchChat, quickRoots, surelyIntegrates } from '../../server/chat/quick.ts'
import { changedRoots, rootName } from '../../server/pipeline/roots.ts'

const sure = (doc: Y.Doc, update: Uint8Array) => surelyIntegrates(doc, update, Y.decodeUpdate(update))

function effectsClients(doc: Y.Doc, update: Uint8Array): number[] | 'unappliable' {
  try {
    return effectsOf(doc, update).clients
  } catch (error) {
    if (error instanceof Unappliable) return 'unappliable'
    throw error
  }
}

/** A deterministic generator (the test must say the same thing every run). */
function lcg(seed: number) {
  let s = seed
  return (n: number) => {
    s = (s * 1103515245 + 12345) % 2 ** 31
    return Math.floor((s / 2 ** 31) * n)
  }
}

function changeOf(doc: Y.Doc, change: () => void): Uint8Array {
  const before = Y.encodeStateVector(doc)
  change()
  return Y.encodeStateAsUpdate(doc, before)
}

describe('the quick test: an update that surely integrates now', () => {
  it('one client typing after its own last change: sure, with its client id', () => {
    const server = new Y.Doc()
    const client = new Y.Doc()
    const text = client.getText('text')
    for (let i = 0; i < 5; i++) {
      const update = changeOf(client, () => text.insert(text.length, `word ${i} `))
      expect(sure(server, update)).toEqual([client.clientID])
      Y.applyUpdate(server, update)
    }
    const removal = changeOf(client, () => text.delete(0, 3))
    expect(sure(server, removal)).toEqual(effectsClients(server, removal))
  })

  it('an update that builds on a change the server lacks, deletes what it lacks, or skips clocks: not sure (the effects decide)', () => {
    const server = new Y.Doc()
    const a = new Y.Doc()
    const b = new Y.Doc()
    const first = changeOf(a, () => a.getText('text').insert(0, 'from a'))
    Y.applyUpdate(b, first)
    const onTop = changeOf(b, () => b.getText('text').insert(3, ' b '))
    expect(sure(server, onTop)).toBeNull()
    expect(effectsClients(server, onTop)).toBe('unappliable')
    const second = changeOf(a, () => a.getText('text').insert(0, 'more '))
    expect(sure(server, second)).toBeNull()
    const removal = changeOf(a, () => a.getText('text').delete(0, 2))
    expect(sure(server, removal)).toBeNull()
  })

  it('never says sure where the effects say unappliable, and agrees on the clients (random histories)', () => {
    const next = lcg(7)
    let sures = 0
    let unappliable = 0
    let rooted = 0
    for (let round = 0; round < 200; round++) {
      const peers = [new Y.Doc(), new Y.Doc(), new Y.Doc()]
      const server = new Y.Doc()
      for (let step = 0; step < 12; step++) {
        const peer = peers[next(peers.length)]!
        const other = peers[next(peers.length)]!
        if (next(3) === 0) Y.applyUpdate(peer, Y.encodeStateAsUpdate(other))
        const text = peer.getText(next(4) === 0 ? 'title' : 'text')
        const map = peer.getMap('meta')
        const update = changeOf(peer, () => {
          const kind = next(4)
          if (kind === 0 && text.length > 2) text.delete(next(text.length - 1), 1 + next(2))
          else if (kind === 1) map.set(`k${next(3)}`, next(100))
          else text.insert(next(text.length + 1), `s${step}`)
        })
        // Sometimes the whole state of a peer against a random older server state vector.
        const candidate = next(4) === 0 ? Y.encodeStateAsUpdate(peer, Y.encodeStateVector(server)) : update
        const quick = sure(server, candidate)
        const full = effectsClients(server, candidate)
        if (full === 'unappliable') unappliable++
        if (quick !== null) {
          sures++
          expect(full).not.toBe('unappliable')
          expect([...quick].sort()).toEqual([...(full as number[])].sort())
          // The roots it changes, read from the document, are those its effects name.
          const roots = quickRoots(server, Y.decodeUpdate(candidate), rootName)
          if (roots !== null) {
            rooted++
            expect([...roots].sort()).toEqual(changedRoots(effectsOf(server, candidate)).sort())
          }
        }
        // The server misses some updates, so later ones may build on what it lacks.
        if (next(3) !== 0) Y.applyUpdate(server, candidate)
      }
    }
    expect(sures).toBeGreaterThan(100)
    expect(unappliable).toBeGreaterThan(10)
    expect(rooted).toBeGreaterThan(100)
  })
})

describe('may an update touch the chat', () => {
  it('no chat root in the document and none named: no; a chat root in either: yes', () => {
    const server = new Y.Doc()
    const client = new Y.Doc()
    const typing = changeOf(client, () => client.getText('text').insert(0, 'hi'))
    expect(mayTouchChat(server, Y.decodeUpdate(typing))).toBe(false)
    Y.applyUpdate(server, typing)
    const chat = changeOf(client, () => client.getArray('chat').push(['x']))
    expect(mayTouchChat(server, Y.decodeUpdate(chat))).toBe(true)
    const reserved = changeOf(client, () => client.getMap('collab-meta').set('a', 1))
    expect(mayTouchChat(server, Y.decodeUpdate(reserved))).toBe(true)
    Y.applyUpdate(server, chat)
    expect(mayTouchChat(server, Y.decodeUpdate(changeOf(client, () => client.getText('text').insert(0, 'x'))))).toBe(true)
  })
})
