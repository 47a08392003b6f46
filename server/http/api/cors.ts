/**
 * Cross-origin access to /api: only for the origins in ALLOWED_ORIGINS (an
 * empty list: none). A browser sends some cross-origin requests without asking
 * first (a POST of text/plain, say), so an origin that is not allowed is
 * refused before any handler runs, not just left without CORS headers —
 * otherwise any web page could change documents on an open-mode server on
 * localhost. Hand-written rather than the `cors` package: that one only omits
 * headers and cannot refuse, and the list is the one the socket already uses.
 */
import { Errors } from '../../../client/protocol.ts'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ApiError } from './errors.ts'

/** What a cross-origin caller may send and read. */
const ALLOW_METHODS = 'GET, HEAD, POST, DELETE'
const ALLOW_HEADERS = 'authorization, content-type, accept'
const EXPOSE_HEADERS = 'retry-after, location, www-authenticate, allow'
/** How long a browser may cache a preflight answer, in seconds. */
const MAX_AGE_SECONDS = 600

/** A request to answer as a CORS preflight (after it was counted), or to route. */
export type CorsOutcome = 'preflight' | 'route'

export class ApiCors {
  private readonly allowed: ReadonlySet<string>
  private readonly trustProxy: number
  private readonly allowHeaders: string

  /**
   * `trustProxy` (TRUST_PROXY): behind a proxy, the Host the browser sent may arrive as X-Forwarded-Host.
   * `extraHeaders`: request headers a caller may send besides the API's (the HTTP fallback's).
   */
  constructor(allowedOrigins: readonly string[], trustProxy = 0, extraHeaders: readonly string[] = []) {
    this.allowed = new Set(allowedOrigins)
    this.trustProxy = trustProxy
    this.allowHeaders = [ALLOW_HEADERS, ...extraHeaders].join(', ')
  }

  /** Whether `origin` is the server's own (a page this server serves), judged by the Host the browser sent. */
  private sameOrigin(origin: string, req: IncomingMessage): boolean {
    let host: string
    try {
      host = new URL(origin).host
    } catch {
      return false
    }
    if (host === req.headers.host) return true
    const forwarded = req.headers['x-forwarded-host']
    return this.trustProxy > 0 && typeof forwarded === 'string' && forwarded.split(',')[0]!.trim() === host
  }

  /**
   * Refuse a foreign origin (403 `origin-not-allowed`, no CORS headers); for an
   * allowed one, set the CORS headers, and say whether this is its preflight.
   * No `Origin` (not a browser, or a same-origin GET) and the server's own
   * origin pass untouched.
   */
  check(req: IncomingMessage, res: ServerResponse): CorsOutcome {
    // Answers differ by Origin: a cache must not give one origin's answer to another.
    res.setHeader('vary', 'Origin')
    const origin = req.headers.origin
    if (origin === undefined || this.sameOrigin(origin, req)) return 'route'
    if (!this.allowed.has(origin)) {
      throw new ApiError(Errors.OriginNotAllowed, 'this origin may not call the API (ALLOWED_ORIGINS)')
    }
    res.setHeader('access-control-allow-origin', origin)
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) return 'preflight'
    res.setHeader('access-control-expose-headers', EXPOSE_HEADERS)
    return 'route'
  }

  /** The answer to an allowed origin's preflight. */
  answerPreflight(res: ServerResponse): void {
    res.writeHead(204, {
      'access-control-allow-methods': ALLOW_METHODS,
      'access-control-allow-headers': this.allowHeaders,
      'access-control-max-age': String(MAX_AGE_SECONDS),
      'content-length': '0',
    })
    res.end()
  }
}
