/**
 * The chat rules (docs/chat-data-model.md §7) for writes that come in without a
 * socket (REST): the same checks the chat guard runs in `beforeSync` for
 * socket updates (server/chat: the update's effects on the document, checked
 * for the writing user), so a REST writer can no more forge, edit or remove
 * another user's messages than a socket client can.
 */
import type * as Y from 'yjs'
import { Unappliable, effectsOf } from '../chat/effects.ts'
import { messageIds } from '../chat/ids.ts'
import { type Principal, Violation, checkEffects } from '../chat/rules.ts'
import { Zones } from '../chat/zones.ts'
import { WriteRefused } from '../errors.ts'

export type { Principal } from '../chat/rules.ts'

export class ChatRules {
  private readonly zones = new Zones()

  /** Throws WriteRefused (`policy-violation`, `missing-dependencies`) when `update` may not be applied to `doc` by `principal` (null: open mode). */
  check(doc: Y.Doc, update: Uint8Array, principal: Principal | null): void {
    try {
      checkEffects(doc, effectsOf(doc, update), principal, this.zones, () => messageIds(doc))
    } catch (error) {
      if (error instanceof Violation) throw new WriteRefused('policy-violation', error.message)
      if (error instanceof Unappliable) throw new WriteRefused('missing-dependencies', error.message)
      throw error
    }
  }
}
