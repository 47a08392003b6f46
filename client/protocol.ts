/**
 * The wire contract shared by the server and the client: message types and the
 * one error catalogue (close codes, refused writes, REST errors). `docs/protocol.md` documents the same table; keep
 * the two in step. The server may import this module; the client never imports
 * server code.
 */

/** Hocuspocus message types (the varUint after the document name in every frame). */
export const MessageType = {
  Sync: 0,
  Awareness: 1,
  Auth: 2,
  QueryAwareness: 3,
  SyncReply: 4,
  Stateless: 5,
  /** Server-internal (Redis fan-out). A client sending it is cut off. */
  BroadcastStateless: 6,
  Close: 7,
  SyncStatus: 8,
  /** Connection-level ping/pong: a one-byte frame without a document name. */
  Ping: 9,
  Pong: 10,
} as const
export type MessageType = (typeof MessageType)[keyof typeof MessageType]

/** Sub-types of a Sync message (y-protocols/sync). */
export const SyncStep = {
  Step1: 0,
  Step2: 1,
  Update: 2,
} as const

/** Sub-types of an Auth message. */
export const AuthType = {
  Token: 0,
  PermissionDenied: 1,
  Authenticated: 2,
} as const

/** What a close code ends: the whole WebSocket, or one document on it. */
export type CloseScope = 'socket' | 'document'

/**
 * What an error ends: the socket, one document on it, one write (the document
 * stays open; on a socket the update is answered `SyncStatus(false)`), or one
 * HTTP request (REST only).
 */
export type ErrorScope = CloseScope | 'write' | 'request'

/** One entry of the error catalogue. */
export interface ErrorInfo {
  /** The stable name: the close reason on a socket, `error` in a REST body, the metrics label. */
  readonly reason: string
  readonly scope: ErrorScope
  /** Whether trying again unchanged (after a reconnect, a fresh token, or later) can succeed. */
  readonly retry: boolean
  /** The close code, when the server sends it on a socket. */
  readonly code?: number
  /** The HTTP status, when the REST API answers with it. */
  readonly status?: number
}

export interface CloseCodeInfo extends ErrorInfo {
  readonly code: number
  readonly scope: CloseScope
}

/**
 * The one catalogue of every error the server gives, at every door: socket
 * close codes, per-document closes, refused writes and REST errors. A
 * socket-scoped code is the WebSocket close code; a document-scoped one is
 * sent as the reason string of a Hocuspocus per-document Close message
 * (`<code> <reason>`), since that message carries no number of its own. The
 * REST API answers `{ "error": reason, "message": text }` with `status`.
 */
export const Errors = {
  /** The server is shutting down; reconnect (to another instance) later. */
  GoingAway: { code: 1001, reason: 'server-shutting-down', scope: 'socket', retry: true },
  /** A frame over MAX_MESSAGE_BYTES (ws's own standard code), or an update over MAX_UPDATE_BYTES. */
  MessageTooBig: { code: 1009, reason: 'message-too-big', scope: 'socket', retry: false },
  /** A frame that does not decode as the Hocuspocus protocol, or a truncated/garbled Yjs update. */
  MalformedMessage: { code: 4400, reason: 'malformed-message', scope: 'socket', retry: false },
  /**
   * No valid credentials: no token, a bad signature, wrong audience or issuer,
   * malformed claims. Tokens are per document, so this is the PermissionDenied
   * reason for that document (or a Close after a bad fresh token); other
   * documents on the socket carry on. REST: no Bearer token, or a bad one.
   */
  Unauthorized: { code: 4401, status: 401, reason: 'unauthorized', scope: 'document', retry: false },
  /** The credentials do not allow this document or this action. */
  Forbidden: { code: 4403, status: 403, reason: 'forbidden', scope: 'document', retry: false },
  /**
   * The token expired and no fresh one arrived in time (a Close for that
   * document), or an expired token was presented (PermissionDenied; REST 401).
   * Rejoin with a fresh token.
   */
  TokenExpired: { code: 4406, status: 401, reason: 'token-expired', scope: 'document', retry: true },
  /** No message (or no authentication) within the allowed time. */
  Timeout: { code: 4408, reason: 'timeout', scope: 'socket', retry: true },
  /** A message type a client may not send (e.g. server-internal types). */
  UnsupportedMessage: { code: 4415, reason: 'unsupported-message', scope: 'socket', retry: false },
  /** A text frame: the protocol is binary only. */
  TextFrame: { code: 4416, reason: 'text-frame', scope: 'socket', retry: false },
  /** An admin deleted the document (REST `DELETE /api/documents/{name}`); opening it again starts an empty one. */
  DocumentDeleted: { code: 4410, reason: 'document-deleted', scope: 'document', retry: false },
  /** The write would grow the stored document past MAX_DOCUMENT_BYTES. */
  DocumentTooLarge: { code: 4413, status: 413, reason: 'document-too-large', scope: 'document', retry: false },
  /** The socket opened more documents than MAX_DOCUMENTS_PER_SOCKET. */
  TooManyDocuments: { code: 4409, reason: 'too-many-documents', scope: 'socket', retry: false },
  /** A document name breaks the naming rules (empty, too long, control characters, `.`/`..`/empty path segments, reserved names). */
  InvalidDocumentName: { code: 4414, status: 400, reason: 'invalid-document-name', scope: 'socket', retry: false },
  /** Messages (socket) or requests (REST, per token and address; see `Retry-After`) faster than allowed. */
  RateLimited: { code: 4429, status: 429, reason: 'rate-limited', scope: 'socket', retry: true },
  /** The update breaks a document rule (e.g. another user's chat message, docs/chat-data-model.md §7); refused whole. */
  PolicyViolation: { code: 4422, status: 422, reason: 'policy-violation', scope: 'document', retry: false },
  /**
   * Storage could not write; the update was neither applied nor acknowledged.
   * The socket is closed so the client reconnects and sends it again (REST: retry, see `Retry-After`).
   */
  StorageUnavailable: { code: 4503, status: 503, reason: 'storage-unavailable', scope: 'socket', retry: true },
  /** The server holds as many documents as it may (MAX_DOCUMENTS), all in use; try later or elsewhere. */
  ServerAtCapacity: { code: 4507, status: 503, reason: 'server-at-capacity', scope: 'document', retry: true },
  /**
   * The server is shedding load: opening this document would start a load while
   * LOAD_QUEUE_MAX loads already wait. Back off: try again after a random delay,
   * never at once (our client waits a jittered, growing delay per document).
   */
  ServerBusy: { code: 4508, status: 503, reason: 'server-busy', scope: 'document', retry: true },
  /** An unexpected server error (logged). */
  InternalError: { code: 4500, status: 500, reason: 'internal-error', scope: 'socket', retry: true },
  /**
   * The update builds on changes the document does not have. On a socket it is
   * deferred: not stored or applied, answered `SyncStatus(false)`, and the client
   * is asked once for a full sync that brings what it depends on. REST: send the
   * missing changes first, or the whole state.
   */
  MissingDependencies: { status: 422, reason: 'missing-dependencies', scope: 'write', retry: true },
  /**
   * New structs under a Yjs client id another user owns (the first user whose
   * connection bound it as its awareness id, or whose accepted update used it):
   * dropped — never applied, stored or broadcast — and the rest of the update is
   * processed. A socket's update is answered `SyncStatus(false)`; REST answers
   * 200 and names the dropped ids in `dropped`. Only the owner can bring that content.
   */
  ClientIdOwned: { reason: 'client-id-owned', scope: 'write', retry: false },
  /** The writer's role is `read` (a socket's update is answered `SyncStatus(false)`). */
  ReadOnly: { status: 403, reason: 'read-only', scope: 'write', retry: false },
  /** REST: a query parameter or JSON body is not what the endpoint takes. */
  BadRequest: { status: 400, reason: 'bad-request', scope: 'request', retry: false },
  /** REST: the body is not a complete Yjs update (checked with Y.decodeUpdate before anything else). */
  MalformedUpdate: { status: 400, reason: 'malformed-update', scope: 'request', retry: false },
  /** REST: `?type=` names a map or an array, which has no plain-text form. */
  NotText: { status: 400, reason: 'not-text', scope: 'request', retry: false },
  /** REST: a browser page from an origin not in ALLOWED_ORIGINS (cross-origin REST is only for listed origins); nothing was done. */
  OriginNotAllowed: { status: 403, reason: 'origin-not-allowed', scope: 'request', retry: false },
  /** REST: no such document, version, shared type or chat message. */
  NotFound: { status: 404, reason: 'not-found', scope: 'request', retry: false },
  /** REST: no such endpoint under /api. */
  NoRoute: { status: 404, reason: 'no-route', scope: 'request', retry: false },
  /** REST: the endpoint exists, not with this method (see the Allow header). */
  MethodNotAllowed: { status: 405, reason: 'method-not-allowed', scope: 'request', retry: false },
  /** REST: the body is larger than MAX_UPDATE_BYTES (updates) or 64 KiB (JSON). */
  PayloadTooLarge: { status: 413, reason: 'payload-too-large', scope: 'request', retry: false },
  /** REST: updates are `application/octet-stream`, other bodies `application/json`. */
  UnsupportedMediaType: { status: 415, reason: 'unsupported-media-type', scope: 'request', retry: false },
  /** Event stream: the cursor (`Last-Event-ID`, `since`) is older than EVENTS_RETENTION_MS kept; start over without one. */
  CursorGone: { status: 410, reason: 'cursor-gone', scope: 'request', retry: false },
  /** Event stream: this address has STREAMS_PER_IP streams open already. */
  TooManyStreams: { status: 429, reason: 'too-many-streams', scope: 'request', retry: true },
  /** Event stream ended: the reader left more than STREAM_MAX_BUFFERED_BYTES unread; reconnect with Last-Event-ID. */
  SlowConsumer: { reason: 'slow-consumer', scope: 'request', retry: true },
  /**
   * HTTP fallback: the session's server-side backlog (frames its reader has not
   * confirmed) grew past FALLBACK_BACKLOG_BYTES; the session ends like a socket. Reconnect.
   */
  BacklogFull: { code: 4417, reason: 'backlog-full', scope: 'socket', retry: true },
  /**
   * HTTP fallback: no such session (never opened, expired, closed, or on another instance), or a
   * stream asked to resume from frames no longer kept. Open a new session (the rooms sync again).
   */
  SessionGone: { status: 410, reason: 'session-gone', scope: 'request', retry: true },
  /** HTTP fallback: the session was opened by another user or from another origin; nothing was done. */
  SessionMismatch: { status: 403, reason: 'session-mismatch', scope: 'request', retry: false },
  /** HTTP fallback: a POST's first frame is past the next one the server expects (`next` in the body); resend from there. */
  SequenceGap: { status: 409, reason: 'sequence-gap', scope: 'request', retry: true },
  /** HTTP fallback: this address has MAX_CONNECTIONS_PER_IP sockets and sessions open already. */
  TooManyConnections: { status: 429, reason: 'too-many-connections', scope: 'request', retry: true },
  /** Webhooks: the URL is not http(s), or resolves to an address webhooks may not reach (WEBHOOK_ALLOW_PRIVATE). */
  WebhookUrlRefused: { status: 422, reason: 'webhook-url-refused', scope: 'request', retry: false },
} as const satisfies Record<string, ErrorInfo>

export type ErrorName = keyof typeof Errors

type Closing = { [K in ErrorName as (typeof Errors)[K] extends { code: number } ? K : never]: (typeof Errors)[K] }

/** The catalogue's entries that close a socket or a document (a view of `Errors`). */
export const CloseCode = Object.fromEntries(Object.entries(Errors).filter(([, e]) => 'code' in e)) as Closing satisfies Record<string, CloseCodeInfo>

export type CloseCodeName = keyof typeof CloseCode

/** Look a close code up by its number (e.g. from a CloseEvent). */
export function closeCodeByNumber(code: number): CloseCodeInfo | undefined {
  return Object.values(CloseCode).find((c) => c.code === code)
}

/** The reason string of a document-scoped Close message: `<code> <reason>`. */
export function documentCloseReason(info: CloseCodeInfo): string {
  return `${info.code} ${info.reason}`
}

/**
 * The HTTP fallback transport (docs/protocol.md#http-fallback): the same
 * frames as the socket, POSTed in a body of length-prefixed frames and
 * streamed back as Server-Sent Events.
 */
export const Fallback = {
  /** The content type of every POST (not a CORS-safelisted one: a cross-site form cannot send it). */
  contentType: 'application/x-collab-frames',
  /** The session's secret. Never in a URL. */
  sessionHeader: 'x-collab-session',
  /** A POST: the sequence number of its first frame (the session's frames count from 0). */
  seqHeader: 'x-collab-seq',
  /** A POST: the id of the last stream event the client has read (the server may forget up to there). */
  ackHeader: 'x-collab-ack',
  /** The path under the socket's path: `/ws` → `/ws/fallback`, `/` → `/fallback`. */
  path: 'fallback',
} as const

/** Frames as a POST body: each a 4-byte big-endian length, then its bytes. */
export function encodeFrames(frames: readonly Uint8Array[]): Uint8Array {
  let size = 0
  for (const f of frames) size += 4 + f.byteLength
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  let at = 0
  for (const f of frames) {
    view.setUint32(at, f.byteLength)
    out.set(f, at + 4)
    at += 4 + f.byteLength
  }
  return out
}

/** A POST body back into frames, each its own exact ArrayBuffer; null when it is not whole. */
export function decodeFrames(body: Uint8Array): Uint8Array[] | null {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength)
  const frames: Uint8Array[] = []
  let at = 0
  while (at < body.byteLength) {
    if (at + 4 > body.byteLength) return null
    const length = view.getUint32(at)
    if (at + 4 + length > body.byteLength) return null
    frames.push(body.slice(at + 4, at + 4 + length))
    at += 4 + length
  }
  return frames
}
