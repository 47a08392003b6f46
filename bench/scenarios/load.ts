/**
 * The steady-load scenarios: a fixed number of editors on a fixed number of
 * documents, editing at a fixed rate, run on every target in turn.
 */
import { say } from '../lib/progress.ts'
import type { TargetSpec } from '../lib/targets.ts'
import type { CaseResult, TargetResult, Workload } from '../report/schema.ts'
import { type LoadOptions, runLoad } from '../run/load-run.ts'
import { crowd, isolation } from './crowd.ts'
import { restartStorm } from './restart-storm.ts'
import type { Overrides, Scenario, ScenarioOutput } from './types.ts'

const ALL = ['collab', 'collab-memory', 'hocuspocus', 'y-websocket', 'relay']

export function workload(base: Workload, o: Overrides): Workload {
  return {
    ...base,
    clients: o.clients ?? base.clients,
    docs: o.docs ?? base.docs,
    rate: o.rate ?? base.rate,
    durationSec: o.duration ?? base.durationSec,
    warmupSec: o.warmup ?? Math.min(base.warmupSec, (o.duration ?? base.durationSec) / 3),
    workers: o.workers ?? base.workers,
    realClients: o.real ?? base.realClients,
    ...(o.repeat && o.repeat > 1 ? { repeat: o.repeat } : {}),
  }
}

/** Run one case's workload on one target (default: the target's own process, runLoad). */
export type CaseRunner = (target: TargetSpec, options: LoadOptions) => Promise<TargetResult>

/** Run each case on each target, one at a time, and note anything that needs a caveat. */
export async function runCases(
  cases: Array<{ name: string; workload: Workload; env?: Record<string, string> }>,
  targets: TargetSpec[],
  runner: CaseRunner = runLoad,
): Promise<ScenarioOutput> {
  const results: CaseResult[] = []
  const notes: string[] = []
  for (const c of cases) {
    const repeat = c.workload.repeat ?? 1
    const runs = new Map<string, TargetResult[]>(targets.map((t) => [t.name, []]))
    // Interleaved (A B C A B C …), so a slow spell on the machine hits every target alike.
    for (let k = 0; k < repeat; k++) {
      for (const target of targets) {
        const r = await runner(target, { ...c.workload, caseName: repeat > 1 ? `${c.name} #${k + 1}/${repeat}` : c.name, env: c.env })
        runs.get(target.name)!.push(r)
        say(summaryLine(repeat > 1 ? `${c.name} #${k + 1}` : c.name, target.name, r))
      }
    }
    const result: CaseResult = { name: c.name, workload: c.workload, targets: [] }
    for (const target of targets) {
      const r = representative(runs.get(target.name)!)
      result.targets.push(r)
      if (!r.ok) notes.push(`${c.name}/${target.name} failed: ${r.error ?? 'unknown error'}`)
      if (r.loadgen.bound) notes.push(`${c.name}/${target.name}: load generator may have limited the run (${r.loadgen.reasons.join('; ')}); not a server result.`)
      else if (r.loadgen.reasons.length) notes.push(`${c.name}/${target.name}: ${r.loadgen.reasons.join('; ')}`)
      if (r.ok && !r.convergence.ok) notes.push(`${c.name}/${target.name} did not converge: ${r.convergence.problems.slice(0, 3).join('; ')}`)
    }
    if (repeat > 1) notes.push(`${c.name}: ${repeat} runs per target, interleaved; each row is the target's median run by CPU per delivery (every run in "Repeated runs").`)
    results.push(result)
  }
  return { cases: results, notes }
}

function summaryLine(name: string, target: string, r: TargetResult): string {
  const cross = r.instances?.crossInstanceMs
  return r.ok
    ? `${name} ${target}: p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, ` +
        `${cross?.count ? `cross-instance p50 ${cross.p50} ms, p99 ${cross.p99} ms, ` : ''}${r.throughput.deliveredPerSec} delivered/s, ` +
        `server cpu ${r.server.cpuPercent}%, ${r.server.cpuUsPerDelivery ?? '-'} µs/delivery, missing ${r.edits.missing}, ` +
        `converged ${r.convergence.ok ? 'yes' : 'NO'}${r.loadgen.bound ? ' [LOADGEN-BOUND]' : ''}`
    : `${name} ${target}: FAILED ${r.error ?? ''}`
}

/**
 * One run stands for a target: the only one, or a failed/incomplete one if any
 * (a failure is never hidden by a median), else the median by CPU per delivery,
 * carrying every run's key figures.
 */
export function representative(runs: TargetResult[]): TargetResult {
  if (runs.length === 1) return runs[0]!
  const repeats = {
    cpuUsPerDelivery: runs.map((r) => (r.ok ? r.server.cpuUsPerDelivery : null)),
    latencyP99Ms: runs.map((r) => r.latencyMs.p99),
    missing: runs.map((r) => r.edits.missing),
    converged: runs.map((r) => r.ok && r.convergence.ok),
  }
  const bad = runs.find((r) => !r.ok || r.edits.missing > 0 || !r.convergence.ok)
  if (bad) return { ...bad, repeats }
  const sorted = [...runs].sort((a, b) => (a.server.cpuUsPerDelivery ?? Infinity) - (b.server.cpuUsPerDelivery ?? Infinity))
  return { ...sorted[Math.floor((sorted.length - 1) / 2)]!, repeats }
}

const base: Workload = { clients: 1000, docs: 100, rate: 1, durationSec: 30, warmupSec: 5, kind: 'text', realClients: 4, workers: 1 }

export const manyDocs: Scenario = {
  name: 'many-docs',
  description: '1,000 editors on 100 documents (10 per document), 1 edit/s each',
  defaultTargets: ALL,
  run: (targets, o) => runCases([{ name: 'many-docs', workload: workload(base, o) }], targets),
}

export const hotDoc: Scenario = {
  name: 'hot-doc',
  description: 'one document: 200 editors at 1 edit/s, and 1,000 editors making 100 edits/s in total',
  defaultTargets: ALL,
  run: (targets, o) => {
    const one = { ...base, docs: 1 }
    const given = o.clients !== undefined || o.rate !== undefined
    const cases = given
      ? [{ name: 'hot-doc', workload: workload(one, { ...o, docs: 1 }) }]
      : [
          { name: 'hot-doc-200x1', workload: workload({ ...one, clients: 200, rate: 1 }, o) },
          // 100k deliveries/s: more than one generator process can decode next to the server.
          { name: 'hot-doc-1000x0.1', workload: workload({ ...one, clients: 1000, rate: 0.1, workers: 2 }, o) },
        ]
    return runCases(cases, targets)
  },
}

export const chat: Scenario = {
  name: 'chat',
  description: 'a 100-user chat room: each user posts (Y.Array push of a small object) at the rate, delivery latency to the other 99',
  defaultTargets: ALL,
  run: (targets, o) =>
    runCases([{ name: 'chat', workload: workload({ ...base, clients: 100, docs: 1, rate: 1, durationSec: 20, kind: 'chat' }, o) }], targets),
}

export const quick: Scenario = {
  name: 'quick',
  description:
    'smoke test (~90 s): 40 editors on 8 documents, 2 edits/s, 4 s per target, then 20 chat users in 2 rooms, then tiny restart-storm, crowd and isolation; fails if any target misses updates, does not converge, or a storm client does not sync',
  defaultTargets: ALL,
  async run(targets, o) {
    const steady = await runCases(
      [
        { name: 'quick', workload: workload({ ...base, clients: 40, docs: 8, rate: 2, durationSec: 4, warmupSec: 1, realClients: 4 }, o) },
        // Chat messages as our client sends them: this server's chat guard must let every one through.
        { name: 'quick-chat', workload: workload({ ...base, clients: 20, docs: 2, rate: 2, durationSec: 3, warmupSec: 1, realClients: 2, kind: 'chat' }, o) },
      ],
      targets,
    )
    // A small case of each storm, on the targets that keep documents and speak the Hocuspocus protocol (no timing asserted).
    const stored = targets.filter((t) => t.storage && t.address(0).dialect === 'hocuspocus')
    if (stored.length === 0) return steady
    const storms = [
      await restartStorm.run(stored, { clients: 20, docs: 4, sizes: [0.25] }),
      await crowd.run(stored, { clients: 4, sizes: [0.25] }),
      await isolation.run(stored, { clients: 4, sizes: [0.25], editors: 20, docs: 4, duration: 1, warmup: 1 }),
    ]
    return {
      ...steady,
      extra: Object.assign({}, steady.extra, ...storms.map((s) => s.extra)),
      notes: [...steady.notes, ...storms.flatMap((s) => s.notes)],
      failures: [...(steady.failures ?? []), ...storms.flatMap((s) => s.failures ?? [])],
      charts: [...(steady.charts ?? []), ...storms.flatMap((s) => s.charts ?? [])],
    }
  },
}

export const durableAck: Scenario = {
  name: 'durable-ack',
  description: 'edit-to-ack (SyncStatus) latency with DB_SYNC=normal and full: 200 editors on 20 documents, 2 edits/s',
  defaultTargets: ['collab', 'collab-full', 'collab-memory', 'hocuspocus'],
  run: (targets, o) =>
    runCases([{ name: 'durable-ack', workload: workload({ ...base, clients: 200, docs: 20, rate: 2, durationSec: 20 }, o) }], targets),
}
