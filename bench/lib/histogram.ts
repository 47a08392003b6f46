/**
 * A mergeable latency histogram: log-spaced buckets with 1 % relative
 * precision from 1 µs to ~10 minutes, so workers can record millions of
 * samples cheaply and the orchestrator can add their histograms together.
 */
const GROWTH = 1.01
const LOG_GROWTH = Math.log(GROWTH)
const BUCKETS = 2800 // GROWTH^2800 µs ≈ 1.2e12 µs — far past any run

export interface LatencySummary {
  /** Number of samples. */
  count: number
  /** Milliseconds. */
  mean: number
  p50: number
  p95: number
  p99: number
  max: number
}

export class Histogram {
  readonly counts: Float64Array
  count = 0
  sum = 0
  max = 0

  constructor(counts?: Float64Array) {
    this.counts = counts ?? new Float64Array(BUCKETS)
  }

  /** Record one sample, in microseconds. */
  record(us: number): void {
    const v = us < 1 ? 1 : us
    let i = Math.ceil(Math.log(v) / LOG_GROWTH)
    if (i >= BUCKETS) i = BUCKETS - 1
    this.counts[i] = (this.counts[i] ?? 0) + 1
    this.count += 1
    this.sum += v
    if (v > this.max) this.max = v
  }

  add(other: HistogramData): void {
    for (const [i, c] of other.buckets) this.counts[i] = (this.counts[i] ?? 0) + c
    this.count += other.count
    this.sum += other.sum
    if (other.max > this.max) this.max = other.max
  }

  /** Value (µs) at quantile q in [0, 1]: the upper edge of the bucket that holds it. */
  quantile(q: number): number {
    if (this.count === 0) return 0
    const rank = Math.max(1, Math.ceil(q * this.count))
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] ?? 0
      if (seen >= rank) return Math.min(Math.pow(GROWTH, i), this.max)
    }
    return this.max
  }

  /** Sparse, structured-clone friendly form for IPC. */
  toData(): HistogramData {
    const buckets: Array<[number, number]> = []
    for (let i = 0; i < BUCKETS; i++) {
      const c = this.counts[i] ?? 0
      if (c > 0) buckets.push([i, c])
    }
    return { buckets, count: this.count, sum: this.sum, max: this.max }
  }

  summary(): LatencySummary {
    const ms = (us: number) => Math.round(us) / 1000
    return {
      count: this.count,
      mean: this.count ? ms(this.sum / this.count) : 0,
      p50: ms(this.quantile(0.5)),
      p95: ms(this.quantile(0.95)),
      p99: ms(this.quantile(0.99)),
      max: ms(this.max),
    }
  }

  reset(): void {
    this.counts.fill(0)
    this.count = 0
    this.sum = 0
    this.max = 0
  }
}

export interface HistogramData {
  buckets: Array<[number, number]>
  count: number
  sum: number
  max: number
}

export function mergeHistograms(parts: HistogramData[]): Histogram {
  const h = new Histogram()
  for (const p of parts) h.add(p)
  return h
}

/** What `later` recorded after `earlier` (two snapshots of one cumulative histogram); max is `later`'s. */
export function histogramBetween(earlier: HistogramData, later: HistogramData): Histogram {
  const h = mergeHistograms([later])
  for (const [i, c] of earlier.buckets) h.counts[i] = Math.max(0, (h.counts[i] ?? 0) - c)
  h.count = Math.max(0, later.count - earlier.count)
  h.sum = Math.max(0, later.sum - earlier.sum)
  return h
}
