/**
 * Presence on Yjs awareness: who is in the room, online or away, and where
 * their cursor is. The awareness state layout (version 1, documented in
 * docs/chat-data-model.md, "Awareness") is:
 *
 *   { user: { id, name, color },            — who (issue 5: stamped by the server from the token)
 *     presence: { status: 'online' | 'away', ...app fields },
 *     typing: boolean,
 *     cursor: { anchor, head } | null }     — Yjs relative positions (JSON), as y-prosemirror
 *                                             and y-codemirror.next use them
 */
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'

/** Who a user is: the `user` field of every awareness state. */
export interface PresenceUser {
  /** Stable user id (the chat `author`). */
  id: string
  /** Display name. */
  name: string
  /** CSS colour for cursors and avatars. */
  color: string
}

/** `online`, or `away` (idle for a while, or set so by the user). */
export type PresenceStatus = 'online' | 'away'

/** What `presence.set()` takes: a status and any JSON fields of the app's own. */
export interface PresenceFields {
  status?: PresenceStatus
  [field: string]: unknown
}

/** One connected client as presence shows it (a user on two devices appears twice, with two `clientId`s). */
export interface PresenceEntry {
  /** The Yjs client id of that connection. */
  clientId: number
  user: PresenceUser
  status: PresenceStatus
  /** Whether they are typing right now. */
  typing: boolean
  /** The app's own presence fields. */
  [field: string]: unknown
}

/** A remote text cursor resolved to indices in a `Y.Text`. */
export interface TextCursor {
  clientId: number
  user: PresenceUser
  anchor: number
  head: number
}

/** Presence options. */
export interface PresenceOptions {
  /** Become `away` after this long without activity, ms. 0 disables. @default 300000 (5 min) */
  awayAfterMs: number
}

function isUser(value: unknown): value is PresenceUser {
  if (typeof value !== 'object' || value === null) return false
  const { id, name } = value as Record<string, unknown>
  return typeof id === 'string' && typeof name === 'string'
}

/** Every state in `awareness` with a valid `user`, as entries; `includeSelf` adds the local one. */
export function presenceEntries(awareness: Awareness, includeSelf: boolean): PresenceEntry[] {
  const entries: PresenceEntry[] = []
  for (const [clientId, state] of awareness.getStates()) {
    if (!includeSelf && clientId === awareness.clientID) continue
    entries.push(...toEntry(clientId, state))
  }
  return entries
}

function toEntry(clientId: number, state: Record<string, unknown> | null | undefined): PresenceEntry[] {
  if (!state || !isUser(state.user)) return []
  const fields = typeof state.presence === 'object' && state.presence !== null ? (state.presence as Record<string, unknown>) : {}
  const user = state.user
  return [
    {
      ...fields,
      clientId,
      user: { id: user.id, name: user.name, color: typeof user.color === 'string' ? user.color : '#888888' },
      status: fields.status === 'away' ? 'away' : 'online',
      typing: state.typing === true,
    },
  ]
}

/** `room.presence`: the local user's presence and everybody else's. */
export class Presence {
  /** The awareness instance underneath (for editor bindings such as y-prosemirror's cursor plugin). */
  readonly awareness: Awareness
  private readonly options: PresenceOptions
  private idleTimer: ReturnType<typeof setTimeout> | undefined
  /** `away` set by the user: activity does not undo it. */
  private manualAway = false
  private destroyed = false

  /** Publishes `user` as online at once. */
  constructor(awareness: Awareness, user: PresenceUser, options: PresenceOptions) {
    this.awareness = awareness
    this.options = options
    awareness.setLocalState({ user: { ...user }, presence: { status: 'online' }, typing: false, cursor: null })
    this.armIdleTimer()
  }

  /** Merge fields into the local presence; `status` set here is kept until set again. */
  set(fields: PresenceFields): void {
    if (fields.status !== undefined) this.manualAway = fields.status === 'away'
    const current = (this.awareness.getLocalState()?.presence ?? {}) as Record<string, unknown>
    this.awareness.setLocalStateField('presence', { ...current, ...fields })
    this.armIdleTimer()
  }

  /** Record user activity: an automatic `away` turns back to `online`. Cheap; call it on input. */
  touch(): void {
    if (this.destroyed) return
    const state = this.awareness.getLocalState()
    const presence = (state?.presence ?? {}) as Record<string, unknown>
    if (presence.status === 'away' && !this.manualAway) {
      this.awareness.setLocalStateField('presence', { ...presence, status: 'online' })
    }
    this.armIdleTimer()
  }

  /** The local user's entry. */
  me(): PresenceEntry {
    const [entry] = toEntry(this.awareness.clientID, this.awareness.getLocalState())
    if (!entry) throw new Error('presence: the local awareness state was cleared')
    return entry
  }

  /** Everybody else in the room (other users, and the same user's other connections). */
  others(): PresenceEntry[] {
    return presenceEntries(this.awareness, false)
  }

  /** Call `listener` with `others()` whenever presence changes; returns the unsubscribe function. */
  onChange(listener: (others: PresenceEntry[]) => void): () => void {
    const handler = () => listener(this.others())
    this.awareness.on('change', handler)
    return () => this.awareness.off('change', handler)
  }

  /** Publish a selection in `text` (indices), or `null` to hide the cursor. `head` defaults to `anchor`. */
  setTextCursor(text: Y.Text, anchor: number | null, head: number | null = anchor): void {
    if (anchor === null || head === null) {
      this.awareness.setLocalStateField('cursor', null)
      return
    }
    this.awareness.setLocalStateField('cursor', {
      anchor: Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(text, anchor)),
      head: Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(text, head)),
    })
    this.touch()
  }

  /** Other users' cursors that point into `text`, as current indices. */
  textCursors(text: Y.Text): TextCursor[] {
    const doc = text.doc
    if (!doc) return []
    const cursors: TextCursor[] = []
    for (const entry of this.others()) {
      const cursor = this.awareness.getStates().get(entry.clientId)?.cursor as { anchor?: unknown; head?: unknown } | null | undefined
      if (!cursor || cursor.anchor == null || cursor.head == null) continue
      const anchor = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(cursor.anchor), doc)
      const head = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(cursor.head), doc)
      if (!anchor || !head || anchor.type !== text || head.type !== text) continue
      cursors.push({ clientId: entry.clientId, user: entry.user, anchor: anchor.index, head: head.index })
    }
    return cursors
  }

  /** Stop the idle timer (the room is left). */
  destroy(): void {
    this.destroyed = true
    clearTimeout(this.idleTimer)
  }

  private armIdleTimer(): void {
    clearTimeout(this.idleTimer)
    if (this.destroyed || this.options.awayAfterMs <= 0) return
    this.idleTimer = setTimeout(() => {
      const presence = (this.awareness.getLocalState()?.presence ?? {}) as Record<string, unknown>
      if (presence.status !== 'away') this.awareness.setLocalStateField('presence', { ...presence, status: 'away' })
    }, this.options.awayAfterMs)
  }
}
