/**
 * Presence events (docs/events.md, `EVENTS_PRESENCE`, off by default):
 * `presence.joined` when a user's first connection to a document has
 * authenticated, `presence.left` when their last one to it closed — one pair
 * per user and document, however many tabs. Counted per instance: a user
 * connected to two instances joins on each.
 */
import type { Extension, connectedPayload, onDisconnectPayload } from '@hocuspocus/server'
import { sessionOf } from '../auth/session.ts'
import { ANONYMOUS } from '../pipeline/pipeline.ts'
import type { NewEvent } from '../storage/types.ts'


export class PresenceEvents implements Extension {
  readonly extensionName = 'presence-events'
  /** Per document: user → their open connections to it here (each by its hook context, which Hocuspocus keeps per connection). */
  private readonly present = new Map<string, Map<string, Set<object>>>()
  private readonly publish: (events: readonly NewEvent[]) => Promise<void>

  constructor(publish: (events: readonly NewEvent[]) => Promise<void>) {
    this.publish = publish
  }

  async connected({ documentName, context, connection }: connectedPayload): Promise<void> {
    // A connection that closed before this hook ran (its onDisconnect has been, or never comes) is not counted.
    if (!connection.document.hasConnection(connection)) return
    const { id, name } = userOf(context)
    let users = this.present.get(documentName)
    if (!users) this.present.set(documentName, (users = new Map()))
    let open = users.get(id)
    if (!open) users.set(id, (open = new Set()))
    open.add(context as object)
    if (open.size === 1) await this.publish([{ type: 'presence.joined', document: documentName, actor: id, data: { name } }])
  }

  async onDisconnect({ documentName, context }: onDisconnectPayload): Promise<void> {
    const { id, name } = userOf(context)
    const users = this.present.get(documentName)
    const open = users?.get(id)
    // Only connections counted in: Hocuspocus also reports one that closed while its document loaded, never connected.
    if (!users || !open?.delete(context as object) || open.size > 0) return
    users.delete(id)
    if (users.size === 0) this.present.delete(documentName)
    await this.publish([{ type: 'presence.left', document: documentName, actor: id, data: { name } }])
  }
}

function userOf(context: unknown): { id: string; name: string } {
  const user = sessionOf(context)?.user
  return user ? { id: user.id, name: user.name } : { id: ANONYMOUS, name: ANONYMOUS }
}
