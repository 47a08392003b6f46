import * as encoding from 'lib0/encoding'
import { createCollabServer } from '../../server/app.ts'
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { CloseCode, MessageType } from '../../client/protocol.ts'
import { provider, settled } from '../helpers/clients.ts'
import {
  barrier,
  authenticatedClient,
  awarenessFrame,
  awarenessPayload,
  frame,
  updateFrame,
} from '../helpers/raw.ts'
import { startServer } from '../helpers/server.ts'

const DOC = 'target'

/** A valid Yjs update that must never reach the document: its text is "EVIL…". */
function evilUpdate(): Uint8Array {
  const d = new Y.Doc()
  d.getText('text').insert(0, 'EVIL hostile content that must never be applied')
  d.getMap('meta').set('owner', 'mallory')
  return Y.encodeStateAsUpdate(d)
}

/** Send one hostile frame on a fresh authenticated socket; resolve with the close code. */
async function sendHostile(url: string, data: Uint8Array | string): Promise<number> {
  const c = await authenticatedClient(url, DOC)
  c.send(data)
  // Still open once the server answered a later question: -1.
  return (await barrier(c, DOC)) === 'open' ? -1 : c.closed
}

/** Run `jobs` with at most `n` at once. */
async function pool<T>(items: T[], n: number, job: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items]
  await Promise.all(Array.from({ length: n }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await job(item)
  }))
}

describe('hostile frames from authenticated sockets', () => {
  it('cut off the offender with a named code; the document holds exactly what honest clients wrote', async () => {
    const server = await startServer()
    const a = provider(server.url, DOC)
    const b = provider(server.url, DOC)
    await Promise.all([settled(a), settled(b)])
    a.document.getText('text').insert(0, 'honest A. ')
    await settled(a)

    const evil = evilUpdate()
    const cases: Array<{ what: string; data: Uint8Array | string; codes: number[] }> = []
    // Every truncation of a valid update, properly framed.
    for (let n = 1; n < evil.byteLength; n++) {
      cases.push({ what: `update truncated to ${n}`, data: updateFrame(DOC, evil.slice(0, n)), codes: [CloseCode.MalformedMessage.code] })
    }
    // Every truncation of the whole frame.
    const whole = updateFrame(DOC, evil)
    for (let n = 1; n < whole.byteLength; n++) {
      cases.push({ what: `frame truncated to ${n}`, data: whole.slice(0, n), codes: [CloseCode.MalformedMessage.code] })
    }
    // Message types a client may not send.
    for (const type of [MessageType.BroadcastStateless, MessageType.SyncStatus, MessageType.Ping, 11, 42, 127, 128, 255, 9999]) {
      cases.push({ what: `type ${type}`, data: frame(DOC, type, (e) => encoding.writeUint8Array(e, Uint8Array.of(1, 2, 3))), codes: [CloseCode.UnsupportedMessage.code] })
    }
    // Bad sync sub-types and bad state vectors.
    cases.push({ what: 'sync step 7', data: updateFrame(DOC, evil, 7), codes: [CloseCode.MalformedMessage.code] })
    cases.push({ what: 'bad state vector', data: updateFrame(DOC, Uint8Array.of(5, 1), 0), codes: [CloseCode.MalformedMessage.code] })
    // Bad awareness.
    const badAwareness: Array<[string, Uint8Array]> = [
      ['invalid JSON', awarenessPayload([[1, 1, '{not json']])],
      ['array state', awarenessPayload([[1, 1, '[1,2,3]']])],
      ['number state', awarenessPayload([[1, 1, '42']])],
      ['count past the end', Uint8Array.of(200, 1)],
      ['trailing bytes', Uint8Array.of(...awarenessPayload([[1, 1, '{}']]), 9, 9)],
      ['truncated', awarenessPayload([[1, 1, '{"user":{"name":"x"}}']]).slice(0, 8)],
    ]
    for (const [what, payload] of badAwareness) cases.push({ what: `awareness: ${what}`, data: awarenessFrame(DOC, payload), codes: [CloseCode.MalformedMessage.code] })
    // Text frames.
    cases.push({ what: 'text frame', data: 'hello', codes: [CloseCode.TextFrame.code] })
    cases.push({ what: 'text frame JSON', data: '{"type":"sync"}', codes: [CloseCode.TextFrame.code] })
    // Noise: random bytes addressed to the document. A few decode by chance
    // (e.g. a QueryAwareness); those may keep the socket open (-1), but must
    // still leave the document untouched (checked below).
    let seed = 42
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
    for (let i = 0; i < 50; i++) {
      const noise = Uint8Array.from({ length: 1 + Math.floor(rand() * 64) }, () => Math.floor(rand() * 256))
      cases.push({ what: `noise ${i}`, data: Uint8Array.of(...frame(DOC, 0).slice(0, -1), ...noise), codes: [CloseCode.MalformedMessage.code, CloseCode.UnsupportedMessage.code, -1] })
    }

    const wrong: string[] = []
    await pool(cases, 8, async (c) => {
      const code = await sendHostile(server.url, c.data)
      if (!c.codes.includes(code)) wrong.push(`${c.what}: closed with ${code}, expected ${c.codes.join(' or ')}`)
    })
    expect(wrong).toEqual([])
    expect(cases.length).toBeGreaterThan(200)

    // Honest clients never noticed and keep syncing.
    b.document.getText('text').insert(b.document.getText('text').length, 'honest B.')
    await Promise.all([settled(a), settled(b)])
    await vi.waitFor(() => expect(a.document.getText('text').toString()).toBe('honest A. honest B.'))
    expect(b.document.getText('text').toString()).toBe('honest A. honest B.')
    expect(a.document.getMap('meta').size).toBe(0)
    const res = await fetch(server.url.replace('ws://', 'http://').replace('/ws', '/healthz'))
    expect(res.status).toBe(200)

    // Storage holds exactly the honest content too: reload from the same file.
    const { dbPath } = server.config
    await server.close()
    const again = createCollabServer({ ...server.config, port: 0, dbPath }, { logger: server.logger })
    await again.listen()
    try {
      const fresh = provider(again.url, DOC)
      await settled(fresh)
      expect(fresh.document.getText('text').toString()).toBe('honest A. honest B.')
      expect(fresh.document.getMap('meta').size).toBe(0)
    } finally {
      await again.close()
    }
  })
})
