/**
 * Per-document ordering between checking an update and applying it.
 *
 * Hocuspocus awaits `beforeSync` (our check, then the storage append) before
 * it applies an update, and other connections' updates run meanwhile. A check
 * is only valid for the document it saw, so an update holds keys from its
 * check until it has been applied (`afterHandleMessage`):
 * - `chat`: chat-changing updates of a document are checked and applied one
 *   at a time (a tombstone, an id, who wrote a key cannot change in between);
 * - each client id it has structs for: if two connections send structs of the
 *   same client at once, the later one is checked after the earlier one is in
 *   the document (otherwise its items could end up under parents the earlier
 *   one put at the same ids).
 * Honest traffic rarely waits: each client id is used by one connection.
 */
export type GateKey = number | 'chat'

/** One hold: its keys, and — only once somebody waits for it — the promise they wait on. */
class Hold {
  readonly keys: readonly GateKey[]
  private done: Promise<void> | undefined
  private resolve: (() => void) | undefined
  released = false

  constructor(keys: readonly GateKey[]) {
    this.keys = keys
  }

  /** Made on first wait: most holds are released without anybody waiting (no promise per update). */
  get whenReleased(): Promise<void> {
    if (this.released) return Promise.resolve()
    return (this.done ??= new Promise<void>((r) => (this.resolve = r)))
  }

  release(): void {
    this.released = true
    this.resolve?.()
  }
}

export class DocumentGate {
  private readonly held = new Map<GateKey, Hold>()

  /** A promise for the holders of any of `keys`, or undefined when all are free. */
  busy(keys: Iterable<GateKey>): Promise<unknown> | undefined {
    let waits: Promise<void>[] | undefined
    for (const key of keys) {
      const hold = this.held.get(key)
      if (hold) (waits ??= []).push(hold.whenReleased)
    }
    return waits ? Promise.all(waits) : undefined
  }

  /** A promise for every current holder, or undefined when nobody holds anything. */
  anyBusy(): Promise<unknown> | undefined {
    return this.held.size > 0 ? Promise.all([...new Set(this.held.values())].map((h) => h.whenReleased)) : undefined
  }

  /** Hold `keys` (all free: check `busy` first, synchronously); returns the release function. */
  hold(keys: Iterable<GateKey>): () => void {
    const hold = new Hold([...keys])
    for (const key of hold.keys) this.held.set(key, hold)
    return () => {
      if (hold.released) return
      for (const key of hold.keys) if (this.held.get(key) === hold) this.held.delete(key)
      hold.release()
    }
  }
}

const gates = new WeakMap<object, DocumentGate>()

/**
 * The gate of one loaded document, shared by every door that checks updates
 * against it (the socket guard; server-side writers should hold `chat` too
 * between their own check and apply).
 */
export function documentGate(document: object): DocumentGate {
  let gate = gates.get(document)
  if (!gate) {
    gate = new DocumentGate()
    gates.set(document, gate)
  }
  return gate
}
