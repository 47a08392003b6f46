import type { Logger } from 'pino'

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
