import * as Y from 'yjs'
import { Errors } from '../../../client/protocol.ts'
import type { ClientClaim } from '../../storage/types.ts'
import { ownersOf } from '../owners.ts'
import { Refusal, Replace, type Write, type WriteCheck } from '../write.ts'

/** A state vector past every clock: `Y.diffUpdate` against it leaves none of those clients' structs (and every deletion). */
const everything = (clients: Iterable<number>) => Y.encodeStateVector(new Map([...clients].map((c) => [c, Number.MAX_SAFE_INTEGER])))

/**
 * Nobody writes under somebody else's name (docs/security.md, "Client ids").
 * A struct is new when its clock range reaches past the document's state
 * vector for its client id; only new Items and GC structs count (Skip structs
 * and structs the document holds are ignored, whoever sends them). New
 * structs under an id another user owns are taken out of the update — the
 * rest goes on (and is deferred, like any update with missing dependencies,
 * if it no longer integrates without them). The ids the writer uses first are
 * claimed for them, in the append's transaction (`write.claims`). Open mode
 * (no user): off. A restore's fresh client id is claimed like any other.
 */
export const ownershipCheck: WriteCheck = {
  name: 'ownership',
  check(write: Write): Replace | undefined {
    const user = write.writer.principal?.id
    write.claims = []
    if (user === undefined) return undefined
    const store = write.document.store
    const fresh = new Set<number>()
    for (const struct of write.decoded.structs) {
      if (struct instanceof Y.Skip) continue
      const { client, clock } = struct.id
      if (clock + struct.length > Y.getState(store, client)) fresh.add(client)
    }
    if (fresh.size === 0) return undefined
    const owners = ownersOf(write.document)
    const claims: ClientClaim[] = []
    const dropped: ClientClaim[] = []
    for (const client of fresh) {
      const owner = owners.ownerOf(client)
      if (owner !== undefined && owner !== user) dropped.push({ client, owner })
      else if (!owners.isStored(client, user)) claims.push({ client, owner: user })
    }
    write.claims = claims
    if (dropped.length === 0) return undefined
    const rest = Y.diffUpdate(write.update, everything(dropped.map((d) => d.client)))
    const detail = `new structs under client ids of other users: ${dropped.map((d) => `${d.client} (${d.owner})`).join(', ')}`
    return new Replace(rest, new Refusal(Errors.ClientIdOwned, detail), dropped)
  },
}
