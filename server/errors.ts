/**
 * Error classes more than one part of the server throws or catches, kept at
 * the bottom of the house so that no folder imports one above it for them.
 * The close codes they carry are the catalogue in client/protocol.ts.
 */
import { type CloseCodeInfo, documentCloseReason } from '../client/protocol.ts'

/** An error Hocuspocus turns into a per-document Close carrying our code. */
export class DocumentCloseError extends Error {
  readonly code: number
  readonly reason: string
  constructor(info: CloseCodeInfo, cause?: unknown) {
    super(info.reason, { cause })
    this.code = info.code
    this.reason = documentCloseReason(info)
  }
}

/**
 * Why a server-side write was refused before anything was stored
 * (`server-at-capacity`: loading the document would pass MAX_DOCUMENTS).
 */
export type WriteRefusal = 'missing-dependencies' | 'document-too-large' | 'policy-violation' | 'server-at-capacity'

export class WriteRefused extends Error {
  readonly reason: WriteRefusal
  constructor(reason: WriteRefusal, detail: string) {
    super(detail)
    this.name = 'WriteRefused'
    this.reason = reason
  }
}
