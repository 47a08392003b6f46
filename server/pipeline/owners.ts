/**
 * Who owns which Yjs client id of a loaded document: the first user (token
 * `sub`) whose connection bound it as its awareness id, or whose accepted
 * update carried new structs under it (docs/security.md, "Client ids").
 *
 * Two books, in memory per loaded document:
 * - `stored`: the owners storage holds (loaded with the document, plus the
 *   claims this instance's appends won) — kept across restarts and compaction,
 *   and decided by the database between instances;
 * - `bound`: awareness bindings (this instance's connections, and entries a
 *   peer instance stamped with its user, through Redis), held while the
 *   document is loaded. The owner's first write under the id claims it in storage.
 * A stored owner wins over a binding.
 */
import type { ClientClaim } from '../storage/types.ts'

export class ClientOwners {
  private readonly stored = new Map<number, string>()
  private readonly bound = new Map<number, string>()

  ownerOf(client: number): string | undefined {
    return this.stored.get(client) ?? this.bound.get(client)
  }

  /** Whether storage holds `owner`'s claim on the id (no claim needs to be written with the next append). */
  isStored(client: number, owner: string): boolean {
    return this.stored.get(client) === owner
  }

  /** Owners as storage holds them (loaded, or won or lost by an append). */
  record(claims: readonly ClientClaim[] | undefined): void {
    for (const { client, owner } of claims ?? []) this.stored.set(client, owner)
  }

  /** A connection of `owner` speaks for the id in awareness: it is theirs unless somebody owns it already. */
  bind(client: number, owner: string): void {
    if (this.ownerOf(client) === undefined) this.bound.set(client, owner)
  }

  /** Every owner known here (stored first). */
  entries(): ClientClaim[] {
    const all = new Map([...this.bound, ...this.stored])
    return [...all].map(([client, owner]) => ({ client, owner }))
  }
}

const books = new WeakMap<object, ClientOwners>()

/** The owners of one loaded document (a Y.Doc / Hocuspocus Document), shared by every door and extension. */
export function ownersOf(document: object): ClientOwners {
  let owners = books.get(document)
  if (!owners) books.set(document, (owners = new ClientOwners()))
  return owners
}
