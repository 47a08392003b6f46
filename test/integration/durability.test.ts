import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { settled } from '../helpers/clients.ts'
import { AckedWriter, expectNoneMissing, readEdits } from '../helpers/kill9.ts'
import { spawnServer } from '../helpers/process.ts'
import { tempDir } from '../helpers/server.ts'

const ROUNDS = 20

describe('kill -9 durability (SQLite)', () => {
  it(`loses no acknowledged edit over ${ROUNDS} SIGKILLs at random moments`, async () => {
    const dbPath = join(tempDir(), 'collab.db')
    const next = { value: 0 }
    const acknowledged: number[] = []

    let server = await spawnServer({ DB_PATH: dbPath })
    for (let round = 0; round < ROUNDS; round++) {
      const writer = new AckedWriter(server.url, 'durable', next)
      await settled(writer.provider)
      writer.start()
      // SIGKILL at a random moment, with edits in flight.
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 400))
      server.proc.kill('SIGKILL')
      await server.exited
      writer.destroy()
      acknowledged.push(...writer.acknowledged)

      server = await spawnServer({ DB_PATH: dbPath }, { port: server.port })
      expectNoneMissing(acknowledged, await readEdits(server.url, 'durable'), `round ${round}`)
    }
    // The test really exercised acknowledgements across the rounds.
    expect(acknowledged.length).toBeGreaterThan(ROUNDS * 10)
    server.proc.kill('SIGTERM')
    expect(await server.exited).toBe(0)
  })
})
