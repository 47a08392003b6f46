/**
 * The orchestrator's side of the storm worker (bench/loadgen/storm.ts): fork
 * it, hand it clients, start sessions, wait for them, and watch the server's
 * CPU and RSS meanwhile (peaks over 500 ms windows, from /proc).
 */
import { type ChildProcess, fork } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { nowUs } from '../lib/edits.ts'
import { type ProcSample, cpuShare, sampleProc } from '../lib/proc.ts'
import { profileArgs } from '../lib/profile.ts'
import type { TargetAddress } from '../loadgen/messages.ts'
import type { FromStorm, StormClientSpec, StormSession, ToStorm } from '../loadgen/storm-messages.ts'

const STORM = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'loadgen/storm.ts')

export class StormWorker {
  private readonly child: ChildProcess
  readonly pid: number
  private readonly waiters: Array<(m: FromStorm) => void> = []
  private failure: Error | undefined
  private readonly ready: Promise<void>

  constructor() {
    this.child = fork(STORM, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: profileArgs('loadgen') })
    if (this.child.pid === undefined) throw new Error('could not start the storm worker')
    this.pid = this.child.pid
    this.ready = new Promise((done) => this.waiters.push(() => done()))
    this.child.on('message', (m: FromStorm) => {
      if (m.type === 'storm-fatal') this.failure = new Error(`storm worker: ${m.message}`)
      else this.waiters.shift()?.(m)
    })
    this.child.on('exit', (code) => {
      if (code !== 0) this.failure ??= new Error(`storm worker exited with ${code}`)
    })
  }

  private send(m: ToStorm): void {
    if (this.child.connected) this.child.send(m)
  }

  async init(target: TargetAddress, clients: StormClientSpec[]): Promise<void> {
    await this.ready
    this.send({ type: 'storm-init', target, clients })
  }

  /** Start a session for every id, spread evenly over `spreadMs` from now. */
  connect(ids: number[], spreadMs: number): void {
    const t0 = nowUs() + 20_000
    this.send({ type: 'storm-connect', ids, startAtUs: ids.map((_, k) => t0 + (ids.length > 1 ? (k / (ids.length - 1)) * spreadMs * 1000 : 0)) })
  }

  report(): Promise<Extract<FromStorm, { type: 'storm-report' }>> {
    if (this.failure) return Promise.reject(this.failure)
    const reply = new Promise<FromStorm>((done, fail) => {
      const timer = setTimeout(() => fail(this.failure ?? new Error('storm worker: no report within 30 s')), 30_000)
      this.waiters.push((m) => {
        clearTimeout(timer)
        done(m)
      })
    })
    this.send({ type: 'storm-report' })
    return reply as Promise<Extract<FromStorm, { type: 'storm-report' }>>
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return
    const exited = new Promise<void>((done) => this.child.once('exit', () => done()))
    this.send({ type: 'storm-close' })
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
}

/** Peaks of one process, sampled every 100 ms while `watch` runs. */
export class Peaks {
  cpuPercent = 0
  rssBytes = 0
  private readonly samples: ProcSample[] = []
  private timer: NodeJS.Timeout | undefined
  private pid: number | undefined

  watch(pid: number): void {
    this.pid = pid
    this.samples.length = 0
    clearInterval(this.timer)
    this.timer = setInterval(() => this.sample(), 100)
  }

  sample(): void {
    if (this.pid === undefined) return
    const s = sampleProc(this.pid)
    if (!s) return
    this.rssBytes = Math.max(this.rssBytes, s.rss)
    this.samples.push(s)
    const back = this.samples[this.samples.length - 6]
    if (back) this.cpuPercent = Math.max(this.cpuPercent, Math.round(cpuShare(back, s) * 100))
    if (this.samples.length > 50) this.samples.splice(0, this.samples.length - 10)
  }

  stop(): void {
    this.sample()
    clearInterval(this.timer)
  }
}

/** Poll the worker until every client's session (at least its `minSessions`-th) is synced (or `timeoutMs`); returns the last report. */
export async function waitSynced(worker: StormWorker, ids: Set<number>, timeoutMs: number, onTick?: (synced: number) => void, minSessions = 1) {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const report = await worker.report()
    const mine = report.sessions.filter((s) => ids.has(s.id))
    const synced = mine.filter((s) => s.sessions >= minSessions && s.syncedUs !== null && s.converged !== null).length
    onTick?.(synced)
    if (synced === ids.size || performance.now() > deadline) return report
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** Quantile (0..1) of a list of numbers, nearest rank; NaN when empty. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN
}

export const ms = (us: number) => Math.round(us / 100) / 10

/** Sessions that did not sync or did not converge, in words (at most a few). */
export function problems(sessions: StormSession[]): string[] {
  const bad = sessions.filter((s) => s.syncedUs === null || s.converged === false)
  return bad.slice(0, 5).map((s) => `client ${s.id} (${s.document}): ${s.syncedUs === null ? `not synced after ${s.attempts} attempts` : (s.problem ?? 'did not converge')}`)
}
