import { describe, expect, it } from 'vitest'
import { LEAK_TOLERANCE, type LeakEvidence, leakVerdict } from '../../bench/lib/leak-gate.ts'

const MB = 1024 * 1024
const clean = { documents: 0, connections: 0 }

function evidence(baselineMb: number, finalMb: number, extra: Partial<LeakEvidence> = {}): LeakEvidence {
  return { baselineHeap: baselineMb * MB, finalHeap: finalMb * MB, afterWarmup: clean, afterSoak: clean, ...extra }
}

describe('soak leak gate: live heap after the churn against after the warm-up', () => {
  it('allows 5 MB of growth on a small heap (the floor beats 10 %)', () => {
    expect(leakVerdict(evidence(20, 24.9)).pass).toBe(true)
    const over = leakVerdict(evidence(20, 25.1))
    expect(over.pass).toBe(false)
    expect(over.limitBytes).toBe(LEAK_TOLERANCE.floorBytes)
    expect(over.growthBytes).toBeCloseTo(5.1 * MB, 0)
  })

  it('allows 10 % of growth on a large heap (10 % beats the floor)', () => {
    expect(leakVerdict(evidence(100, 109.9)).pass).toBe(true)
    const over = leakVerdict(evidence(100, 110.5))
    expect(over.pass).toBe(false)
    expect(over.limitBytes).toBeCloseTo(10 * MB, 0)
  })

  it('does not fail a heap that shrank', () => {
    const v = leakVerdict(evidence(60, 40))
    expect(v.pass).toBe(true)
    expect(v.growthBytes).toBeLessThan(0)
  })

  it('fails when documents or connections are still there after the churn, whatever the heap', () => {
    const docs = leakVerdict(evidence(20, 20, { afterSoak: { documents: 3, connections: 0 } }))
    expect(docs.pass).toBe(false)
    expect(docs.reasons.join(' ')).toMatch(/3 documents/)
    const sockets = leakVerdict(evidence(20, 20, { afterSoak: { documents: 0, connections: 2 } }))
    expect(sockets.pass).toBe(false)
    expect(sockets.reasons.join(' ')).toMatch(/2 connections/)
  })

  it('fails when the warm-up did not drain (its baseline would hide a leak)', () => {
    expect(leakVerdict(evidence(20, 20, { afterWarmup: { documents: 1, connections: 0 } })).pass).toBe(false)
  })

  it('does not count what a target cannot report (null) as left over', () => {
    const v = leakVerdict(evidence(20, 21, { afterWarmup: { documents: null, connections: 0 }, afterSoak: { documents: null, connections: 0 } }))
    expect(v.pass).toBe(true)
    expect(v.reasons).toEqual([])
  })
})
