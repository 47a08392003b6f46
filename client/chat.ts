/**
 * `room.chat`: the chat as a shared `Y.Array` of message `Y.Map`s in the
 * room's document (layout: docs/chat-data-model.md). Keeps a plain mirror of
 * the array so ordering, paging and lookups by id stay cheap at 10,000+
 * messages, and turns Yjs changes into `message` / `change` / `remove` events.
 */
import { uuidv4 } from 'lib0/random'
import * as Y from 'yjs'
import { type MessageMap, MessageLog, type Snapshot } from './chat-log.ts'
import { Emitter, type Subscribable } from './emitter.ts'
import {
  type ChatMessage,
  createMessageMap,
  MAX_REACTION_LENGTH,
  MAX_REACTIONS_PER_USER,
  MAX_TEXT_LENGTH,
  MessageKey,
  readMark,
  SharedNames,
} from './model.ts'

/** Why a chat call was refused (the `code` of a `ChatError`). */
export const ChatErrorCode = {
  /** No message with that id in this room. */
  NotFound: 'not-found',
  /** Only the author may edit or delete a message (admins delete with `{ asAdmin: true }`). */
  NotAuthor: 'not-author',
  /** The message was deleted. */
  Deleted: 'deleted',
  /** Empty text. */
  Empty: 'empty',
  /** Text longer than `MAX_TEXT_LENGTH`. */
  TooLong: 'too-long',
  /** A reaction that is empty, longer than `MAX_REACTION_LENGTH`, or one too many (`MAX_REACTIONS_PER_USER`). */
  InvalidReaction: 'invalid-reaction',
} as const
/** One of the `ChatErrorCode` values. */
export type ChatErrorCode = (typeof ChatErrorCode)[keyof typeof ChatErrorCode]

/** A refused chat call; test `code`, not the message text. */
export class ChatError extends Error {
  /** What was refused; stable, unlike the message text. */
  readonly code: ChatErrorCode
  /** `detail` goes into the message, for logs. */
  constructor(code: ChatErrorCode, detail: string) {
    super(`${code}: ${detail}`)
    this.name = 'ChatError'
    this.code = code
  }
}

/** Chat events and their payloads. */
export interface ChatEvents {
  [event: string]: unknown
  /** A new message (local or remote; also each message of the first sync). */
  message: ChatMessage
  /** A message was edited, reacted to, or its status went from `pending` to `saved`. */
  change: ChatMessage
  /** A message was deleted. */
  remove: ChatMessage
  /** A user moved their read mark to message `id`. */
  read: { user: string; id: string }
}

/** Transaction origin of the chat's own writes. */
export const CHAT_ORIGIN = Object.freeze({ source: 'collab-client', feature: 'chat' })

/** The chat of one room. */
export class Chat implements Subscribable<ChatEvents> {
  /** The shared array (`SharedNames.chat`). */
  readonly array: Y.Array<unknown>
  /** The read marks (`SharedNames.chatReads`). */
  readonly reads: Y.Map<unknown>
  private readonly doc: Y.Doc
  private readonly me: { id: string; name: string }
  private readonly isRemote: (origin: unknown) => boolean
  private readonly events = new Emitter<ChatEvents>()
  private readonly log: MessageLog
  /** Ids of messages changed here and not yet acknowledged by the server. */
  private readonly pending = new Set<string>()

  /** `isRemote(origin)`: whether a transaction came from the server (everything else is pending until acked). */
  constructor(doc: Y.Doc, me: { id: string; name: string }, isRemote: (origin: unknown) => boolean) {
    this.doc = doc
    this.me = me
    this.isRemote = isRemote
    this.array = doc.getArray(SharedNames.chat)
    this.reads = doc.getMap(SharedNames.chatReads)
    this.log = new MessageLog(this.array)
    this.array.observeDeep((events, tr) => this.onChanges(events, tr))
    this.reads.observe((event) => {
      for (const user of event.keysChanged) {
        const mark = readMark(this.reads.get(user))
        if (mark) this.events.emit('read', { user, id: mark.id })
      }
    })
  }

  /** Listen to `message`, `change`, `remove` or `read`; returns the unsubscribe function. */
  on<K extends keyof ChatEvents>(event: K, listener: (payload: ChatEvents[K]) => void): () => void {
    return this.events.on(event, listener)
  }

  /** Send a message as the local user; returns it with status `pending`. `replyTo` is not checked: it may name a message not yet synced here. */
  send(text: string, options: { replyTo?: string } = {}): ChatMessage {
    this.checkText(text)
    const id = uuidv4()
    const map = createMessageMap({ id, author: this.me.id, name: this.me.name, text, createdAt: Date.now(), replyTo: options.replyTo })
    this.doc.transact(() => this.array.push([map]), CHAT_ORIGIN)
    return this.get(id) as ChatMessage
  }

  /** A message by id (deleted ones too), or undefined. */
  get(id: string): ChatMessage | undefined {
    const map = this.log.map(id)
    const snap = map && this.log.snapshot(map)
    return snap ? this.withStatus(snap) : undefined
  }

  /** All messages in the room's order (the same on every client); deleted ones only if asked. */
  messages(options: { includeDeleted?: boolean } = {}): ChatMessage[] {
    const out: ChatMessage[] = []
    for (let i = 0; i < this.log.length; i++) {
      const snap = this.log.at(i)
      if (snap && (options.includeDeleted || !snap.deleted)) out.push(this.withStatus(snap))
    }
    return out
  }

  /** Up to `limit` messages before `before` (or the latest ones), oldest first: "last 100" paging. */
  history(options: { before?: string; limit?: number } = {}): ChatMessage[] {
    const limit = Math.max(0, Math.floor(options.limit ?? 50))
    const end = options.before === undefined ? this.log.length : this.positionOf(options.before)
    const out: ChatMessage[] = []
    for (let i = end - 1; i >= 0 && out.length < limit; i--) {
      const snap = this.log.at(i)
      if (snap && !snap.deleted) out.push(this.withStatus(snap))
    }
    return out.reverse()
  }

  /** Replace the text of one of the local user's messages. */
  edit(id: string, text: string): void {
    const map = this.ownLiveMessage(id, false)
    this.checkText(text)
    this.doc.transact(() => {
      map.set(MessageKey.text, text)
      map.set(MessageKey.editedAt, Date.now())
    }, CHAT_ORIGIN)
  }

  /** Delete one of the local user's messages (an admin may delete any: the server checks). Leaves a tombstone. */
  delete(id: string, options: { asAdmin?: boolean } = {}): void {
    const map = this.ownLiveMessage(id, options.asAdmin === true)
    this.doc.transact(() => {
      map.set(MessageKey.text, '')
      map.set(MessageKey.deleted, true)
      map.set(MessageKey.deletedAt, Date.now())
      map.set(MessageKey.deletedBy, this.me.id)
    }, CHAT_ORIGIN)
  }

  /** Toggle the local user's `emoji` reaction on a message; returns whether it is now on. */
  react(id: string, emoji: string): boolean {
    const map = this.mapOf(id)
    if (this.log.snapshot(map)?.deleted) throw new ChatError(ChatErrorCode.Deleted, id)
    if (emoji.length === 0 || emoji.length > MAX_REACTION_LENGTH) throw new ChatError(ChatErrorCode.InvalidReaction, `length ${emoji.length}`)
    const reactions = map.get(MessageKey.reactions)
    // Created with the message by every valid writer; adding it later could drop someone's reaction.
    if (!(reactions instanceof Y.Map)) throw new ChatError(ChatErrorCode.InvalidReaction, `${id} has no reactions map`)
    const mine = reactions.get(this.me.id)
    const current = new Set(Array.isArray(mine) ? mine.filter((e): e is string => typeof e === 'string') : [])
    const on = !current.has(emoji)
    if (on && current.size >= MAX_REACTIONS_PER_USER) throw new ChatError(ChatErrorCode.InvalidReaction, `more than ${MAX_REACTIONS_PER_USER}`)
    if (on) current.add(emoji)
    else current.delete(emoji)
    this.doc.transact(() => {
      if (current.size === 0) reactions.delete(this.me.id)
      else reactions.set(this.me.id, [...current].sort())
    }, CHAT_ORIGIN)
    return on
  }

  /** Mark everything up to message `id` as read by the local user (never moves the mark back). */
  markRead(id: string): void {
    const position = this.positionOf(id)
    const current = readMark(this.reads.get(this.me.id))
    if (current && this.log.position(current.id) >= position) return
    this.doc.transact(() => this.reads.set(this.me.id, { id, at: Date.now() }), CHAT_ORIGIN)
  }

  /** Ids of the users who have read message `id` (their read mark is at it or later), sorted. */
  readBy(id: string): string[] {
    const position = this.positionOf(id)
    const users: string[] = []
    for (const [user, value] of this.reads.entries()) {
      const mark = readMark(value)
      if (mark && this.log.position(mark.id) >= position) users.push(user)
    }
    return users.sort()
  }

  /** The server has acknowledged every local change: pending messages become saved. */
  markSaved(): void {
    const saved = [...this.pending]
    this.pending.clear()
    for (const id of saved) {
      const message = this.get(id)
      if (message) this.events.emit('change', message)
    }
  }

  /** Drop all listeners (the room is left). */
  destroy(): void {
    this.events.clear()
  }

  private onChanges(events: Y.YEvent<Y.AbstractType<unknown>>[], tr: Y.Transaction): void {
    const local = !this.isRemote(tr.origin)
    const added: MessageMap[] = []
    const removed: Snapshot[] = []
    for (const event of events) {
      if (event.target !== this.array) continue
      const change = this.log.apply((event as Y.YArrayEvent<unknown>).changes.delta)
      added.push(...change.added)
      removed.push(...change.removed)
    }
    // Messages changed in place: the event's target is the message map or its reactions map.
    const changed = new Set<MessageMap>()
    for (const event of events) {
      let target: Y.AbstractType<unknown> | null = event.target
      while (target && target !== this.array && target.parent !== this.array) target = target.parent
      if (target instanceof Y.Map && !added.includes(target) && this.log.isCurrent(target)) changed.add(target)
    }
    for (const map of added) {
      const snap = this.log.isCurrent(map) ? this.log.snapshot(map) : undefined
      if (!snap) continue
      if (local) this.pending.add(snap.id)
      if (!snap.deleted) this.events.emit('message', this.withStatus(snap))
    }
    for (const map of changed) {
      const { before, after } = this.log.refresh(map)
      if (!after) continue
      if (local) this.pending.add(after.id)
      this.events.emit(after.deleted && !before?.deleted ? 'remove' : 'change', this.withStatus(after))
    }
    for (const snap of removed) {
      this.pending.delete(snap.id)
      if (!snap.deleted) this.events.emit('remove', this.withStatus({ ...snap, deleted: true, text: '' }))
    }
  }

  private withStatus(snap: Snapshot): ChatMessage {
    return { ...snap, status: this.pending.has(snap.id) ? 'pending' : 'saved' }
  }

  private mapOf(id: string): MessageMap {
    const map = this.log.map(id)
    if (!map) throw new ChatError(ChatErrorCode.NotFound, `no message ${id}`)
    return map
  }

  private ownLiveMessage(id: string, asAdmin: boolean): MessageMap {
    const map = this.mapOf(id)
    const snap = this.log.snapshot(map) as Snapshot
    if (snap.author !== this.me.id && !asAdmin) throw new ChatError(ChatErrorCode.NotAuthor, `${id} is by ${snap.author}`)
    if (snap.deleted) throw new ChatError(ChatErrorCode.Deleted, id)
    return map
  }

  private positionOf(id: string): number {
    const position = this.log.position(id)
    if (position < 0) throw new ChatError(ChatErrorCode.NotFound, `no message ${id}`)
    return position
  }

  private checkText(text: string): void {
    if (typeof text !== 'string' || text.trim() === '') throw new ChatError(ChatErrorCode.Empty, 'message text is empty')
    if (text.length > MAX_TEXT_LENGTH) throw new ChatError(ChatErrorCode.TooLong, `${text.length} > ${MAX_TEXT_LENGTH}`)
  }
}
