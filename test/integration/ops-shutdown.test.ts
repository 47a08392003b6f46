import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { AckedWriter, FAST_WRITERS, expectNoneMissing, readEdits } from '../helpers/kill9.ts'
import { spawnServer } from '../helpers/process.ts'
import { tempDir } from '../helpers/server.ts'

describe('graceful shutdown', () => {
  it('SIGTERM during edits: exit 0 within 5 s and every acknowledged edit is there after restart', async () => {
    const dbPath = join(tempDir(), 'collab.db')
    const server = await spawnServer({ ...FAST_WRITERS, DB_PATH: dbPath })
    const writer = new AckedWriter(server.url, 'term', { value: 0 })
    await writer.settled()
    writer.start()
    // In the middle of a stream of edits: once some are acknowledged, more are in flight.
    await writer.acknowledgedAtLeast(20)
    const t0 = Date.now()
    server.proc.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    expect(Date.now() - t0).toBeLessThan(5000)
    writer.destroy()

    const again = await spawnServer({ DB_PATH: dbPath })
    expectNoneMissing(writer.acknowledged, await readEdits(again.url, 'term'), 'after SIGTERM')
  })
})
