import type { Router } from './router.ts'
import { sendJson } from './router.ts'
import type { Metrics } from '../metrics.ts'
import { packageInfo } from '../package-info.ts'

/** The outcome of one readiness check. 'degraded' still serves (200); 'failing' does not (503). */
export type CheckState = 'ok' | 'degraded' | 'failing'
export type ReadinessCheck = () => Promise<CheckState | { state: CheckState; detail: string }>

/** Named readiness checks; features add theirs (storage now, Redis later). */
export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>()
  private stopping = false

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
    const states = Object.values(checks)
    const failing = this.stopping || states.includes('failing')
    const status = this.stopping ? 'stopping' : failing ? 'unavailable' : states.includes('degraded') ? 'degraded' : 'ready'
    return { ready: !failing, status, checks, details }
  }
}

/** This package's version, from its package.json (source, build or installed package). */
export function packageVersion(): string {
  return packageInfo().version
}

export interface OpsSources {
  documents: () => number
  connections: () => number
  readiness: Readiness
  metrics: Metrics
}

/** GET /healthz (alive), /readyz (can serve and persist), /metrics (Prometheus). */
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
    sendJson(res, r.ready ? 200 : 503, { status: r.status, checks: r.checks, ...(Object.keys(r.details).length ? { details: r.details } : {}) })
  })
  router.on('GET', '/metrics', async (_req, res) => {
    const body = await sources.metrics.registry.metrics()
    res.writeHead(200, { 'content-type': sources.metrics.registry.contentType })
    res.end(body)
  })
}
