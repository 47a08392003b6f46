/**
 * crowd: many clients join one large stored document within one second —
 * first while it is only in storage (cold), then while it is loaded (warm).
 * isolation: the same, while editors keep editing small documents on the same
 * server; their edit-to-peer latency during each crowd vs before it.
 *
 * Per target: the document seeded into its own storage, the target started,
 * (isolation: the editors connected and editing, `--warmup` s, then
 * `--duration` s measured before the crowd), the crowd's light clients (empty
 * state vector, bench/loadgen/storm.ts) spread evenly over one second. Synced
 * = the last byte of the SyncStep2 answer, timed from the client's own start;
 * every 20th client checks what it received against the stored state vector.
 */
import { benchDocument } from '../lib/docgen.ts'
import { nowUs } from '../lib/edits.ts'
import { histogramBetween, mergeHistograms } from '../lib/histogram.ts'
import { progress, say } from '../lib/progress.ts'
import { seedDocuments } from '../lib/seed.ts'
import { type RunningTarget, startTarget } from '../lib/spawn.ts'
import { type TargetSpec, tempDir } from '../lib/targets.ts'
import type { WorkerReport } from '../loadgen/messages.ts'
import type { StormClientSpec } from '../loadgen/storm-messages.ts'
import { planClients } from '../run/load-run.ts'
import { Peaks, StormWorker, ms, problems, quantile, waitSynced } from '../run/storm-run.ts'
import { tally } from '../run/summarize.ts'
import { Worker } from '../run/workers.ts'
import type { Overrides, Scenario, ScenarioOutput } from './types.ts'

const DOC = 'crowd-doc'
const EMPTY_SV = new Uint8Array([0])

interface Plan {
  clients: number
  sizeMb: number
  /** isolation: editors on small documents (0: none). */
  editors: number
  docs: number
  rate: number
  warmupSec: number
  beforeSec: number
}

export interface CrowdRow {
  target: string
  phase: 'cold' | 'warm'
  clients: number
  sizeMb: number
  syncedP50Ms: number
  syncedP99Ms: number
  notSynced: number
  bytesReceivedMb: number
  serverRssPeakMb: number
  serverCpuPeakPercent: number
  converged: boolean
  /** isolation: the small documents' edit-to-peer latency, ms. */
  beforeP50Ms?: number
  beforeP99Ms?: number
  duringP50Ms?: number
  duringP99Ms?: number
  duringSamples?: number
  error?: string
}

async function runCrowd(worker: StormWorker, target: RunningTarget, first: number, plan: Plan, phase: 'cold' | 'warm'): Promise<CrowdRow> {
  const ids = Array.from({ length: plan.clients }, (_, k) => first + k)
  const peaks = new Peaks()
  peaks.watch(target.pid)
  worker.connect(ids, 1000)
  const tag = `[crowd ${target.spec.name} ${phase}]`
  const report = await waitSynced(worker, new Set(ids), 300_000, (n) => progress(`${tag} synced ${n}/${plan.clients}`))
  peaks.stop()
  const mine = report.sessions.filter((s) => s.id >= first && s.id < first + plan.clients)
  const synced = mine.filter((s) => s.syncedUs !== null)
  const times = synced.map((s) => s.syncedUs! - s.startedUs)
  const bad = problems(mine)
  return {
    target: target.spec.name,
    phase,
    clients: plan.clients,
    sizeMb: plan.sizeMb,
    syncedP50Ms: ms(quantile(times, 0.5)),
    syncedP99Ms: ms(quantile(times, 0.99)),
    notSynced: plan.clients - synced.length,
    bytesReceivedMb: Math.round(mine.reduce((n, s) => n + s.bytes, 0) / 1048576),
    serverRssPeakMb: Math.round(peaks.rssBytes / 1048576),
    serverCpuPeakPercent: peaks.cpuPercent,
    converged: synced.length === plan.clients && mine.every((s) => s.converged === true),
    ...(bad.length ? { error: bad.join('; ') } : {}),
  }
}

async function measure(spec: TargetSpec, plan: Plan): Promise<{ rows: CrowdRow[]; missing: number }> {
  const generated = benchDocument(plan.sizeMb)
  const dir = tempDir(`crowd-${spec.name}`)
  const env = await seedDocuments(spec, dir, [[DOC, generated.update]])
  const storm = new StormWorker()
  let editors: Worker | undefined
  let target: RunningTarget | undefined
  try {
    target = await startTarget(spec, { dir, env })
    const clients: StormClientSpec[] = Array.from({ length: plan.clients * 2 }, (_, id) => ({ id, document: DOC, held: EMPTY_SV, expected: generated.stateVector, check: id % 20 === 0 }))
    await storm.init(target.address, clients)
    let before: WorkerReport | undefined
    if (plan.editors > 0) {
      editors = new Worker()
      await editors.next('ready', 20_000)
      const { specs, rooms } = planClients({ clients: plan.editors, docs: plan.docs, rate: plan.rate, durationSec: 0, warmupSec: 0, kind: 'text', realClients: 0, workers: 1 })
      const connected = editors.next('connected', 120_000)
      editors.send({ type: 'init', target: target.address, clients: specs, rooms, kind: 'text', rate: plan.rate, connectConcurrency: 32, connectTimeoutMs: 30_000 })
      const c = await connected
      if (c.failed > 0) throw new Error(`${c.failed} editors did not connect`)
      const t0 = nowUs() + 200_000
      editors.send({ type: 'start', t0, windowFrom: t0 + plan.warmupSec * 1e6, windowTo: Number.MAX_SAFE_INTEGER })
      await new Promise((r) => setTimeout(r, (plan.warmupSec + plan.beforeSec) * 1000 + 200))
      before = await editors.report(false)
    }
    const rows: CrowdRow[] = []
    let mark = before
    for (const phase of ['cold', 'warm'] as const) {
      const row = await runCrowd(storm, target, phase === 'cold' ? 0 : plan.clients, plan, phase)
      if (editors && before && mark) {
        const now = await editors.report(false)
        const was = mergeHistograms([before.latency]).summary()
        const during = histogramBetween(mark.latency, now.latency).summary()
        Object.assign(row, { beforeP50Ms: was.p50, beforeP99Ms: was.p99, duringP50Ms: during.p50, duringP99Ms: during.p99, duringSamples: during.count })
        mark = now
      }
      rows.push(row)
    }
    let missing = 0
    if (editors) {
      editors.send({ type: 'stop-sending' })
      // Drain: until nothing is in flight, or 10 s.
      const deadline = performance.now() + 10_000
      for (;;) {
        missing = tally([await editors.report(false)]).missing
        if (missing === 0 || performance.now() > deadline) break
        await new Promise((r) => setTimeout(r, 250))
      }
    }
    return { rows, missing }
  } finally {
    await editors?.close()
    await storm.close()
    await target?.stop()
  }
}

function crowdScenario(name: 'crowd' | 'isolation', description: string, editors: number): Scenario {
  return {
    name,
    description,
    defaultTargets: ['collab', 'hocuspocus-sqlite'],
    async run(targets: TargetSpec[], o: Overrides): Promise<ScenarioOutput> {
      const plan: Plan = {
        clients: o.clients ?? 100,
        sizeMb: o.sizes?.[0] ?? 20,
        editors: editors > 0 ? (o.editors ?? editors) : 0,
        docs: o.docs ?? 20,
        rate: o.rate ?? 1,
        warmupSec: o.warmup ?? 3,
        beforeSec: o.duration ?? 10,
      }
      const rows: CrowdRow[] = []
      const failures: string[] = []
      const notes = [
        `${plan.clients} light clients join one ${plan.sizeMb} MB stored document, spread evenly over 1 s (empty state vector), cold (only in storage) then warm (loaded, the cold clients still connected). Synced = the last byte of the SyncStep2 answer, from the client's own start; every 20th client checks what arrived against the stored state vector.`,
        ...(plan.editors > 0
          ? [`isolation: ${plan.editors} editors on ${plan.docs} small documents at ${plan.rate} edit/s each; "before" = the ${plan.beforeSec} s before the cold crowd, "during" = from each crowd's start until its last client synced.`]
          : []),
      ]
      for (const spec of targets) {
        try {
          const { rows: got, missing } = await measure(spec, plan)
          rows.push(...got)
          for (const r of got) {
            if (r.error || !r.converged) failures.push(`${name}/${spec.name}/${r.phase}`)
            say(`${name} ${spec.name} ${r.phase}: synced p50 ${r.syncedP50Ms} ms, p99 ${r.syncedP99Ms} ms, peak RSS ${r.serverRssPeakMb} MB, ${r.bytesReceivedMb} MB sent` +
              (r.duringP99Ms !== undefined ? `; small documents p99 ${r.beforeP99Ms} ms before, ${r.duringP99Ms} ms during (${r.duringSamples} samples)` : ''))
          }
          if (missing > 0) {
            failures.push(`${name}/${spec.name}/missing`)
            notes.push(`${name}/${spec.name}: ${missing} edit deliveries missing after the drain`)
          }
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error)
          failures.push(`${name}/${spec.name}`)
          notes.push(`${name}/${spec.name} failed: ${message}`)
        }
      }
      const ok = rows.filter((r) => !r.error)
      return {
        cases: [],
        extra: { [name]: rows },
        notes,
        failures,
        charts: [
          { title: `${name}: time to synced p50, ms`, bars: ok.map((r) => ({ label: `${r.target} ${r.phase}`, value: r.syncedP50Ms })) },
          editors > 0
            ? { title: 'small documents: edit-to-peer p99 during the crowd, ms', bars: ok.map((r) => ({ label: `${r.target} ${r.phase}`, value: r.duringP99Ms ?? NaN })) }
            : { title: 'crowd: peak server RSS, MB', bars: ok.map((r) => ({ label: `${r.target} ${r.phase}`, value: r.serverRssPeakMb })) },
        ],
      }
    },
  }
}

export const crowd = crowdScenario('crowd', '100 clients join one 20 MB stored document within 1 s, cold then warm: time to synced, peak RSS, bytes sent', 0)
export const isolation = crowdScenario('isolation', '200 editors on 20 small documents while crowd runs: their edit-to-peer p50/p99 during the crowd vs before it', 200)
