/**
 * Work that runs one round at a time: a wake while a round runs makes one
 * more round after it — never two at once, never a wake lost (the outbox
 * reader and webhook delivery both follow a head this way).
 */
export class Rerun {
  private current: Promise<void> | undefined
  private again = false
  private readonly work: () => Promise<void>
  private readonly onError: (error: unknown) => void

  constructor(work: () => Promise<void>, onError: (error: unknown) => void) {
    this.work = work
    this.onError = onError
  }

  wake(): void {
    if (this.current) {
      this.again = true
      return
    }
    this.current = this.work()
      .catch(this.onError)
      .finally(() => {
        this.current = undefined
        if (this.again) {
          this.again = false
          this.wake()
        }
      })
  }

  /** The round under way found more to do: run another after it. */
  another(): void {
    this.again = true
  }

  /** Resolves once the round under way, if any, is done. */
  settled(): Promise<void> | undefined {
    return this.current
  }
}
