import type { IncomingMessage, ServerResponse } from 'node:http'
import { Errors } from '../../../client/protocol.ts'
import { type Refusal, WriteRefused } from '../../errors.ts'
import type { ApiDeps, ApiRoute } from './context.ts'
import { ApiError, sendError } from './errors.ts'

/** Retry-After of a 503 at capacity: documents free up as their clients leave and they idle out. */
const CAPACITY_RETRY_AFTER_SECONDS = 5

interface Compiled {
  route: ApiRoute
  /** Per path segment: a literal, or the name of a parameter. */
  segments: Array<{ literal: string } | { param: string }>
}

/**
 * Every request under /api first passes CORS (server/http/api/cors.ts) and
 * the rate limits (rate-limit.ts). Then routes by OpenAPI path template
 * (`/api/documents/{name}`), one path segment per parameter (a document name
 * with slashes is sent percent-encoded: `team%2Fnotes`). Unknown paths answer 404 `no-route`, known
 * paths with another method 405 with `Allow`; a handler's ApiError becomes its
 * JSON error, a storage failure 503, anything else a logged 500.
 */
export class ApiRouter {
  private readonly routes: Compiled[]
  private readonly deps: ApiDeps

  constructor(routes: readonly ApiRoute[], deps: ApiDeps) {
    this.deps = deps
    this.routes = routes.map((route) => ({
      route,
      segments: route.path.split('/').map((s) => (/^\{\w+\}$/.test(s) ? { param: s.slice(1, -1) } : { literal: s })),
    }))
  }

  readonly handle = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET')
    const parts = url.pathname.split('/')
    const allowed: string[] = []
    try {
      // Before any route: who may call at all (origin), and how often.
      const { cors, rateLimit } = this.deps.edge
      const outcome = cors.check(req, res)
      rateLimit.check(req)
      if (outcome === 'preflight') return cors.answerPreflight(res)
      for (const { route, segments } of this.routes) {
        const params = match(segments, parts)
        if (!params) continue
        if (route.method !== method) {
          allowed.push(route.method)
          continue
        }
        return await route.handler({ req, res, url, params, deps: this.deps })
      }
      if (allowed.length > 0) throw new ApiError(Errors.MethodNotAllowed, `${method} is not allowed here`, { allow: allowed.join(', ') })
      throw new ApiError(Errors.NoRoute, `no route for ${method} ${url.pathname}`)
    } catch (error) {
      if (res.headersSent) {
        this.deps.logger.error({ err: error, url: url.pathname }, 'api handler failed after answering')
        res.destroy()
        return
      }
      sendError(res, this.asApiError(error, method, url))
    }
  }

  private asApiError(error: unknown, method: string, url: URL): ApiError {
    if (error instanceof ApiError) return error
    if (error instanceof WriteRefused) return refusalAnswer(error.refusal)
    this.deps.logger.error({ err: error, method, url: url.pathname }, 'api handler failed')
    return new ApiError(Errors.InternalError, 'unexpected server error')
  }
}

/** How the REST door answers a refused write: the catalogue entry's status and code. */
function refusalAnswer({ error, detail }: Refusal): ApiError {
  const retryAfter = error === Errors.ServerAtCapacity ? CAPACITY_RETRY_AFTER_SECONDS : error === Errors.StorageUnavailable ? 1 : undefined
  const headers: Record<string, string> = retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) }
  if (error.status === undefined) return new ApiError(Errors.InternalError, `refused: ${error.reason} (${detail})`)
  return new ApiError({ ...error, status: error.status }, `${detail}; nothing was stored or applied`, headers)
}

/** Path parameters when `parts` fits the template, else null. */
function match(segments: Compiled['segments'], parts: string[]): Record<string, string> | null {
  if (segments.length !== parts.length) return null
  const params: Record<string, string> = {}
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!
    const part = parts[i]!
    if ('literal' in segment) {
      if (segment.literal !== part) return null
      continue
    }
    if (part === '') return null
    try {
      params[segment.param] = decodeURIComponent(part)
    } catch {
      throw new ApiError(Errors.BadRequest, `${segment.param}: not valid percent-encoding`)
    }
  }
  return params
}
