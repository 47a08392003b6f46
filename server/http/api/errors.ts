import type { ServerResponse } from 'node:http'
import { sendJson } from '../router.ts'

/**
 * Every error the REST API answers with: `{ "error": <code>, "message": <text> }`.
 * Clients test the code (stable), not the message (for people).
 */
export const ApiErrorCode = {
  /** 400: a query parameter or JSON body is not what the endpoint takes. */
  BadRequest: 'bad-request',
  /** 400: the document name breaks the naming rules (as on the socket: empty, too long, control characters, `.`/`..`/empty path segments, reserved names). */
  InvalidDocumentName: 'invalid-document-name',
  /** 400: the body is not a complete Yjs update (checked with Y.decodeUpdate before anything else). */
  MalformedUpdate: 'malformed-update',
  /** 400: `?type=` names a map or an array, which has no plain-text form. */
  NotText: 'not-text',
  /** 401: no Bearer token, or a bad one (signature, audience, issuer, claims). */
  Unauthorized: 'unauthorized',
  /** 401: the token has expired; get a fresh one. */
  TokenExpired: 'token-expired',
  /** 403: the token's `docs` claim does not open this document, or not with the role this needs. */
  Forbidden: 'forbidden',
  /** 403: a browser page from an origin not in ALLOWED_ORIGINS (cross-origin REST is only for listed origins); nothing was done. */
  OriginNotAllowed: 'origin-not-allowed',
  /** 404: no such document, version, shared type or chat message. */
  NotFound: 'not-found',
  /** 404: no such endpoint under /api. */
  NoRoute: 'no-route',
  /** 405: the endpoint exists, not with this method (see the Allow header). */
  MethodNotAllowed: 'method-not-allowed',
  /** 413: the body is larger than MAX_UPDATE_BYTES (updates) or 64 KiB (JSON). */
  PayloadTooLarge: 'payload-too-large',
  /** 413: the write would grow the stored document past MAX_DOCUMENT_BYTES. */
  DocumentTooLarge: 'document-too-large',
  /** 415: updates are `application/octet-stream`, other bodies `application/json`. */
  UnsupportedMediaType: 'unsupported-media-type',
  /** 422: the update builds on changes the document does not have (send the missing ones first, or the whole state). */
  MissingDependencies: 'missing-dependencies',
  /** 422: the update breaks the chat rules (docs/chat-data-model.md §7), e.g. a message with another user as author; refused whole. */
  PolicyViolation: 'policy-violation',
  /** 429: too many requests from this token or this client address (API_RATE_LIMIT_*); retry after `Retry-After` seconds. */
  RateLimited: 'rate-limited',
  /** 500: an unexpected server error (logged). */
  InternalError: 'internal-error',
  /** 503: storage could not take the write; nothing was applied. Retry (see Retry-After). */
  StorageUnavailable: 'storage-unavailable',
  /** 503: the document is not loaded and MAX_DOCUMENTS are, each with a client; nothing was done. Retry (see Retry-After). The socket's 4507. */
  ServerAtCapacity: 'server-at-capacity',
} as const
export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode]

/** An answer other than success, thrown by a handler and sent as JSON by the API router. */
export class ApiError extends Error {
  readonly status: number
  readonly code: ApiErrorCode
  readonly headers: Record<string, string>
  constructor(status: number, code: ApiErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.headers = headers
  }
}

export function sendError(res: ServerResponse, error: ApiError): void {
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value)
  sendJson(res, error.status, { error: error.code, message: error.message })
}
