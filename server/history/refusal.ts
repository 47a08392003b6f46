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
