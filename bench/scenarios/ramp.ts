/**
 * ramp: the largest editor count each target serves with edit-to-peer p99
 * under 100 ms (10 editors per document, 1 edit/s each). Steps up until a step
 * fails — p99 ≥ 100 ms, missed updates, no convergence — and says when the
 * load generator, not the server, was the limit.
 */
import { say } from '../lib/progress.ts'
import type { TargetSpec } from '../lib/targets.ts'
import type { CaseResult, TargetResult } from '../report/schema.ts'
import { runLoad } from '../run/load-run.ts'
import { workload } from './load.ts'
import type { Overrides, Scenario, ScenarioOutput } from './types.ts'

const P99_LIMIT_MS = 100
const DEFAULT_STEPS = [1000, 2000, 3000, 4000, 5000]

interface RampRow {
  target: string
  editors: number
  p99Ms: number
  cpuPercent: number
  cpuUsPerDelivery: number | null
  missing: number
  converged: boolean
  loadgenBound: boolean
  machineCpuPercent: number
  verdict: 'pass' | 'fail' | 'loadgen-bound' | 'error'
}

function verdict(r: TargetResult): RampRow['verdict'] {
  if (!r.ok) return 'error'
  const passes = r.latencyMs.p99 < P99_LIMIT_MS && r.edits.missing === 0 && r.convergence.ok
  if (!passes && r.loadgen.bound) return 'loadgen-bound'
  return passes ? 'pass' : 'fail'
}

export const ramp: Scenario = {
  name: 'ramp',
  description: `largest editor count with p99 < ${P99_LIMIT_MS} ms, 10 editors per document, 1 edit/s (steps: --steps)`,
  defaultTargets: ['collab', 'collab-memory', 'hocuspocus', 'y-websocket', 'relay'],
  strict: false,
  async run(targets: TargetSpec[], o: Overrides): Promise<ScenarioOutput> {
    const steps = o.steps ?? DEFAULT_STEPS
    const rows: RampRow[] = []
    const cases = new Map<number, CaseResult>()
    const notes: string[] = []
    const capacity: Array<{ target: string; largestPassing: number; limitedBy: string }> = []
    for (const target of targets) {
      let largest = 0
      let limitedBy = `not reached within ${steps[steps.length - 1]} editors`
      for (const editors of steps) {
        const w = workload(
          { clients: editors, docs: Math.max(1, Math.round(editors / 10)), rate: 1, durationSec: 15, warmupSec: 5, kind: 'text', realClients: 4, workers: editors > 2000 ? 2 : 1 },
          { ...o, clients: editors, docs: o.docs ?? Math.max(1, Math.round(editors / 10)) },
        )
        const r = await runLoad(target, { ...w, caseName: `ramp-${editors}` })
        const c = cases.get(editors) ?? { name: `ramp-${editors}`, workload: w, targets: [] }
        c.targets.push(r)
        cases.set(editors, c)
        const v = verdict(r)
        rows.push({
          target: target.name,
          editors,
          p99Ms: r.latencyMs.p99,
          cpuPercent: r.server.cpuPercent,
          cpuUsPerDelivery: r.server.cpuUsPerDelivery,
          missing: r.edits.missing,
          converged: r.convergence.ok,
          loadgenBound: r.loadgen.bound,
          machineCpuPercent: r.loadgen.machineCpuPercent,
          verdict: v,
        })
        say(`ramp ${target.name} ${editors}: p99 ${r.latencyMs.p99} ms, server cpu ${r.server.cpuPercent}% → ${v}`)
        if (v === 'pass') {
          largest = editors
          continue
        }
        limitedBy =
          v === 'loadgen-bound'
            ? `load generator at ${editors} (${r.loadgen.reasons.join('; ')})`
            : v === 'error'
              ? `error at ${editors}: ${r.error ?? ''}`
              : `p99 ${r.latencyMs.p99} ms / missing ${r.edits.missing} at ${editors} (server CPU ${r.server.cpuPercent}%)`
        break
      }
      capacity.push({ target: target.name, largestPassing: largest, limitedBy })
      notes.push(`ramp/${target.name}: largest passing step ${largest} editors; stopped by ${limitedBy}`)
    }
    return {
      cases: [...cases.values()],
      extra: { capacity, ramp: rows },
      notes,
      charts: [{ title: `largest editor count with p99 < ${P99_LIMIT_MS} ms`, bars: capacity.map((c) => ({ label: c.target, value: c.largestPassing })) }],
    }
  },
}
