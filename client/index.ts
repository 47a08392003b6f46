/**
 * The thin client (`yjs-collab-server/client`): rooms on one shared socket,
 * chat as a shared Yjs array, presence, typing, delivery status, reconnection.
 * Runs unchanged in the browser, in Node 22+ (global WebSocket) and in Node 20
 * (pass `WebSocketPolyfill`, e.g. from the `ws` package); never imports server code.
 *
 * ```ts
 * const client = new CollabClient({ url: 'ws://localhost:1234/ws', token, user: { id: 'ann', name: 'Ann' } })
 * const room = client.room('general')
 * await room.synced
 * room.chat.on('message', (m) => console.log(`${m.name}: ${m.text}`))
 * room.chat.send('hello')
 * ```
 */
export { CollabClient, type ClientEvents, type ClientStatus, type CollabClientOptions, type StopReason, type TokenSource } from './client.ts'
export { Room, RoomLeftError, type RoomEvents } from './room.ts'
export { IdentityMismatchError, tokenClaims, tokenIdentity, type TokenIdentity, type UserOptions } from './identity.ts'
export { Chat, CHAT_ORIGIN, ChatError, ChatErrorCode, type ChatEvents } from './chat.ts'
export {
  Presence,
  type PresenceEntry,
  type PresenceFields,
  type PresenceOptions,
  type PresenceStatus,
  type PresenceUser,
  type TextCursor,
} from './presence.ts'
export { DEFAULT_TYPING_TIMEOUT_MS, Typing } from './typing.ts'
export {
  CHAT_MODEL_VERSION,
  type ChatMessage,
  MAX_TEXT_LENGTH,
  MessageKey,
  type MessageStatus,
  type ReadMark,
  SharedNames,
} from './model.ts'
export type { OfflineStore, OfflineStoreContext, OfflineStoreFactory } from './offline.ts'
export { JOURNAL_MAX_LENGTH, JournalOverflowError } from './journal.ts'
export type { ReconnectOptions, WebSocketConstructor } from './socket.ts'
export { HttpSocket, httpSocketClass, type HttpMode, type HttpSocketOptions } from './http-socket.ts'
export type { Transport, TransportOption } from './transport.ts'
export type { Subscribable } from './emitter.ts'
export { CloseCode, closeCodeByNumber, type CloseCodeInfo, type CloseCodeName } from './protocol.ts'
