/** Why a server-side write was refused before anything was stored. */
export type WriteRefusal = 'missing-dependencies' | 'document-too-large' | 'policy-violation'

export class WriteRefused extends Error {
  readonly reason: WriteRefusal
  constructor(reason: WriteRefusal, detail: string) {
    super(detail)
    this.name = 'WriteRefused'
    this.reason = reason
  }
}
