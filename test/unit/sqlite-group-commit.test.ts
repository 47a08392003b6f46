import { join } from 'node:path'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { SqliteStorage } from '../../server/storage/sqlite.ts'
import { tempDir } from '../helpers/server.ts'

const update = (n: number) => new Uint8Array([0, 0, n & 0xff])

/** 40 appends, each in its own event-loop turn, as a busy server's sockets would make them. */
async function appendAcrossTurns(storage: SqliteStorage, count: number): Promise<void> {
  const pending: Promise<unknown>[] = []
  for (let i = 0; i < count; i++) {
    pending.push(storage.append(`doc-${i % 4}`, update(i)))
    await nextTurn()
  }
  await Promise.all(pending)
}

describe('SQLite group commit', () => {
  const open: SqliteStorage[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()))
  })
  const storage = (commitIntervalMs: number) => {
    const s = new SqliteStorage({ path: join(tempDir(), 'collab.db'), sync: 'normal', commitIntervalMs })
    open.push(s)
    return s
  }

  it('with no interval, every event-loop turn commits its own appends', async () => {
    const s = storage(0)
    await appendAcrossTurns(s, 40)
    expect(s.commits).toBe(40)
  })

  it('with an interval, appends of many turns share one transaction, and each resolves only once committed', async () => {
    const s = storage(1000)
    const first = s.append('doc-0', update(0))
    await first
    expect(s.commits).toBe(1)
    // Within the interval after a commit: queued, not yet committed, not yet resolved.
    let resolved = 0
    const later = Array.from({ length: 10 }, (_, i) => s.append('doc-1', update(i)).then(() => resolved++))
    await nextTurn()
    await nextTurn()
    expect(resolved).toBe(0)
    expect((await s.load('doc-1')).updates).toHaveLength(0)
    await Promise.all(later)
    expect(s.commits).toBe(2)
    expect((await s.load('doc-1')).updates).toHaveLength(10)
  })

  it('an idle store commits a lone append at the end of its turn, without waiting for the interval', async () => {
    const s = storage(1000)
    const started = performance.now()
    await s.append('doc-0', update(1))
    expect(s.commits).toBe(1)
    expect(performance.now() - started).toBeLessThan(500)
  })
})
