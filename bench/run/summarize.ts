/**
 * Turn what one load run measured — the workers' reports, /proc samples of
 * every instance, service and worker at the window's edges, the probes' lag —
 * into a TargetResult. Server figures are summed over instances.
 */
import { Histogram, type HistogramData, mergeHistograms } from '../lib/histogram.ts'
import { type ProcSample, cpuShare } from '../lib/proc.ts'
import type { LagSample } from '../lib/spawn.ts'
import type { TargetSpec } from '../lib/targets.ts'
import type { ClientSpec, WorkerReport } from '../loadgen/messages.ts'
import type { InstanceStats, LoadgenStats, ScaleOutStats, ServerStats, ServiceStats, TargetResult, Workload } from '../report/schema.ts'
import type { Deployment } from './deployment.ts'

export const mb = (bytes: number) => Math.round(bytes / 1048576)
export const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)
export const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d

/** /proc samples of everything at one moment. */
export interface Snapshot {
  servers: Array<ProcSample | undefined>
  workers: Array<ProcSample | undefined>
  services: Array<ProcSample | undefined>
  /** Per instance: how many lag reports it had sent. */
  lagIndex: number[]
}

export interface Window {
  winStart: Snapshot
  winEnd: Snapshot
  /** Per instance: the highest RSS seen. */
  rssPeak: number[]
  /** Per tick: every instance's sample (RSS at start/end, total peak). */
  ticks: Array<Array<ProcSample | undefined>>
}

export function failed(spec: TargetSpec, w: Workload, error: unknown): TargetResult {
  const empty = new Histogram().summary()
  return {
    target: spec.name,
    label: spec.label,
    ok: false,
    error: error instanceof Error ? error.message : String(error),
    connections: { requested: w.clients, connected: 0, failed: w.clients, closedEarly: 0 },
    connectMs: empty,
    latencyMs: empty,
    realLatencyMs: empty,
    ackMs: null,
    edits: { sent: 0, expectedDeliveries: 0, delivered: 0, missing: 0, duplicates: 0, echoes: 0, unparsed: 0 },
    throughput: { editsPerSec: 0, deliveredPerSec: 0 },
    convergence: { ok: false, roomsChecked: 0, realClientsChecked: 0, problems: ['run failed'] },
    server: { cpuPercent: 0, cpuUsPerDelivery: null, writesPerEdit: null, rssMbStart: 0, rssMbPeak: 0, rssMbEnd: 0, lagMs: null },
    loadgen: { workers: w.workers, cpuPercentMax: 0, loopLagP99Ms: 0, sendLagP99Ms: 0, machineCpuPercent: 0, bound: false, reasons: [] },
    errors: [],
  }
}

export function tally(reports: WorkerReport[]) {
  const rooms = new Map<string, { sent: number; received: number; connected: number }>()
  for (const r of reports) {
    for (const room of r.rooms) {
      const t = rooms.get(room.name) ?? { sent: 0, received: 0, connected: 0 }
      t.sent += room.sent
      t.received += room.received
      t.connected += room.connected
      rooms.set(room.name, t)
    }
  }
  let expected = 0
  let delivered = 0
  for (const t of rooms.values()) {
    expected += t.sent * Math.max(0, t.connected - 1)
    delivered += t.received
  }
  return { expected, delivered, missing: Math.max(0, expected - delivered) }
}

const share = (a: ProcSample | undefined, b: ProcSample | undefined) => (a && b ? cpuShare(a, b) : 0)
const delta = (a: ProcSample | undefined, b: ProcSample | undefined, pick: (s: ProcSample) => number) => (a && b ? pick(b) - pick(a) : 0)

function lagOf(samples: LagSample[]): ServerStats['lagMs'] {
  if (!samples.length) return null
  return {
    p50: round(samples.map((l) => l.p50).sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? 0, 2),
    p99: round(Math.max(...samples.map((l) => l.p99)), 2),
    max: round(Math.max(...samples.map((l) => l.max)), 2),
  }
}

function rssSum(tick: Array<ProcSample | undefined> | undefined): number {
  return sum((tick ?? []).map((s) => s?.rss ?? 0))
}

/** Multi-instance extras: latency split, each instance, each service. */
function scaleOutStats(d: Deployment, reports: WorkerReport[], specs: ClientSpec[], win: Window): ScaleOutStats {
  const { winStart, winEnd } = win
  const perInstance: InstanceStats[] = d.instances.map((t, i) => ({
    pid: t.pid,
    clients: specs.filter((s) => s.instance === i).length,
    cpuPercent: round(share(winStart.servers[i], winEnd.servers[i]) * 100),
    rssMbPeak: mb(win.rssPeak[i] ?? 0),
    lagP99Ms: lagOf(t.lag.slice(winStart.lagIndex[i], winEnd.lagIndex[i]))?.p99 ?? null,
  }))
  const services: ServiceStats[] = d.services.map((s, i) => ({
    name: s.name,
    cpuPercent: round(share(winStart.services[i], winEnd.services[i]) * 100),
    rssMbPeak: s.rss ? mb(Math.max(winStart.services[i]?.rss ?? 0, winEnd.services[i]?.rss ?? 0)) : null,
  }))
  return {
    count: d.instances.length,
    sameInstanceMs: mergeHistograms(reports.map((r) => r.latencySameInstance)).summary(),
    crossInstanceMs: mergeHistograms(reports.map((r) => r.latencyCrossInstance)).summary(),
    perInstance,
    services,
  }
}

export function summarize(
  d: Deployment,
  w: Workload,
  specs: ClientSpec[],
  reports: WorkerReport[],
  convergence: TargetResult['convergence'],
  win: Window,
): TargetResult {
  const merge = (pick: (r: WorkerReport) => HistogramData) => mergeHistograms(reports.map(pick)).summary()
  const c = (key: keyof WorkerReport['counters']) => sum(reports.map((r) => r.counters[key]))
  const windowSec = Math.max(0.001, w.durationSec - w.warmupSec)
  const t = tally(reports)
  const deliveredInWindow = c('deliveredInWindow')
  const { winStart, winEnd } = win
  const perServer = d.instances.map((_, i) => [winStart.servers[i], winEnd.servers[i]] as const)
  const serverCpu = sum(perServer.map(([a, b]) => share(a, b)))
  const serverCpuSeconds = sum(perServer.map(([a, b]) => delta(a, b, (s) => s.cpuSeconds)))
  const measured = perServer.every(([a, b]) => a && b)
  const writes = sum(perServer.map(([a, b]) => delta(a, b, (s) => s.writeSyscalls)))
  const servicesCpu = sum(d.services.map((_, i) => share(winStart.services[i], winEnd.services[i])))
  const workerCpus = winEnd.workers.map((end, i) => share(winStart.workers[i], end))
  const server: ServerStats = {
    cpuPercent: round(serverCpu * 100),
    cpuUsPerDelivery: deliveredInWindow > 0 ? round((serverCpuSeconds * 1e6) / deliveredInWindow, 2) : null,
    writesPerEdit: measured && c('sentInWindow') > 0 ? round(writes / c('sentInWindow'), 2) : null,
    rssMbStart: mb(rssSum(win.ticks[0])),
    rssMbPeak: mb(Math.max(0, ...win.ticks.map(rssSum))),
    rssMbEnd: mb(rssSum(win.ticks[win.ticks.length - 1])),
    lagMs: lagOf(d.instances.flatMap((x, i) => x.lag.slice(winStart.lagIndex[i], winEnd.lagIndex[i]))),
  }
  const cores = navigator.hardwareConcurrency
  const loopLagP99Ms = round(Math.max(0, ...reports.map((r) => r.loopLag.p99)))
  const sendLagP99Ms = mergeHistograms(reports.map((r) => r.sendLag)).summary().p99
  const cpuPercentMax = round(Math.max(0, ...workerCpus) * 100)
  const machineCpuPercent = round(((serverCpu + servicesCpu + sum(workerCpus)) / cores) * 100)
  const reasons: string[] = []
  if (cpuPercentMax > 90) reasons.push(`a load-generator worker used ${cpuPercentMax}% of a core`)
  if (loopLagP99Ms > 50) reasons.push(`load-generator event-loop delay p99 ${loopLagP99Ms} ms`)
  if (sendLagP99Ms > 50) reasons.push(`edits left ${sendLagP99Ms} ms behind schedule (p99)`)
  const bound = reasons.length > 0
  if (machineCpuPercent > 95) {
    reasons.push(`machine saturated: server${d.services.length ? 's, services' : ''} + generator used ${machineCpuPercent}% of ${cores} cores`)
  }
  const loadgen: LoadgenStats = { workers: w.workers, cpuPercentMax, loopLagP99Ms, sendLagP99Ms, machineCpuPercent, bound, reasons }
  const first = d.instances[0]
  return {
    target: d.spec.name,
    label: d.spec.label,
    ok: true,
    connections: {
      requested: w.clients,
      connected: w.clients - c('connectFailures'),
      failed: c('connectFailures'),
      closedEarly: c('closedEarly'),
    },
    connectMs: merge((r) => r.connect),
    latencyMs: merge((r) => r.latency),
    realLatencyMs: merge((r) => r.latencyReal),
    ackMs: first?.address.acks ? merge((r) => r.ack) : null,
    edits: {
      sent: c('sent'),
      expectedDeliveries: t.expected,
      delivered: t.delivered,
      missing: t.missing,
      duplicates: c('duplicates'),
      echoes: c('echoes'),
      unparsed: c('unparsed'),
    },
    throughput: { editsPerSec: round(c('sent') / w.durationSec), deliveredPerSec: round(deliveredInWindow / windowSec) },
    convergence,
    server,
    loadgen,
    ...(w.instances !== undefined ? { instances: scaleOutStats(d, reports, specs, win) } : {}),
    errors: reports.flatMap((r) => r.errors).slice(0, 20),
  }
}
