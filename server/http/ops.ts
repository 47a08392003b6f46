import { createHash, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { dirname, join } from 'node:path'
import type { Logger } from 'pino'
import type { Router } from './router.ts'
import { sendJson } from './router.ts'
import { ApiErrorCode } from './api/errors.ts'
import type { Metrics } from '../metrics.ts'

/** The outcome of one readiness check. 'degraded' still serves (200); 'failing' does not (503). */
export type CheckState = 'ok' | 'degraded' | 'failing'
export type ReadinessCheck = () => Promise<CheckState | { state: CheckState; detail: string }>

/**
 * Named readiness checks; features add theirs (storage now, Redis later).
 * A check's detail (an error's text: it may name a file path or a database
 * host) is logged when it changes, never answered.
 */
export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>()
  private readonly lastDetail = new Map<string, string>()
  private readonly logger: Logger | undefined
  private stopping = false

  constructor(logger?: Logger) {
    this.logger = logger
  }

  add(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check)
  }

  /** After this, /readyz answers 503 so load balancers drain the instance. */
  markStopping(): void {
    this.stopping = true
  }

  async evaluate(): Promise<{ ready: boolean; status: string; checks: Record<string, string>; details: Record<string, string> }> {
    const checks: Record<string, string> = {}
    const details: Record<string, string> = {}
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        try {
          const r = await check()
          checks[name] = typeof r === 'string' ? r : r.state
          if (typeof r !== 'string') details[name] = r.detail
        } catch (error) {
          checks[name] = 'failing'
          details[name] = error instanceof Error ? error.message : String(error)
        }
      }),
    )
    for (const name of this.checks.keys()) this.noteDetail(name, checks[name]!, details[name])
    const states = Object.values(checks)
    const failing = this.stopping || states.includes('failing')
    const status = this.stopping ? 'stopping' : failing ? 'unavailable' : states.includes('degraded') ? 'degraded' : 'ready'
    return { ready: !failing, status, checks, details }
  }

  /** Log a check's detail when it is new (once per change, not per probe). */
  private noteDetail(name: string, state: string, detail: string | undefined): void {
    if (detail === undefined) {
      if (this.lastDetail.delete(name)) this.logger?.info({ check: name, state }, 'readiness check recovered')
      return
    }
    if (this.lastDetail.get(name) === detail) return
    this.lastDetail.set(name, detail)
    this.logger?.warn({ check: name, state, detail }, 'readiness check not ok')
  }
}

/** This package's version, from the nearest package.json above this file (source or dist). */
export function packageVersion(): string {
  let dir = import.meta.dirname
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'yjs-collab-server' && pkg.version) return pkg.version
    } catch {
      // no package.json at this level; look one level up
    }
    dir = dirname(dir)
  }
  return '0.0.0-unknown'
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
