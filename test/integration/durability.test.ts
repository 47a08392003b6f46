import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { killNineRounds } from '../helpers/kill9.ts'
import { tempDir } from '../helpers/server.ts'

const ROUNDS = 20

describe('kill -9 durability (SQLite)', () => {
  it(`loses no acknowledged edit over ${ROUNDS} SIGKILLs at random moments`, async () => {
    const acknowledged = await killNineRounds({ DB_PATH: join(tempDir(), 'collab.db') }, 'durable', ROUNDS)
    // The test really exercised acknowledgements across the rounds.
    expect(acknowledged).toBeGreaterThan(ROUNDS * 10)
  })
})
