import { describe, expect, it } from 'vitest'
import type { TargetResult } from '../../bench/report/schema.ts'
import { representative } from '../../bench/scenarios/load.ts'

function run(us: number, extra: { ok?: boolean; missing?: number; converged?: boolean; p99?: number } = {}): TargetResult {
  return {
    target: 'collab',
    ok: extra.ok ?? true,
    latencyMs: { p99: extra.p99 ?? us / 10 },
    edits: { missing: extra.missing ?? 0 },
    convergence: { ok: extra.converged ?? true },
    server: { cpuUsPerDelivery: us },
  } as unknown as TargetResult
}

describe('bench --repeat: which run stands for a target', () => {
  it('is the median run by CPU per delivery, and carries every run in order', () => {
    const r = representative([run(50), run(30), run(40)])
    expect(r.server.cpuUsPerDelivery).toBe(40)
    expect(r.repeats?.cpuUsPerDelivery).toEqual([50, 30, 40])
    expect(r.repeats?.converged).toEqual([true, true, true])
  })

  it('of an even number of runs, is the lower middle one', () => {
    expect(representative([run(4), run(1), run(3), run(2)]).server.cpuUsPerDelivery).toBe(2)
  })

  it('is a run that missed updates or did not converge, whatever the median', () => {
    expect(representative([run(30), run(31, { missing: 5 }), run(32)]).edits.missing).toBe(5)
    const unconverged = representative([run(30), run(32), run(33, { converged: false })])
    expect(unconverged.convergence.ok).toBe(false)
    expect(unconverged.repeats?.converged).toEqual([true, true, false])
  })

  it('of a single run, is that run without a repeats block', () => {
    const only = run(12)
    expect(representative([only])).toBe(only)
  })
})
