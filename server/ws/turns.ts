/**
 * Large writes of one document take turns: at most `parallel` at once, the
 * others wait in order; a turn ends when its write is out, or after `slotMs`
 * (a slow reader does not hold a turn). Written side by side, every copy of a
 * large document to a crowd finishes near the end; in turns, half the crowd
 * has it in half the time, and the total is the same.
 */
export const PARALLEL_WRITES = 4
export const SLOT_MS = 1000

interface Queue {
  active: number
  waiting: Array<() => Promise<unknown>>
}

export class Turns {
  private readonly queues = new WeakMap<object, Queue>()
  private readonly parallel: number
  private readonly slotMs: number

  constructor(parallel = PARALLEL_WRITES, slotMs = SLOT_MS) {
    this.parallel = parallel
    this.slotMs = slotMs
  }

  /** Run `write` (it resolves once its bytes are out) in its turn among `key`'s writes. */
  take(key: object, write: () => Promise<unknown>): void {
    let queue = this.queues.get(key)
    if (!queue) this.queues.set(key, (queue = { active: 0, waiting: [] }))
    if (queue.active < this.parallel) this.start(queue, write)
    else queue.waiting.push(write)
  }

  /** Start every write of `key` still waiting, now. */
  flush(key: object): void {
    const queue = this.queues.get(key)
    for (const write of queue?.waiting.splice(0) ?? []) this.start(queue!, write)
  }

  private start(queue: Queue, write: () => Promise<unknown>): void {
    queue.active += 1
    let ended = false
    const end = () => {
      if (ended) return
      ended = true
      clearTimeout(timer)
      queue.active -= 1
      const next = queue.waiting.shift()
      if (next) this.start(queue, next)
    }
    const timer = setTimeout(end, this.slotMs).unref()
    void write().then(end, end)
  }
}
