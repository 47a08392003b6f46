/**
 * Documents being deleted. Hocuspocus lets a document go before its storage
 * is emptied; a load that started in between would bring the old content
 * back into memory while storage is emptied under it (and the edits made on
 * it would be stored without their base). Loads of a name wait here until
 * its deletion has committed, and then find it empty.
 */
export class Deletions {
  private readonly pending = new Map<string, Promise<void>>()

  /** Run `deletion` for `name`; loads of `name` wait until it has ended, however it ends. */
  async run<T>(name: string, deletion: () => Promise<T>): Promise<T> {
    const before = this.pending.get(name)
    const done = (async () => {
      await before?.catch(() => {})
      return deletion()
    })()
    const settled = done.then(
      () => {},
      () => {},
    )
    this.pending.set(name, settled)
    try {
      return await done
    } finally {
      if (this.pending.get(name) === settled) this.pending.delete(name)
    }
  }

  /** Resolves once no deletion of `name` is under way (at once when none is). */
  settled(name: string): Promise<void> | undefined {
    return this.pending.get(name)
  }
}
