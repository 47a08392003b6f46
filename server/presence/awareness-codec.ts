/**
 * The few awareness frames the server writes itself (y-protocols encoding of
 * an awareness update: count, then per entry client id, clock, state JSON).
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { MessageType } from '../../client/protocol.ts'

export interface ClockedId {
  id: number
  clock: number
}

/** An awareness update that removes each client id at its clock. */
export function removalUpdate(entries: readonly ClockedId[]): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, entries.length)
  for (const { id, clock } of entries) {
    encoding.writeVarUint(e, id)
    encoding.writeVarUint(e, clock)
    encoding.writeVarString(e, 'null')
  }
  return encoding.toUint8Array(e)
}

/** An awareness update that sets one client's state at `clock`. */
export function stateUpdate(id: number, clock: number, state: Record<string, unknown>): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 1)
  encoding.writeVarUint(e, id)
  encoding.writeVarUint(e, clock)
  encoding.writeVarString(e, JSON.stringify(state))
  return encoding.toUint8Array(e)
}

/** The removal entries (state `null`) of an awareness update; throws on a malformed one. */
export function removalsIn(update: Uint8Array): ClockedId[] {
  const decoder = decoding.createDecoder(update)
  const count = decoding.readVarUint(decoder)
  const removals: ClockedId[] = []
  for (let i = 0; i < count; i++) {
    const id = decoding.readVarUint(decoder)
    const clock = decoding.readVarUint(decoder)
    if (decoding.readVarString(decoder) === 'null') removals.push({ id, clock })
  }
  return removals
}

/**
 * Frames that make a y-protocols client publish its own state again, with a
 * clock newer than `clock` (the one this document holds for it): first its own
 * removal at that clock — y-protocols never lets a remote remove the local
 * state, it increases its clock instead (without sending: the provider does not
 * echo what it received) — then QueryAwareness, which it answers with its
 * states, its own at the new clock.
 */
export function reannounceFrames(address: string, own: ClockedId): Uint8Array[] {
  const removal = encoding.createEncoder()
  encoding.writeVarString(removal, address)
  encoding.writeVarUint(removal, MessageType.Awareness)
  encoding.writeVarUint8Array(removal, removalUpdate([own]))
  const query = encoding.createEncoder()
  encoding.writeVarString(query, address)
  encoding.writeVarUint(query, MessageType.QueryAwareness)
  return [encoding.toUint8Array(removal), encoding.toUint8Array(query)]
}
