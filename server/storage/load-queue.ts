/**
 * Admission control for document loads: at most `concurrency` loads run at
 * once (read from storage, build the `Y.Doc`), the others wait in arrival
 * order. A storm of reconnects or a crowd on many documents then holds at
 * most that many stored states in memory at a time, and waits instead of
 * being closed — closing would only add reconnects.
 */
export class LoadQueue {
  private readonly concurrency: number
  private running = 0
  private readonly waiting: Array<() => void> = []

  /** `concurrency`: loads at once (0: no bound). */
  constructor(concurrency: number) {
    this.concurrency = concurrency
  }

  /** Loads waiting for a slot. */
  get length(): number {
    return this.waiting.length
  }

  /** Loads running now. */
  get active(): number {
    return this.running
  }

  /** Run `load` once a slot is free; the slot is freed when it settles. */
  async run<T>(load: () => Promise<T>): Promise<T> {
    if (this.concurrency > 0 && this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve))
    else this.running++
    try {
      return await load()
    } finally {
      // The slot goes straight to the next in line (running stays), or is freed.
      const next = this.waiting.shift()
      if (next) next()
      else this.running--
    }
  }
}
