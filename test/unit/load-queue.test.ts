import { describe, expect, it } from 'vitest'
import { LoadQueue } from '../../server/storage/load-queue.ts'

/** A load that runs until `finish` is called. */
function gated() {
  let finish!: () => void
  const done = new Promise<void>((resolve) => (finish = resolve))
  return { done, finish }
}

describe('load queue: bounded concurrent loads', () => {
  it('runs at most `concurrency` loads at once; the rest wait in order and all complete', async () => {
    const queue = new LoadQueue(2)
    const gates = Array.from({ length: 5 }, gated)
    const started: number[] = []
    let peak = 0
    const runs = gates.map((g, i) =>
      queue.run(async () => {
        started.push(i)
        peak = Math.max(peak, queue.active)
        await g.done
        return i
      }),
    )
    await Promise.resolve()
    expect(started).toEqual([0, 1])
    expect(queue.length).toBe(3)
    gates[1]!.finish()
    await runs[1]
    expect(started).toEqual([0, 1, 2])
    for (const g of gates) g.finish()
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4])
    expect(peak).toBe(2)
    expect([queue.active, queue.length]).toEqual([0, 0])
  })

  it('a failed load frees its slot', async () => {
    const queue = new LoadQueue(1)
    await expect(queue.run(async () => Promise.reject(new Error('storage down')))).rejects.toThrow('storage down')
    expect(await queue.run(async () => 'next')).toBe('next')
    expect(queue.active).toBe(0)
  })

  it('0: no bound', async () => {
    const queue = new LoadQueue(0)
    const gates = Array.from({ length: 20 }, gated)
    const runs = gates.map((g) => queue.run(() => g.done))
    expect([queue.active, queue.length]).toEqual([20, 0])
    for (const g of gates) g.finish()
    await Promise.all(runs)
    expect(queue.active).toBe(0)
  })
})
