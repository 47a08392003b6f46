import { join } from 'node:path'
import { HocuspocusProvider } from '@hocuspocus/provider'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { settled } from '../helpers/clients.ts'
import { spawnServer } from '../helpers/process.ts'
import { tempDir } from '../helpers/server.ts'

const ROUNDS = 20

/** Read the whole document from a running server with a fresh client. */
async function readBack(url: string, name: string): Promise<number[]> {
  const doc = new Y.Doc()
  const p = new HocuspocusProvider({ url, name, token: 'open', document: doc })
  try {
    await settled(p)
    return doc.getArray<number>('edits').toArray()
  } finally {
    p.destroy()
  }
}

describe('kill -9 durability', () => {
  it(`loses no acknowledged edit over ${ROUNDS} SIGKILLs at random moments`, async () => {
    const dbPath = join(tempDir(), 'collab.db')
    let next = 0
    const acknowledged: number[] = []
    let lost = 0

    let server = await spawnServer({ DB_PATH: dbPath })
    for (let round = 0; round < ROUNDS; round++) {
      const doc = new Y.Doc()
      const edits = doc.getArray<number>('edits')
      const p = new HocuspocusProvider({ url: server.url, name: 'durable', token: 'open', document: doc })
      await settled(p)

      // Edit continuously; whenever the server has acknowledged everything,
      // every edit made so far is acknowledged (acks come after the disk write).
      const sent: number[] = []
      p.on('unsyncedChanges', ({ number }: { number: number }) => {
        if (number === 0) acknowledged.push(...sent.splice(0))
      })
      const writer = setInterval(() => {
        for (let i = 0; i < 5; i++) {
          edits.push([next])
          sent.push(next++)
        }
      }, 2)

      // SIGKILL at a random moment, with edits in flight.
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 400))
      server.proc.kill('SIGKILL')
      await server.exited
      clearInterval(writer)
      p.destroy()

      server = await spawnServer({ DB_PATH: dbPath }, { port: server.port })
      const stored = new Set(await readBack(server.url, 'durable'))
      const missing = acknowledged.filter((n) => !stored.has(n))
      lost += missing.length
      expect(missing, `round ${round}: acknowledged edits missing after kill -9`).toEqual([])
    }
    expect(lost).toBe(0)
    // The test really exercised acknowledgements across the rounds.
    expect(acknowledged.length).toBeGreaterThan(ROUNDS * 10)
    server.proc.kill('SIGTERM')
    expect(await server.exited).toBe(0)
  })
})
