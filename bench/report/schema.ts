/**
 * The result file's shape (`bench/results/<scenario>-<time>.json`), documented
 * field by field in bench/README.md. Bump SCHEMA_VERSION on breaking changes.
 */
import type { LatencySummary } from '../lib/histogram.ts'

export const SCHEMA_VERSION = 2

export interface Workload {
  /** Editors in total (light + real). */
  clients: number
  docs: number
  /** Edits per second per editor. */
  rate: number
  durationSec: number
  warmupSec: number
  kind: 'text' | 'chat'
  /** Real provider clients among `clients`. */
  realClients: number
  workers: number
  /** Server instances the editors are spread over (scale-out only; unset: one target). */
  instances?: number
  /** `--repeat`: runs per target, interleaved across targets (unset: 1). */
  repeat?: number
}

/** `--repeat`: every run's key figures, in run order; the target's row is its median run. */
export interface RepeatStats {
  cpuUsPerDelivery: Array<number | null>
  latencyP99Ms: number[]
  missing: number[]
  converged: boolean[]
}

export interface ServerStats {
  /** Mean CPU over the measurement window, % of one core. */
  cpuPercent: number
  /** Server CPU µs per delivered update (window). */
  cpuUsPerDelivery: number | null
  /** Server write syscalls (socket writes) per edit sent in the window: fan-out + echo + ack + anything else. */
  writesPerEdit: number | null
  rssMbStart: number
  rssMbPeak: number
  rssMbEnd: number
  /** Event-loop delay over the window from the preloaded probe, ms. */
  lagMs: { p50: number; p99: number; max: number } | null
}

export interface LoadgenStats {
  workers: number
  /** Highest worker CPU over the window, % of one core. */
  cpuPercentMax: number
  /** Worker event-loop delay p99 over the window (worst worker), ms. */
  loopLagP99Ms: number
  /** How late edits left versus their schedule, p99 ms. */
  sendLagP99Ms: number
  /** Server + load generator CPU, % of the machine's cores. */
  machineCpuPercent: number
  /** True when the load generator (not the server) may have limited the run. */
  bound: boolean
  reasons: string[]
}

export interface Convergence {
  ok: boolean
  /** Rooms whose server state was fetched and checked (once per instance in a multi-instance run). */
  roomsChecked: number
  /** Multi-instance runs: instances each room was fetched through and compared across. */
  instancesChecked?: number
  realClientsChecked: number
  problems: string[]
}

/** One instance of a multi-instance target, over the window. */
export interface InstanceStats {
  pid: number
  /** Editors connected to it. */
  clients: number
  cpuPercent: number
  rssMbPeak: number
  lagP99Ms: number | null
}

/** A shared service beside the instances (redis-server, PostgreSQL), over the window, from /proc. */
export interface ServiceStats {
  name: string
  /** % of one core; PostgreSQL: the postmaster and all its backends. */
  cpuPercent: number
  /** null where one process's RSS says little (PostgreSQL's shared buffers across backends). */
  rssMbPeak: number | null
}

/** What a multi-instance run adds (scale-out). */
export interface ScaleOutStats {
  count: number
  /** Edit-to-peer latency, window, sender and receiver on the same instance. */
  sameInstanceMs: LatencySummary
  /** Edit-to-peer latency, window, sender and receiver on different instances (through Redis): the headline. */
  crossInstanceMs: LatencySummary
  perInstance: InstanceStats[]
  services: ServiceStats[]
}

export interface TargetResult {
  target: string
  label: string
  /** False when the target failed to start or the run broke. */
  ok: boolean
  error?: string
  connections: { requested: number; connected: number; failed: number; closedEarly: number }
  connectMs: LatencySummary
  /** Edit-to-peer latency for edits sent in the window, all receivers. */
  latencyMs: LatencySummary
  /** The same, measured by the real provider clients only. */
  realLatencyMs: LatencySummary
  /** Edit-to-ack (SyncStatus) latency; null for targets that do not ack. */
  ackMs: LatencySummary | null
  edits: {
    sent: number
    expectedDeliveries: number
    delivered: number
    missing: number
    duplicates: number
    /** Copies of a client's own edit sent back to it. */
    echoes: number
    unparsed: number
  }
  throughput: { editsPerSec: number; deliveredPerSec: number }
  convergence: Convergence
  /** Server CPU, RSS and write figures are summed over instances; lag is the worst instance. */
  server: ServerStats
  loadgen: LoadgenStats
  /** Multi-instance runs only (scale-out). */
  instances?: ScaleOutStats
  /** `--repeat` runs only. */
  repeats?: RepeatStats
  errors: string[]
}

export interface CaseResult {
  name: string
  workload: Workload
  targets: TargetResult[]
}

/** A bar chart of one scenario table column (idle, cold-load, ramp). */
export interface Chart {
  title: string
  bars: Array<{ label: string; value: number }>
}

/** A line chart over time (soak: memory, documents and connections of one target). */
export interface LineChart {
  title: string
  xLabel: string
  lines: Array<{ label: string; points: Array<[number, number]> }>
  /** Vertical markers on the x axis (soak: where each phase starts). */
  marks?: Array<{ x: number; label: string }>
}

export interface BenchResult {
  schemaVersion: number
  scenario: string
  startedAt: string
  finishedAt: string
  command: string
  machine: { cores: number; memoryGb: number; node: string; loadavgStart: string; loadavgEnd: string }
  cases: CaseResult[]
  /** Scenario-specific tables (idle, cold-load, ramp, durable-ack). */
  extra?: Record<string, unknown>
  charts?: Chart[]
  lineCharts?: LineChart[]
  /** A scenario's pass/fail lines (soak's leak gate), printed last. */
  verdicts?: string[]
  /** Runs that failed outside the load cases. */
  failures?: string[]
  /** Plain-language notes (e.g. loadgen-bound runs, failures). */
  notes: string[]
}
