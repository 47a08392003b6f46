import * as encoding from 'lib0/encoding'
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { MessageType, SyncStep } from '../../client/protocol.ts'
import { provider, settled } from '../helpers/clients.ts'
import { authenticatedClient, awarenessFrame, awarenessPayload, barrier, frame, updateFrame, type RawClient } from '../helpers/raw.ts'
import { startServer } from '../helpers/server.ts'

const FRAMES = 10_000
const SOCKETS = 20
const HONEST = 'honest'
const SANDBOX = 'sandbox'

/** A deterministic generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

function sampleUpdate(seed: number): Uint8Array {
  const d = new Y.Doc()
  d.clientID = 1000 + seed
  d.getText('text').insert(0, `EVIL ${seed} `.repeat(3))
  d.getMap('meta').set('k', seed)
  d.getArray('list').push([seed, { nested: 'x' }])
  return Y.encodeStateAsUpdate(d)
}

/**
 * One hostile frame. For the honest document only frames that can never be
 * valid (truncations, forbidden types, bad awareness); by-chance-valid
 * mutations (bit flips) go to the sandbox document.
 */
function hostile(r: () => number, i: number): { doc: string; data: Uint8Array } {
  const update = sampleUpdate(i % 50)
  switch (i % 5) {
    case 0: return { doc: HONEST, data: updateFrame(HONEST, update.slice(0, 1 + Math.floor(r() * (update.byteLength - 1)))) }
    case 1: {
      const flipped = update.slice()
      const n = 1 + Math.floor(r() * 3)
      for (let k = 0; k < n; k++) flipped[Math.floor(r() * flipped.length)]! ^= 1 << Math.floor(r() * 8)
      return { doc: SANDBOX, data: updateFrame(SANDBOX, flipped, r() < 0.5 ? SyncStep.Update : SyncStep.Step2) }
    }
    case 2: {
      const type = [MessageType.BroadcastStateless, MessageType.SyncStatus, MessageType.Ping, 11 + Math.floor(r() * 200)][Math.floor(r() * 4)]!
      return { doc: HONEST, data: frame(HONEST, type, (e) => encoding.writeUint8Array(e, update.slice(0, Math.floor(r() * 20)))) }
    }
    case 3: {
      const bad = [
        awarenessPayload([[Math.floor(r() * 1e6), 1, '{"user":']]),
        awarenessPayload([[1, 1, JSON.stringify([1, 2])]]),
        Uint8Array.of(1 + Math.floor(r() * 100)),
        Uint8Array.of(...awarenessPayload([[2, 2, '{}']]), Math.floor(r() * 256)),
      ][Math.floor(r() * 4)]!
      return { doc: HONEST, data: awarenessFrame(HONEST, bad) }
    }
    default: {
      const whole = updateFrame(HONEST, update)
      return { doc: HONEST, data: whole.slice(0, Math.floor(r() * whole.byteLength)) }
    }
  }
}

describe('fuzz', () => {
  it(`${FRAMES} hostile frames from ${SOCKETS} authenticated sockets: the server stays up, the honest document holds exactly what honest clients wrote`, async () => {
    const server = await startServer()
    const a = provider(server.url, HONEST)
    const b = provider(server.url, HONEST)
    await Promise.all([settled(a), settled(b)])
    let written = 0
    const honestWriter = setInterval(() => {
      ;(written % 2 ? a : b).document.getArray<number>('honest').push([written++])
    }, 20)

    let sent = 0
    let closed = 0
    await Promise.all(
      Array.from({ length: SOCKETS }, async (_, worker) => {
        const r = rng(worker + 1)
        const sockets: Record<string, RawClient> = {}
        for (let i = worker; i < FRAMES; i += SOCKETS) {
          const { doc, data } = hostile(r, i)
          sockets[doc] ??= await authenticatedClient(server.url, doc)
          const c = sockets[doc]!
          c.send(data)
          sent++
          // Wait until the server closed this socket, or answered a later question (still open).
          if ((await barrier(c, doc)) === 'closed') {
            closed++
            delete sockets[doc]
          }
        }
        for (const c of Object.values(sockets)) c.ws.close()
      }),
    )
    clearInterval(honestWriter)
    expect(sent).toBe(FRAMES)
    // Every frame aimed at the honest document was refused with its socket.
    expect(closed).toBeGreaterThanOrEqual((FRAMES * 4) / 5)

    await Promise.all([settled(a), settled(b)])
    const expected = Array.from({ length: written }, (_, i) => i)
    await vi.waitFor(() => {
      expect([...a.document.getArray<number>('honest').toArray()].sort((x, y) => x - y)).toEqual(expected)
      expect(b.document.getArray('honest').toArray()).toEqual(a.document.getArray('honest').toArray())
    })
    const live = server.hocuspocus.documents.get(HONEST)!
    expect(live.getText('text').length).toBe(0)
    expect(live.getMap('meta').size).toBe(0)
    expect(live.getArray('list').length).toBe(0)
    expect(live.getArray('honest').length).toBe(written)
    expect((await fetch(server.url.replace('ws://', 'http://').replace('/ws', '/healthz'))).status).toBe(200)
  }, 300_000)
})
