import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ColdSync, FLUSH_WAIT_MS, HOLD_BUILD_BYTES, HOLD_BUILD_MAX_MS, QUIET_MS, type ColdWaiter } from '../../server/ws/cold-sync.ts'

/** A socket waiting for a load: its writes complete only when the test says so. */
function waiter() {
  const writes: Array<() => void> = []
  const w: ColdWaiter & { writes: typeof writes; served: number } = {
    writes,
    served: 0,
    send: () => new Promise<void>((resolve) => writes.push(resolve)),
    release: () => {},
    servedSnapshot: () => void (w.served += 1),
  }
  return w
}

/** Whether `p` has resolved, once pending microtasks have run. */
async function isDone(p: Promise<void>): Promise<boolean> {
  let done = false
  void p.then(() => (done = true))
  await vi.advanceTimersByTimeAsync(0)
  return done
}

const stored = (bytes: number) => ({ snapshot: new Uint8Array(bytes), updates: [] })

describe('cold sync: when the build of a document served from storage may start', () => {
  beforeEach(() => void vi.useFakeTimers())
  afterEach(() => void vi.useRealTimers())

  it('a small snapshot: as soon as every copy is out', async () => {
    const cold = new ColdSync()
    const a = waiter()
    cold.join('doc', a)
    const served = cold.offer('doc', stored(1000), true)!
    expect(a.served).toBe(1)
    expect(await isDone(served.flushed)).toBe(false)
    for (const write of a.writes) write()
    expect(await isDone(served.flushed)).toBe(true)
  })

  it('a small snapshot read slowly: after FLUSH_WAIT_MS at the latest', async () => {
    const cold = new ColdSync()
    cold.join('doc', waiter())
    const served = cold.offer('doc', stored(1000), true)!
    await vi.advanceTimersByTimeAsync(FLUSH_WAIT_MS - 1)
    expect(await isDone(served.flushed)).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(await isDone(served.flushed)).toBe(true)
  })

  it('nobody waiting: at once', async () => {
    const served = new ColdSync().offer('doc', stored(HOLD_BUILD_BYTES), true)!
    expect(await isDone(served.flushed)).toBe(true)
  })

  it('a large snapshot: held while a crowd is still arriving, then QUIET_MS after the last copy is out', async () => {
    const cold = new ColdSync()
    const first = waiter()
    cold.join('doc', first)
    const served = cold.offer('doc', stored(HOLD_BUILD_BYTES), true)!
    for (const write of first.writes) write()
    await vi.advanceTimersByTimeAsync(QUIET_MS - 10)
    expect(await isDone(served.flushed)).toBe(false)
    // Another reader joins before the quiet period is over: served at once, and the build waits for its copy.
    const second = waiter()
    cold.join('doc', second)
    expect(second.served).toBe(1)
    await vi.advanceTimersByTimeAsync(QUIET_MS * 3)
    expect(await isDone(served.flushed)).toBe(false)
    for (const write of second.writes) write()
    await vi.advanceTimersByTimeAsync(QUIET_MS - 1)
    expect(await isDone(served.flushed)).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(await isDone(served.flushed)).toBe(true)
  })

  it('a large snapshot read slowly: after HOLD_BUILD_MAX_MS at the latest', async () => {
    const cold = new ColdSync()
    cold.join('doc', waiter())
    const served = cold.offer('doc', stored(HOLD_BUILD_BYTES), true)!
    await vi.advanceTimersByTimeAsync(HOLD_BUILD_MAX_MS - 1)
    expect(await isDone(served.flushed)).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(await isDone(served.flushed)).toBe(true)
  })
})
