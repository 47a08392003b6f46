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
    // 20 restarts: ~20 s alone, past 60 s beside a stress run on 2 cores (CI 2026-12-02).
  }, 180_000)
})

describe('kill -9 durability with a commit interval (SQLite)', () => {
  it('loses no acknowledged edit when appends wait for a shared commit (DB_COMMIT_INTERVAL_MS=20)', async () => {
    // A wide window, so most kills land while appends are queued and unacknowledged.
    const rounds = 8
    const acknowledged = await killNineRounds({ DB_PATH: join(tempDir(), 'collab.db'), DB_COMMIT_INTERVAL_MS: '20' }, 'durable-window', rounds, 50)
    // Fewer acks than above (each waits up to 20 ms), but enough to show the window was exercised.
    expect(acknowledged).toBeGreaterThan(rounds * 4)
  }, 180_000)
})
