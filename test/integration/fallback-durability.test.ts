/**
 * The durable ack on the HTTP fallback: an edit acknowledged over a fallback
 * session is on disk — kill -9 at random moments loses none (the same rounds
 * as durability.test.ts, with the writer's socket an HTTP session).
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { killNineRounds } from '../helpers/kill9.ts'
import { tempDir } from '../helpers/server.ts'

const ROUNDS = 6

describe('kill -9 durability over the HTTP fallback (SQLite)', () => {
  it(`loses no edit acknowledged over a fallback session over ${ROUNDS} SIGKILLs at random moments`, async () => {
    const acknowledged = await killNineRounds({ DB_PATH: join(tempDir(), 'collab.db') }, 'durable-http', ROUNDS, 200, 'http')
    expect(acknowledged).toBeGreaterThan(ROUNDS * 10)
  }, 180_000)
})
