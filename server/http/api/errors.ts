import type { ServerResponse } from 'node:http'
import { type ErrorInfo, type ErrorName, Errors } from '../../../client/protocol.ts'
import { sendJson } from '../router.ts'

type Answered = { [K in ErrorName as (typeof Errors)[K] extends { status: number } ? K : never]: (typeof Errors)[K]['reason'] }

/**
 * Every error the REST API answers with: `{ "error": <code>, "message": <text> }`,
 * a view of the one catalogue (client/protocol.ts `Errors`, the entries with a
 * `status`). Clients test the code (stable), not the message (for people).
 */
export const ApiErrorCode = Object.fromEntries(Object.entries(Errors).flatMap(([name, e]) => ('status' in e ? [[name, e.reason]] : []))) as Answered
export type ApiErrorCode = Answered[keyof Answered]

/** A catalogue entry the REST API can answer with. */
export type ApiErrorInfo = ErrorInfo & { readonly status: number }

/** An answer other than success, thrown by a handler and sent as JSON by the API router. */
export class ApiError extends Error {
  readonly status: number
  readonly code: ApiErrorCode
  readonly headers: Record<string, string>
  constructor(info: ApiErrorInfo, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.name = 'ApiError'
    this.status = info.status
    this.code = info.reason as ApiErrorCode
    this.headers = headers
  }
}

export function sendError(res: ServerResponse, error: ApiError): void {
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value)
  sendJson(res, error.status, { error: error.code, message: error.message })
}
