/**
 * The room document's data model, version 1: the fixed names of the shared
 * types and the layout of a chat message. `docs/chat-data-model.md` is the
 * normative description; this module is our client's reading of it. Pure
 * functions over Yjs types, no I/O.
 */
import * as Y from 'yjs'

/** Version of the chat data model this client reads and writes (the `v` key of every message). */
export const CHAT_MODEL_VERSION = 1

/** The fixed names of the root shared types in every room document. */
export const SharedNames = {
  /** `Y.XmlFragment`: the ProseMirror document (bind with y-prosemirror's `ySyncPlugin`). */
  prosemirror: 'prosemirror',
  /** `Y.Text`: the CodeMirror text (bind with y-codemirror.next's `yCollab`). */
  codemirror: 'codemirror',
  /** `Y.Array<Y.Map>`: the chat, one `Y.Map` per message, oldest first. */
  chat: 'chat',
  /** `Y.Map<ReadMark>`: each user's read mark, keyed by user id. */
  chatReads: 'chat-reads',
} as const

/** Keys of a message `Y.Map` (docs/chat-data-model.md, "Message"). */
export const MessageKey = {
  version: 'v',
  id: 'id',
  author: 'author',
  name: 'name',
  text: 'text',
  createdAt: 'createdAt',
  replyTo: 'replyTo',
  editedAt: 'editedAt',
  deleted: 'deleted',
  deletedAt: 'deletedAt',
  deletedBy: 'deletedBy',
  reactions: 'reactions',
} as const

/** Longest message text this client sends, in UTF-16 code units (servers may enforce their own limit). */
export const MAX_TEXT_LENGTH = 10_000

/** Longest display name stored in a message (longer names are cut). */
export const MAX_NAME_LENGTH = 200

/** Longest reaction string (one emoji or short code). */
export const MAX_REACTION_LENGTH = 32

/** Most distinct reactions one user may put on one message. */
export const MAX_REACTIONS_PER_USER = 20

/** Delivery status: `pending` until the server has stored it, then `saved`. */
export type MessageStatus = 'pending' | 'saved'

/** A chat message as the app sees it: a plain, immutable snapshot. */
export interface ChatMessage {
  /** Unique id, chosen by the sender. */
  readonly id: string
  /** The author's user id. */
  readonly author: string
  /** The author's display name when the message was sent. */
  readonly name: string
  /** The text ('' once deleted). */
  readonly text: string
  /** Sender's clock, ms since the epoch. Order by position in `messages()`, not by this. */
  readonly createdAt: number
  /** Id of the message this one answers. */
  readonly replyTo?: string
  /** When the author last edited it (ms since the epoch). */
  readonly editedAt?: number
  /** Deleted (a tombstone: text emptied, kept so replies and paging still find it). */
  readonly deleted: boolean
  /** Who deleted it (the author, or an admin). */
  readonly deletedBy?: string
  /** Emoji → ids of the users who reacted with it, sorted. */
  readonly reactions: Readonly<Record<string, readonly string[]>>
  /** `pending` until the server has durably stored this client's change, then `saved`. */
  readonly status: MessageStatus
}

/** A user's read mark: the latest message they have read. Value type of the `chat-reads` map. */
export interface ReadMark {
  /** Id of the latest message read. */
  id: string
  /** When it was marked, ms since the epoch. */
  at: number
}

/** The fields of a new message (the sender fills in the rest). */
export interface NewMessage {
  id: string
  author: string
  name: string
  text: string
  createdAt: number
  replyTo?: string
}

/** Build the `Y.Map` of a new message, ready to push onto the chat array in one transaction. */
export function createMessageMap(fields: NewMessage): Y.Map<unknown> {
  const map = new Y.Map<unknown>()
  map.set(MessageKey.version, CHAT_MODEL_VERSION)
  map.set(MessageKey.id, fields.id)
  map.set(MessageKey.author, fields.author)
  map.set(MessageKey.name, fields.name.slice(0, MAX_NAME_LENGTH))
  map.set(MessageKey.text, fields.text)
  map.set(MessageKey.createdAt, fields.createdAt)
  if (fields.replyTo !== undefined) map.set(MessageKey.replyTo, fields.replyTo)
  // Created with the message, never lazily: two users creating it at once would lose one's reaction.
  map.set(MessageKey.reactions, new Y.Map<string[]>())
  return map
}

/** The id and author of a message map, or undefined if the entry is not a version-1 message. */
export function messageIdentity(entry: unknown): { id: string; author: string } | undefined {
  if (!(entry instanceof Y.Map)) return undefined
  if (entry.get(MessageKey.version) !== CHAT_MODEL_VERSION) return undefined
  const id = entry.get(MessageKey.id)
  const author = entry.get(MessageKey.author)
  if (typeof id !== 'string' || id === '' || typeof author !== 'string' || author === '') return undefined
  return { id, author }
}

/** Reactions of a message: emoji → sorted user ids. Ignores malformed entries. */
export function readReactions(map: Y.Map<unknown>): Record<string, string[]> {
  const reactions: Record<string, string[]> = {}
  const byUser = map.get(MessageKey.reactions)
  if (!(byUser instanceof Y.Map)) return reactions
  for (const [user, emojis] of (byUser as Y.Map<unknown>).entries()) {
    if (!Array.isArray(emojis)) continue
    for (const emoji of new Set(emojis)) if (typeof emoji === 'string') (reactions[emoji] ??= []).push(user)
  }
  for (const users of Object.values(reactions)) users.sort()
  return reactions
}

const optionalNumber = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined)
const optionalString = (value: unknown) => (typeof value === 'string' ? value : undefined)

/** Snapshot a message map (without its status, which depends on the connection). */
export function readMessage(map: Y.Map<unknown>): Omit<ChatMessage, 'status'> | undefined {
  const identity = messageIdentity(map)
  if (!identity) return undefined
  const deleted = map.get(MessageKey.deleted) === true
  const replyTo = optionalString(map.get(MessageKey.replyTo))
  const editedAt = optionalNumber(map.get(MessageKey.editedAt))
  const deletedBy = optionalString(map.get(MessageKey.deletedBy))
  return {
    ...identity,
    name: optionalString(map.get(MessageKey.name)) ?? identity.author,
    text: deleted ? '' : (optionalString(map.get(MessageKey.text)) ?? ''),
    createdAt: optionalNumber(map.get(MessageKey.createdAt)) ?? 0,
    ...(replyTo !== undefined ? { replyTo } : {}),
    ...(editedAt !== undefined ? { editedAt } : {}),
    deleted,
    ...(deleted && deletedBy !== undefined ? { deletedBy } : {}),
    reactions: readReactions(map),
  }
}

/** A read mark from the `chat-reads` map, or undefined if malformed. */
export function readMark(value: unknown): ReadMark | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const { id, at } = value as Record<string, unknown>
  return typeof id === 'string' ? { id, at: typeof at === 'number' ? at : 0 } : undefined
}
