/**
 * scale-out: the cost of the hop between instances. N instances of a target
 * (each its own process), one real redis-server between them and, for this
 * server, one real PostgreSQL under them; every room's editors go round-robin
 * over the instances, so each edit reaches peers on its own instance directly
 * and peers on the others through Redis. Headline: cross-instance
 * edit-to-peer latency. Baseline: this server as one instance on the same
 * PostgreSQL without Redis, same workload.
 */
import { CLUSTER_TARGETS, type SharedServices, clusterTarget, startServices } from '../lib/cluster.ts'
import type { TargetSpec } from '../lib/targets.ts'
import type { CaseResult, Chart, Workload } from '../report/schema.ts'
import { startInstances } from '../run/deployment.ts'
import { runDeployment } from '../run/load-run.ts'
import { failed } from '../run/summarize.ts'
import { type CaseRunner, runCases, workload } from './load.ts'
import type { Overrides, Scenario, ScenarioOutput } from './types.ts'

const base: Workload = { clients: 400, docs: 40, rate: 1, durationSec: 20, warmupSec: 5, kind: 'text', realClients: 4, workers: 1 }

/** Run a case on `count` instances of the target; `redis` false: one instance with no Redis (the baseline). */
function clusterRunner(services: SharedServices, redis: boolean): CaseRunner {
  return async (target, options) => {
    const cluster = clusterTarget(target.name, redis)
    if (!cluster) return failed(target, options, new Error(`scale-out cannot run ${target.name}${redis ? '' : ' without Redis'}`))
    return runDeployment(cluster.spec, options, () => {
      const env = cluster.env(services) // one database and one Redis prefix for all instances of this run
      return startInstances(cluster.spec, options.instances ?? 1, () => env, services.probes(cluster.uses))
    })
  }
}

const fmt = (n: number) => Math.round(n * 100) / 100

/** Plain-language comparisons: cross vs same instance, and vs the one-instance baseline. */
function hopNotes(main: CaseResult, baseline: CaseResult | undefined): string[] {
  const notes: string[] = []
  const one = baseline?.targets.find((t) => t.ok && t.target === 'collab')
  for (const t of main.targets) {
    const s = t.instances
    if (!t.ok || !s || s.crossInstanceMs.count === 0) continue
    const { sameInstanceMs: same, crossInstanceMs: cross } = s
    let line =
      `${t.target} ×${s.count}: cross-instance p50 ${cross.p50} ms / p99 ${cross.p99} ms, same-instance p50 ${same.p50} ms / p99 ${same.p99} ms ` +
      `(hop: +${fmt(cross.p50 - same.p50)} ms at p50); servers ${t.server.cpuPercent}% CPU in all` +
      s.services.map((x) => `, ${x.name} ${x.cpuPercent}%`).join('')
    if (t.target === 'collab' && one) {
      line +=
        `; one instance without Redis: p50 ${one.latencyMs.p50} ms / p99 ${one.latencyMs.p99} ms at ${one.server.cpuPercent}% CPU ` +
        `(${one.server.cpuUsPerDelivery ?? 'n/a'} vs ${t.server.cpuUsPerDelivery ?? 'n/a'} µs server CPU per delivery)`
    }
    notes.push(`${line}.`)
  }
  return notes
}

export const scaleOut: Scenario = {
  name: 'scale-out',
  description: 'N instances (--instances, default 2) + one Redis: 400 editors on 40 documents, each room spread over every instance, 1 edit/s; cross-instance latency',
  defaultTargets: CLUSTER_TARGETS,
  async run(targets: TargetSpec[], o: Overrides): Promise<ScenarioOutput> {
    const n = o.instances ?? 2
    const usable = targets.filter((t) => CLUSTER_TARGETS.includes(t.name))
    const skipped = targets.filter((t) => !CLUSTER_TARGETS.includes(t.name)).map((t) => t.name)
    const w: Workload = { ...workload(base, o), instances: n }
    const notes: string[] = []
    const failures = skipped.map((name) => `scale-out/${name}`)
    if (skipped.length) notes.push(`scale-out runs ${CLUSTER_TARGETS.join(' and ')} only; not run: ${skipped.join(', ')}.`)
    const cases: CaseResult[] = []
    if (usable.length === 0) return { cases, notes, failures }
    const services = await startServices()
    try {
      const main = await runCases([{ name: `scale-out-x${n}`, workload: w }], usable, clusterRunner(services, true))
      cases.push(...main.cases)
      notes.push(...main.notes)
      const collab = usable.filter((t) => t.name === 'collab')
      if (collab.length) {
        const one = await runCases([{ name: 'baseline-x1-no-redis', workload: { ...w, instances: 1 } }], collab, clusterRunner(services, false))
        cases.push(...one.cases)
        notes.push(...one.notes)
      }
    } finally {
      await services.stop()
    }
    const [main, baseline] = cases
    if (main) notes.unshift(...hopNotes(main, baseline))
    notes.push(
      `Editors of each room go round-robin over the instances (room k's j-th editor on instance j mod ${n}); each real-provider pair straddles two instances. ` +
        'Convergence fetches every room through every instance and requires all copies equal.',
      'PostgreSQL runs with fsync=off (scripts/cluster/services.ts) and every process — instances, redis-server, PostgreSQL, load generator — shares this machine: ' +
        'this measures what the hop costs in latency and CPU, not added capacity. Server CPU is summed over instances; PostgreSQL CPU is the postmaster and its backends.',
    )
    const charts: Chart[] = [
      {
        title: 'edit-to-peer p99, ms: cross-instance, and one instance (baseline)',
        bars: [
          ...(main?.targets ?? []).filter((t) => t.ok && t.instances?.crossInstanceMs.count).map((t) => ({ label: `${t.target} ×${n}`, value: t.instances?.crossInstanceMs.p99 ?? 0 })),
          ...(baseline?.targets ?? []).filter((t) => t.ok).map((t) => ({ label: `${t.target} ×1`, value: t.latencyMs.p99 })),
        ],
      },
    ]
    return { cases, notes, failures, charts }
  },
}
