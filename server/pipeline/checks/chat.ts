import { Errors } from '../../../client/protocol.ts'
import { type ChatEvent, chatEvents } from '../../chat/feed-events.ts'
import { messageIds } from '../../chat/ids.ts'
import { mayTouchChat } from '../../chat/quick.ts'
import { Violation, checkEffects } from '../../chat/rules.ts'
import { Zones } from '../../chat/zones.ts'
import { Refusal, type Write, type WriteCheck } from '../write.ts'

/**
 * The chat rules (docs/chat-data-model.md §7) on the update's effects, for
 * the writing user: nobody forges, edits or removes another's messages. A
 * restore is the server's own change made for an admin, not held to them (it
 * may take back messages sent after the version). Marks whether the write
 * touches the chat, so the pipeline serialises chat writes per document.
 */
export class ChatCheck implements WriteCheck {
  readonly name = 'chat'
  private readonly zones = new Zones()
  private readonly touching = new WeakSet<Write>()
  private readonly born = new WeakMap<Write, ChatEvent[]>()

  check(write: Write): Refusal | undefined {
    if (write.door === 'restore') return undefined
    // No chat in the document and none named by the update: nothing here for the rules (server/chat/quick.ts).
    if (!mayTouchChat(write.document, write.decoded)) {
      this.touching.delete(write)
      this.born.delete(write)
      return undefined
    }
    try {
      if (checkEffects(write.document, write.effects(), write.writer.principal, this.zones, () => messageIds(write.document))) {
        this.touching.add(write)
        this.born.set(write, chatEvents(write.effects(), this.zones))
      } else {
        this.touching.delete(write)
        this.born.delete(write)
      }
      return undefined
    } catch (error) {
      if (!(error instanceof Violation)) throw error
      return new Refusal(Errors.PolicyViolation, error.message, { rule: error.rule, mayBeStale: true })
    }
  }

  /** The chat events of `write` as last checked (docs/events.md): they commit with its append. */
  events(write: Write): readonly ChatEvent[] {
    return this.born.get(write) ?? []
  }

  /** Whether the last check of `write` found it touches the chat. */
  touches(write: Write): boolean {
    return this.touching.has(write)
  }
}
