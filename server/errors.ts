/**
 * Error classes more than one part of the server throws or catches, kept at
 * the bottom of the house so that no folder imports one above it for them.
 * What they carry is an entry of the one catalogue, client/protocol.ts `Errors`.
 */
import { type CloseCodeInfo, type ErrorInfo, documentCloseReason } from '../client/protocol.ts'

/** An error Hocuspocus turns into a per-document Close carrying our code (thrown from a hook). */
export class DocumentCloseError extends Error {
  readonly code: number
  readonly reason: string
  readonly info: CloseCodeInfo
  constructor(info: CloseCodeInfo, cause?: unknown) {
    super(info.reason, { cause })
    this.name = 'DocumentCloseError'
    this.info = info
    this.code = info.code
    this.reason = documentCloseReason(info)
  }
}

/**
 * Why the write pipeline (server/pipeline) refused a write: a catalogue entry,
 * what was wrong (logs, REST `message`) and, for metrics, which rule (e.g. the
 * chat rule broken under `policy-violation`).
 */
export class Refusal {
  readonly error: ErrorInfo
  readonly detail: string
  readonly rule: string
  /**
   * The check saw a document that other writes under way are about to change:
   * the pipeline checks again once, after they are applied, before refusing.
   */
  readonly mayBeStale: boolean
  constructor(error: ErrorInfo, detail: string, options: { rule?: string; mayBeStale?: boolean } = {}) {
    this.error = error
    this.detail = detail
    this.rule = options.rule ?? error.reason
    this.mayBeStale = options.mayBeStale ?? false
  }
}

/** A refused write, thrown to a door that answers with an error (REST, restore). */
export class WriteRefused extends Error {
  readonly refusal: Refusal
  constructor(refusal: Refusal) {
    super(refusal.detail)
    this.name = 'WriteRefused'
    this.refusal = refusal
  }
}

/**
 * A refusal thrown from a Hocuspocus hook that Hocuspocus answers (an
 * `onAuthenticate` refusal becomes PermissionDenied(`<code> <reason>`); a
 * `beforeUnloadDocument` one keeps the document loaded). The message is empty,
 * so Hocuspocus's hook runner does not print it: whoever throws it logs why.
 */
export class HookRefusal extends Error {
  readonly code: number | undefined
  readonly reason: string | undefined
  constructor(info?: CloseCodeInfo) {
    super('')
    this.name = 'HookRefusal'
    this.code = info?.code
    this.reason = info ? documentCloseReason(info) : undefined
  }
}
