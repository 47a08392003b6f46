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

export class DocumentGate {
  private readonly held = new Map<GateKey, Promise<void>>()

  /** A promise for the holders of any of `keys`, or undefined when all are free. */
  busy(keys: Iterable<GateKey>): Promise<unknown> | undefined {
    const waits: Promise<void>[] = []
    for (const key of keys) {
      const p = this.held.get(key)
      if (p) waits.push(p)
    }
    return waits.length > 0 ? Promise.all(waits) : undefined
  }

  /** A promise for every current holder, or undefined when nobody holds anything. */
  anyBusy(): Promise<unknown> | undefined {
    return this.held.size > 0 ? Promise.all(this.held.values()) : undefined
  }

  /** Hold `keys` (all free: check `busy` first, synchronously); returns the release function. */
  hold(keys: Iterable<GateKey>): () => void {
    let resolve = () => {}
    const done = new Promise<void>((r) => (resolve = r))
    const mine = [...keys]
    for (const key of mine) this.held.set(key, done)
    let released = false
    return () => {
      if (released) return
      released = true
      for (const key of mine) if (this.held.get(key) === done) this.held.delete(key)
      resolve()
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
