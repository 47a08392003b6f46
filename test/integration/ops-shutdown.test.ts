import { join } from 'node:path'
import { HocuspocusProvider } from '@hocuspocus/provider'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { settled } from '../helpers/clients.ts'
import { spawnServer } from '../helpers/process.ts'
import { tempDir } from '../helpers/server.ts'

describe('graceful shutdown', () => {
  it('SIGTERM during edits: exit 0 within 5 s and every acknowledged edit is there after restart', async () => {
    const dbPath = join(tempDir(), 'collab.db')
    const server = await spawnServer({ DB_PATH: dbPath })
    const doc = new Y.Doc()
    const p = new HocuspocusProvider({ url: server.url, name: 'term', token: 'open', document: doc })
    await settled(p)
    const acknowledged: number[] = []
    const sent: number[] = []
    p.on('unsyncedChanges', ({ number }: { number: number }) => {
      if (number === 0) acknowledged.push(...sent.splice(0))
    })
    let n = 0
    const writer = setInterval(() => {
      doc.getArray<number>('edits').push([n])
      sent.push(n++)
    }, 1)
    await new Promise((r) => setTimeout(r, 300))
    const t0 = Date.now()
    server.proc.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    expect(Date.now() - t0).toBeLessThan(5000)
    clearInterval(writer)
    p.destroy()
    expect(acknowledged.length).toBeGreaterThan(10)

    const again = await spawnServer({ DB_PATH: dbPath })
    const check = new HocuspocusProvider({ url: again.url, name: 'term', token: 'open', document: new Y.Doc() })
    await settled(check)
    const stored = new Set(check.document.getArray<number>('edits').toArray())
    check.destroy()
    expect(acknowledged.filter((x) => !stored.has(x))).toEqual([])
  })
})
