/**
 * soak's verdict: is the server's live heap back where it was once the churn
 * stopped and every document unloaded? Pure, so it is unit-tested
 * (test/unit/bench-leak-gate.test.ts).
 */

/** How much live heap may grow between the two measurements: 10 % of the baseline or 5 MiB, whichever is larger. */
export const LEAK_TOLERANCE = { fraction: 0.1, floorBytes: 5 * 1024 * 1024 }

/** What a drain left behind: null where the target cannot tell. */
export interface Leftover {
  documents: number | null
  connections: number | null
}

export interface LeakEvidence {
  /** heapUsed after a full GC once the warm-up churn stopped and the target drained, bytes. */
  baselineHeap: number
  /** The same once the soak's churn stopped and the target drained again. */
  finalHeap: number
  /** What was still loaded or open when the wait after the warm-up ended. */
  afterWarmup: Leftover
  /** … and after the soak. */
  afterSoak: Leftover
}

export interface LeakVerdict {
  pass: boolean
  /** finalHeap − baselineHeap (negative: it shrank). */
  growthBytes: number
  limitBytes: number
  /** Why it failed; empty when it passed. */
  reasons: string[]
}

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`

function leftovers(when: string, left: Leftover): string[] {
  const out: string[] = []
  if (left.documents) out.push(`${left.documents} documents still loaded ${when}`)
  if (left.connections) out.push(`${left.connections} connections still open ${when}`)
  return out
}

export function leakVerdict(e: LeakEvidence, tolerance = LEAK_TOLERANCE): LeakVerdict {
  const growthBytes = e.finalHeap - e.baselineHeap
  const limitBytes = Math.max(tolerance.fraction * e.baselineHeap, tolerance.floorBytes)
  const reasons = [
    ...leftovers('after the warm-up (the baseline is not an empty server)', e.afterWarmup),
    ...leftovers('after the churn', e.afterSoak),
  ]
  if (growthBytes > limitBytes) {
    reasons.push(`live heap grew ${mb(growthBytes)} (${mb(e.baselineHeap)} → ${mb(e.finalHeap)}), more than the ${mb(limitBytes)} allowed`)
  }
  return { pass: reasons.length === 0, growthBytes, limitBytes, reasons }
}
