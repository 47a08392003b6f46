/**
 * The wire contract shared by the server and the client: message types and the
 * catalogue of close codes. `docs/protocol.md` documents the same table; keep
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

export interface CloseCodeInfo {
  readonly code: number
  /** Short machine-readable reason, sent as the close reason. */
  readonly reason: string
  readonly scope: CloseScope
  /** Whether a well-behaved client should reconnect by itself. */
  readonly retry: boolean
}

/**
 * Every close code the server uses. A socket-scoped code is the WebSocket close
 * code; a document-scoped one is sent as the reason string of a Hocuspocus
 * per-document Close message (`<code> <reason>`), since that message carries no
 * number of its own.
 */
export const CloseCode = {
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
   * documents on the socket carry on.
   */
  Unauthorized: { code: 4401, reason: 'unauthorized', scope: 'document', retry: false },
  /** The credentials do not allow this document or this action. */
  Forbidden: { code: 4403, reason: 'forbidden', scope: 'document', retry: false },
  /**
   * The token expired and no fresh one arrived in time (a Close for that
   * document), or an expired token was presented (PermissionDenied). Rejoin
   * with a fresh token.
   */
  TokenExpired: { code: 4406, reason: 'token-expired', scope: 'document', retry: true },
  /** No message (or no authentication) within the allowed time. */
  Timeout: { code: 4408, reason: 'timeout', scope: 'socket', retry: true },
  /** A message type a client may not send (e.g. server-internal types). */
  UnsupportedMessage: { code: 4415, reason: 'unsupported-message', scope: 'socket', retry: false },
  /** A text frame: the protocol is binary only. */
  TextFrame: { code: 4416, reason: 'text-frame', scope: 'socket', retry: false },
  /** An admin deleted the document (REST `DELETE /api/documents/{name}`); opening it again starts an empty one. */
  DocumentDeleted: { code: 4410, reason: 'document-deleted', scope: 'document', retry: false },
  /** The document would grow past its size limit. */
  DocumentTooLarge: { code: 4413, reason: 'document-too-large', scope: 'document', retry: false },
  /** The socket opened more documents than MAX_DOCUMENTS_PER_SOCKET. */
  TooManyDocuments: { code: 4409, reason: 'too-many-documents', scope: 'socket', retry: false },
  /** A document name breaks the naming rules (length, characters, path segments). */
  InvalidDocumentName: { code: 4414, reason: 'invalid-document-name', scope: 'socket', retry: false },
  /** The connection sent messages faster than allowed. */
  RateLimited: { code: 4429, reason: 'rate-limited', scope: 'socket', retry: true },
  /** The update breaks a document rule (e.g. another user's chat message). */
  PolicyViolation: { code: 4422, reason: 'policy-violation', scope: 'document', retry: false },
  /**
   * Storage could not write; the update was neither applied nor acknowledged.
   * The socket is closed so the client reconnects and sends it again.
   */
  StorageUnavailable: { code: 4503, reason: 'storage-unavailable', scope: 'socket', retry: true },
  /** The server holds as many documents as it may (MAX_DOCUMENTS), all in use; try later or elsewhere. */
  ServerAtCapacity: { code: 4507, reason: 'server-at-capacity', scope: 'document', retry: true },
  /** An unexpected server error. */
  InternalError: { code: 4500, reason: 'internal-error', scope: 'socket', retry: true },
} as const satisfies Record<string, CloseCodeInfo>

export type CloseCodeName = keyof typeof CloseCode

/** Look a close code up by its number (e.g. from a CloseEvent). */
export function closeCodeByNumber(code: number): CloseCodeInfo | undefined {
  return Object.values(CloseCode).find((c) => c.code === code)
}

/** The reason string of a document-scoped Close message: `<code> <reason>`. */
export function documentCloseReason(info: CloseCodeInfo): string {
  return `${info.code} ${info.reason}`
}
