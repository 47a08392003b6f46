import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Router } from './router.ts'
import { sendJson } from './router.ts'
import { ApiErrorCode } from './api/errors.ts'
import type { Metrics } from '../metrics.ts'
import type { Readiness } from '../readiness.ts'
import { packageInfo } from '../package-info.ts'

/** This package's version, from its package.json (source, build or installed package). */
export function packageVersion(): string {
  return packageInfo().version
}

export interface OpsSources {
  documents: () => number
  connections: () => number
  readiness: Readiness
  metrics: Metrics
  /** Who may read /metrics: bearers of `token`; without one, everybody unless `authConfigured`. */
  metricsAccess: { token?: string; authConfigured: boolean }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest()

/** Whether the request may read /metrics (the token compared in constant time). */
function metricsAllowed(req: IncomingMessage, access: OpsSources['metricsAccess']): boolean {
  if (access.token === undefined) return !access.authConfigured
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '')
  return match !== null && timingSafeEqual(sha256(match[1]!), sha256(access.token))
}

/**
 * GET /healthz (alive), /readyz (can serve and persist), /metrics (Prometheus,
 * behind METRICS_TOKEN). The first two are for anybody: counts and states, no
 * document names, no error text.
 */
export function addOpsRoutes(router: Router, sources: OpsSources): void {
  const version = packageVersion()
  const startedAt = Date.now()
  router.on('GET', '/healthz', (_req, res) =>
    sendJson(res, 200, {
      status: 'ok',
      version,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      documents: sources.documents(),
      connections: sources.connections(),
    }),
  )
  router.on('GET', '/readyz', async (_req, res) => {
    const r = await sources.readiness.evaluate()
    sendJson(res, r.ready ? 200 : 503, { status: r.status, checks: r.checks })
  })
  router.on('GET', '/metrics', async (req, res) => {
    if (!metricsAllowed(req, sources.metricsAccess)) {
      res.setHeader('www-authenticate', 'Bearer realm="metrics"')
      return sendJson(res, 401, { error: ApiErrorCode.Unauthorized, message: 'send METRICS_TOKEN as "Authorization: Bearer <token>"' })
    }
    const body = await sources.metrics.registry.metrics()
    res.writeHead(200, { 'content-type': sources.metrics.registry.contentType })
    res.end(body)
  })
}
