import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ColdSync, FLUSH_WAIT_MS, HOLD_BUILD_BYTES, HOLD_BUILD_MAX_MS, QUIET_MS, STALL_MS, type ColdWaiter } from '../../server/ws/cold-sync.ts'
import { PARALLEL_WRITES as PARALLEL_COPIES, SLOT_MS } from '../../server/ws/turns.ts'

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

  it('a small snapshot, nobody waiting: at once', async () => {
    const served = new ColdSync().offer('doc', stored(1000), true)!
    expect(await isDone(served.flushed)).toBe(true)
  })

  it('a large snapshot, nobody waiting yet: QUIET_MS for a first reader to join', async () => {
    const cold = new ColdSync()
    const served = cold.offer('doc', stored(HOLD_BUILD_BYTES), true)!
    await vi.advanceTimersByTimeAsync(QUIET_MS - 10)
    const late = waiter()
    cold.join('doc', late)
    expect(late.served).toBe(1)
    await vi.advanceTimersByTimeAsync(QUIET_MS)
    expect(await isDone(served.flushed)).toBe(false)
    for (const write of late.writes) write()
    await vi.advanceTimersByTimeAsync(QUIET_MS)
    expect(await isDone(served.flushed)).toBe(true)
    expect(await isDone(new ColdSync().offer('other', stored(HOLD_BUILD_BYTES), true)!.flushed)).toBe(false)
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

  it('a large snapshot: held while copies go out or readers join, not once nothing happened for STALL_MS', async () => {
    const cold = new ColdSync()
    const [fast, slow] = [waiter(), waiter()]
    cold.join('doc', fast)
    cold.join('doc', slow)
    const served = cold.offer('doc', stored(HOLD_BUILD_BYTES), true)!
    await vi.advanceTimersByTimeAsync(STALL_MS - 10)
    for (const write of fast.writes) write()
    await vi.advanceTimersByTimeAsync(STALL_MS)
    expect(await isDone(served.flushed)).toBe(false)
    cold.join('doc', waiter())
    await vi.advanceTimersByTimeAsync(STALL_MS)
    expect(await isDone(served.flushed)).toBe(false)
    // Nothing finished and nobody joined since the last look: the build starts.
    await vi.advanceTimersByTimeAsync(STALL_MS)
    expect(await isDone(served.flushed)).toBe(true)
  })

  it('a large snapshot: an edit for the document ends the hold at once', async () => {
    const cold = new ColdSync()
    cold.join('doc', waiter())
    const served = cold.offer('doc', stored(HOLD_BUILD_BYTES), true)!
    cold.wanted('other')
    expect(await isDone(served.flushed)).toBe(false)
    cold.wanted('doc')
    expect(await isDone(served.flushed)).toBe(true)
  })

  it('a large snapshot to readers that keep going: after HOLD_BUILD_MAX_MS at the latest', async () => {
    const cold = new ColdSync()
    const readers = Array.from({ length: Math.ceil((2 * HOLD_BUILD_MAX_MS) / (STALL_MS / 2)) }, () => waiter())
    for (const r of readers) cold.join('doc', r)
    const served = cold.offer('doc', stored(HOLD_BUILD_BYTES), true)!
    let elapsed = 0
    for (const r of readers) {
      await vi.advanceTimersByTimeAsync(STALL_MS / 2)
      elapsed += STALL_MS / 2
      for (const write of r.writes) write()
      if (elapsed < HOLD_BUILD_MAX_MS) expect(await isDone(served.flushed)).toBe(false)
      else break
    }
    expect(await isDone(served.flushed)).toBe(true)
  })

  it('a large snapshot: PARALLEL_COPIES written at once, the rest in turn (when one is out, or after SLOT_MS); all at once when the build starts', async () => {
    const cold = new ColdSync()
    const readers = Array.from({ length: PARALLEL_COPIES + 3 }, () => waiter())
    for (const r of readers) cold.join('doc', r)
    const served = cold.offer('doc', stored(HOLD_BUILD_BYTES), true)!
    const writing = () => readers.filter((r) => r.writes.length > 0).length
    expect(readers.every((r) => r.served === 1)).toBe(true)
    expect(writing()).toBe(PARALLEL_COPIES)
    for (const write of readers[0]!.writes) write()
    await vi.advanceTimersByTimeAsync(0)
    expect(writing()).toBe(PARALLEL_COPIES + 1)
    await vi.advanceTimersByTimeAsync(SLOT_MS)
    expect(writing()).toBe(PARALLEL_COPIES + 3)
    cold.wanted('doc')
    expect(await isDone(served.flushed)).toBe(true)

    const crowd = Array.from({ length: PARALLEL_COPIES + 2 }, () => waiter())
    for (const r of crowd) cold.join('next', r)
    const next = cold.offer('next', stored(HOLD_BUILD_BYTES), true)!
    expect(crowd.filter((r) => r.writes.length > 0)).toHaveLength(PARALLEL_COPIES)
    cold.wanted('next')
    expect(await isDone(next.flushed)).toBe(true)
    expect(crowd.every((r) => r.writes.length > 0)).toBe(true)
  })

  it('a reader that leaves while its copy waits its turn is not written to, and does not hold the build', async () => {
    const cold = new ColdSync()
    const readers = Array.from({ length: PARALLEL_COPIES + 1 }, () => waiter())
    const cancels = readers.map((r) => cold.join('doc', r))
    const served = cold.offer('doc', stored(HOLD_BUILD_BYTES), true)!
    const last = readers[PARALLEL_COPIES]!
    expect(last.writes).toHaveLength(0)
    cancels[PARALLEL_COPIES]!()
    for (const r of readers.slice(0, PARALLEL_COPIES)) for (const write of r.writes) write()
    await vi.advanceTimersByTimeAsync(QUIET_MS)
    expect(await isDone(served.flushed)).toBe(true)
    expect(last.writes).toHaveLength(0)
  })
})
