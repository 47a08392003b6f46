/**
 * One workload against one target: start the target, fork the load
 * generators, connect every editor, edit at the given rate, drain, check
 * convergence, and turn what was measured into a TargetResult.
 */
import { nowUs } from '../lib/edits.ts'
import { Histogram, type HistogramData, mergeHistograms } from '../lib/histogram.ts'
import { type ProcSample, cpuShare, sampleProc } from '../lib/proc.ts'
import { progress } from '../lib/progress.ts'
import { type RunningTarget, startTarget } from '../lib/spawn.ts'
import type { TargetSpec } from '../lib/targets.ts'
import type { ClientSpec, WorkerReport } from '../loadgen/messages.ts'
import type { LoadgenStats, ServerStats, TargetResult, Workload } from '../report/schema.ts'
import { checkConvergence } from './convergence.ts'
import { Worker } from './workers.ts'

export interface LoadOptions extends Workload {
  /** Label for progress lines, e.g. "many-docs". */
  caseName: string
  env?: Record<string, string>
  connectConcurrency?: number
  connectTimeoutMs?: number
  /** Longest wait for in-flight updates after sending stops. */
  drainMs?: number
}

/** Editors round-robin over documents; the real clients come in pairs per room so they can be compared. */
export function planClients(w: Workload): { specs: ClientSpec[]; rooms: Record<string, number[]> } {
  const rooms: Record<string, number[]> = {}
  const real = new Set<number>()
  const perRoom = Math.ceil(w.clients / w.docs)
  for (let k = 0; real.size < Math.min(w.realClients, w.clients); k++) {
    const room = Math.floor(k / Math.min(2, perRoom))
    const nth = k % Math.min(2, perRoom)
    const id = room + nth * w.docs
    if (id >= w.clients || room >= w.docs) break
    real.add(id)
  }
  const specs: ClientSpec[] = []
  for (let id = 0; id < w.clients; id++) {
    const room = `doc-${id % w.docs}`
    ;(rooms[room] ??= []).push(id)
    specs.push({ id, room, real: real.has(id) })
  }
  return { specs, rooms }
}

const mb = (bytes: number) => Math.round(bytes / 1048576)
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d

function failed(spec: TargetSpec, w: Workload, error: unknown): TargetResult {
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

export async function runLoad(spec: TargetSpec, w: LoadOptions): Promise<TargetResult> {
  let target: RunningTarget | undefined
  const workers: Worker[] = []
  try {
    target = await startTarget(spec, { env: w.env })
    return await drive(target, workers, w)
  } catch (error) {
    return failed(spec, w, error)
  } finally {
    await Promise.all(workers.map((worker) => worker.close()))
    await target?.stop()
  }
}

async function drive(target: RunningTarget, workers: Worker[], w: LoadOptions): Promise<TargetResult> {
  const tag = `[${w.caseName} ${target.spec.name}]`
  const { specs, rooms } = planClients(w)
  for (let i = 0; i < w.workers; i++) workers.push(new Worker())
  await Promise.all(workers.map((worker) => worker.next('ready', 20_000)))
  const connectTimeoutMs = w.connectTimeoutMs ?? 60_000
  const connected = workers.map((worker, i) => {
    const reply = worker.next('connected', connectTimeoutMs + 120_000)
    worker.send({
      type: 'init',
      target: target.address,
      clients: specs.filter((_, k) => k % workers.length === i),
      rooms,
      kind: w.kind,
      rate: w.rate,
      connectConcurrency: w.connectConcurrency ?? 64,
      connectTimeoutMs,
    })
    return reply
  })
  const connectTicker = setInterval(() => {
    const done = sum(workers.map((x) => x.connecting.done))
    progress(`${tag} connecting ${done}/${specs.length}`)
  }, 500)
  const connects = await Promise.all(connected).finally(() => clearInterval(connectTicker))
  const connectedCount = sum(connects.map((c) => c.connected))
  if (connectedCount === 0) throw new Error(`no client connected; target said:\n${target.output()}`)

  // Edit for warmup + window; measure over the window only.
  const t0 = nowUs() + 300_000
  const windowFrom = t0 + w.warmupSec * 1e6
  const windowTo = t0 + w.durationSec * 1e6
  for (const worker of workers) worker.send({ type: 'start', t0, windowFrom, windowTo })
  const serverSamples: ProcSample[] = []
  let rssPeak = 0
  let winStart: { server?: ProcSample; workers: Array<ProcSample | undefined>; lagIndex: number } | undefined
  const take = () => ({ server: sampleProc(target.pid), workers: workers.map((x) => sampleProc(x.pid)), lagIndex: target.lag.length })
  const startedMs = performance.now()
  while (nowUs() < windowTo) {
    await new Promise((r) => setTimeout(r, Math.min(250, Math.max(1, (windowTo - nowUs()) / 1000))))
    const now = nowUs()
    if (!winStart && now >= windowFrom) winStart = take()
    const s = sampleProc(target.pid)
    if (s) {
      serverSamples.push(s)
      rssPeak = Math.max(rssPeak, s.rss)
    }
    if (target.exited() !== null) throw new Error(`${target.spec.name} exited (${target.exited()}) during the run:\n${target.output()}`)
    const prev = serverSamples[serverSamples.length - 5]
    const cpu = prev && s ? Math.round(cpuShare(prev, s) * 100) : 0
    const p = workers.map((x) => x.progress)
    const delivered = sum(p.map((x) => x?.recentDelivered ?? 0))
    const p99 = Math.max(0, ...p.map((x) => x?.recentP99 ?? 0))
    const lag = target.lag[target.lag.length - 1]
    progress(
      `${tag} ${round((performance.now() - startedMs) / 1000, 0)}/${w.durationSec}s editors ${connectedCount} sent ${sum(p.map((x) => x?.sent ?? 0))}` +
        ` delivered/s ${delivered} p99 ${round(p99)}ms | server cpu ${cpu}% rss ${mb(s?.rss ?? 0)}MB lag ${round(lag?.p99 ?? 0)}ms`,
    )
  }
  const winEnd = take()
  winStart ??= winEnd
  for (const worker of workers) worker.send({ type: 'stop-sending' })

  // Drain: until nothing is missing, or deliveries stop moving.
  const drainDeadline = performance.now() + (w.drainMs ?? 10_000)
  let reports: WorkerReport[] = []
  let lastDelivered = -1
  let still = 0
  for (;;) {
    await new Promise((r) => setTimeout(r, 300))
    reports = await Promise.all(workers.map((x) => x.report(false)))
    const t = tally(reports)
    progress(`${tag} draining: ${t.missing} updates in flight`)
    if (t.missing === 0 || performance.now() > drainDeadline) break
    still = t.delivered === lastDelivered ? still + 1 : 0
    if (still >= 6) break
    lastDelivered = t.delivered
  }
  reports = await Promise.all(workers.map((x) => x.report(true)))
  progress(`${tag} checking convergence`, true)
  const sentBySender = new Map<number, number>(reports.flatMap((r) => r.sentBySender))
  const convergence = await checkConvergence({
    address: target.address,
    stateful: target.spec.stateful,
    rooms,
    sentBySender,
    realStates: reports.flatMap((r) => r.realStates),
  })
  return summarize(target, w, reports, convergence, { winStart, winEnd, rssPeak, serverSamples })
}

function tally(reports: WorkerReport[]) {
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

interface Window {
  winStart: { server?: ProcSample; workers: Array<ProcSample | undefined>; lagIndex: number }
  winEnd: { server?: ProcSample; workers: Array<ProcSample | undefined>; lagIndex: number }
  rssPeak: number
  serverSamples: ProcSample[]
}

function summarize(target: RunningTarget, w: LoadOptions, reports: WorkerReport[], convergence: TargetResult['convergence'], win: Window): TargetResult {
  const merge = (pick: (r: WorkerReport) => HistogramData) => mergeHistograms(reports.map(pick)).summary()
  const c = (key: keyof WorkerReport['counters']) => sum(reports.map((r) => r.counters[key]))
  const windowSec = Math.max(0.001, w.durationSec - w.warmupSec)
  const t = tally(reports)
  const deliveredInWindow = c('deliveredInWindow')
  const { winStart, winEnd } = win
  const serverCpu = winStart.server && winEnd.server ? cpuShare(winStart.server, winEnd.server) : 0
  const serverCpuSeconds = winStart.server && winEnd.server ? winEnd.server.cpuSeconds - winStart.server.cpuSeconds : 0
  const workerCpus = winEnd.workers.map((end, i) => {
    const start = winStart.workers[i]
    return start && end ? cpuShare(start, end) : 0
  })
  const lag = target.lag.slice(winStart.lagIndex, winEnd.lagIndex)
  const server: ServerStats = {
    cpuPercent: round(serverCpu * 100),
    cpuUsPerDelivery: deliveredInWindow > 0 ? round((serverCpuSeconds * 1e6) / deliveredInWindow, 2) : null,
    writesPerEdit:
      winStart.server && winEnd.server && c('sentInWindow') > 0
        ? round((winEnd.server.writeSyscalls - winStart.server.writeSyscalls) / c('sentInWindow'), 2)
        : null,
    rssMbStart: mb(win.serverSamples[0]?.rss ?? 0),
    rssMbPeak: mb(win.rssPeak),
    rssMbEnd: mb(win.serverSamples[win.serverSamples.length - 1]?.rss ?? 0),
    lagMs: lag.length
      ? {
          p50: round(lag.map((l) => l.p50).sort((a, b) => a - b)[Math.floor(lag.length / 2)] ?? 0, 2),
          p99: round(Math.max(...lag.map((l) => l.p99)), 2),
          max: round(Math.max(...lag.map((l) => l.max)), 2),
        }
      : null,
  }
  const cores = navigator.hardwareConcurrency
  const loopLagP99Ms = round(Math.max(0, ...reports.map((r) => r.loopLag.p99)))
  const sendLagP99Ms = mergeHistograms(reports.map((r) => r.sendLag)).summary().p99
  const cpuPercentMax = round(Math.max(0, ...workerCpus) * 100)
  const machineCpuPercent = round(((serverCpu + sum(workerCpus)) / cores) * 100)
  const reasons: string[] = []
  if (cpuPercentMax > 90) reasons.push(`a load-generator worker used ${cpuPercentMax}% of a core`)
  if (loopLagP99Ms > 50) reasons.push(`load-generator event-loop delay p99 ${loopLagP99Ms} ms`)
  if (sendLagP99Ms > 50) reasons.push(`edits left ${sendLagP99Ms} ms behind schedule (p99)`)
  const bound = reasons.length > 0
  if (machineCpuPercent > 95) reasons.push(`machine saturated: server + generator used ${machineCpuPercent}% of ${cores} cores`)
  const loadgen: LoadgenStats = { workers: w.workers, cpuPercentMax, loopLagP99Ms, sendLagP99Ms, machineCpuPercent, bound, reasons }
  const missing = t.missing
  return {
    target: target.spec.name,
    label: target.spec.label,
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
    ackMs: target.address.acks ? merge((r) => r.ack) : null,
    edits: {
      sent: c('sent'),
      expectedDeliveries: t.expected,
      delivered: t.delivered,
      missing,
      duplicates: c('duplicates'),
      echoes: c('echoes'),
      unparsed: c('unparsed'),
    },
    throughput: { editsPerSec: round(c('sent') / w.durationSec), deliveredPerSec: round(deliveredInWindow / windowSec) },
    convergence,
    server,
    loadgen,
    errors: reports.flatMap((r) => r.errors).slice(0, 20),
  }
}
