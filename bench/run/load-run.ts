/**
 * One workload against one target: start the target (or, for scale-out,
 * several instances of it), fork the load generators, connect every editor,
 * edit at the given rate, drain, check convergence, and hand what was
 * measured to summarize.ts.
 */
import { nowUs } from '../lib/edits.ts'
import { cpuShare, sampleProc } from '../lib/proc.ts'
import { progress } from '../lib/progress.ts'
import type { TargetSpec } from '../lib/targets.ts'
import type { ClientSpec, WorkerReport } from '../loadgen/messages.ts'
import type { TargetResult, Workload } from '../report/schema.ts'
import { checkConvergence } from './convergence.ts'
import { type Deployment, singleTarget } from './deployment.ts'
import { type Snapshot, type Window, failed, mb, round, sum, summarize, tally } from './summarize.ts'
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

/**
 * Editors round-robin over documents; the real clients come in pairs per room
 * so they can be compared. With `w.instances` set, the editors of each room
 * go round-robin over the instances too (a room's k-th editor on instance
 * k mod N), so every room has peers on every instance and each real pair
 * straddles two instances.
 */
export function planClients(w: Workload): { specs: ClientSpec[]; rooms: Record<string, number[]>; instanceOf?: number[] } {
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
  const instances = w.instances
  for (let id = 0; id < w.clients; id++) {
    const room = `doc-${id % w.docs}`
    ;(rooms[room] ??= []).push(id)
    const spec: ClientSpec = { id, room, real: real.has(id) }
    if (instances !== undefined) spec.instance = Math.floor(id / w.docs) % instances
    specs.push(spec)
  }
  if (instances === undefined) return { specs, rooms }
  return { specs, rooms, instanceOf: specs.map((s) => s.instance ?? 0) }
}

/** The default path: one target process. */
export function runLoad(spec: TargetSpec, w: LoadOptions): Promise<TargetResult> {
  return runDeployment(spec, w, () => singleTarget(spec, w.env))
}

/** Start what `start` starts, drive the workload against it, and stop it (and the workers) whatever happens. */
export async function runDeployment(spec: TargetSpec, w: LoadOptions, start: () => Promise<Deployment>): Promise<TargetResult> {
  let deployment: Deployment | undefined
  const workers: Worker[] = []
  try {
    deployment = await start()
    return await drive(deployment, workers, w)
  } catch (error) {
    return failed(spec, w, error)
  } finally {
    await Promise.all(workers.map((worker) => worker.close()))
    await deployment?.stop()
  }
}

async function drive(d: Deployment, workers: Worker[], w: LoadOptions): Promise<TargetResult> {
  const tag = `[${w.caseName} ${d.spec.name}${w.instances !== undefined ? ` ×${d.instances.length}` : ''}]`
  const first = d.instances[0]
  if (!first) throw new Error('no instance to drive')
  const output = () => d.instances.map((t, i) => `--- instance ${i} (pid ${t.pid}):\n${t.output()}`).join('\n')
  const { specs, rooms, instanceOf } = planClients(w)
  for (let i = 0; i < w.workers; i++) workers.push(new Worker())
  await Promise.all(workers.map((worker) => worker.next('ready', 20_000)))
  const connectTimeoutMs = w.connectTimeoutMs ?? 60_000
  const connected = workers.map((worker, i) => {
    const reply = worker.next('connected', connectTimeoutMs + 120_000)
    worker.send({
      type: 'init',
      target: first.address,
      ...(instanceOf ? { instances: d.instances.map((t) => t.address), instanceOf } : {}),
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
  if (connectedCount === 0) throw new Error(`no client connected; target said:\n${output()}`)

  // Edit for warmup + window; measure over the window only.
  const t0 = nowUs() + 300_000
  const windowFrom = t0 + w.warmupSec * 1e6
  const windowTo = t0 + w.durationSec * 1e6
  for (const worker of workers) worker.send({ type: 'start', t0, windowFrom, windowTo })
  const ticks: Window['ticks'] = []
  const rssPeak = d.instances.map(() => 0)
  let winStart: Snapshot | undefined
  const take = (): Snapshot => ({
    servers: d.instances.map((t) => sampleProc(t.pid)),
    workers: workers.map((x) => sampleProc(x.pid)),
    services: d.services.map((s) => s.sample()),
    lagIndex: d.instances.map((t) => t.lag.length),
  })
  const startedMs = performance.now()
  while (nowUs() < windowTo) {
    await new Promise((r) => setTimeout(r, Math.min(250, Math.max(1, (windowTo - nowUs()) / 1000))))
    const now = nowUs()
    if (!winStart && now >= windowFrom) winStart = take()
    const tick = d.instances.map((t) => sampleProc(t.pid))
    ticks.push(tick)
    tick.forEach((s, i) => (rssPeak[i] = Math.max(rssPeak[i] ?? 0, s?.rss ?? 0)))
    for (const t of d.instances) {
      if (t.exited() !== null) throw new Error(`${t.spec.name} (pid ${t.pid}) exited (${t.exited()}) during the run:\n${t.output()}`)
    }
    const prev = ticks[ticks.length - 5]
    const cpu = prev ? Math.round(sum(tick.map((s, i) => (s && prev[i] ? cpuShare(prev[i], s) : 0))) * 100) : 0
    const p = workers.map((x) => x.progress)
    const delivered = sum(p.map((x) => x?.recentDelivered ?? 0))
    const p99 = Math.max(0, ...p.map((x) => x?.recentP99 ?? 0))
    const lag = Math.max(0, ...d.instances.map((t) => t.lag[t.lag.length - 1]?.p99 ?? 0))
    progress(
      `${tag} ${round((performance.now() - startedMs) / 1000, 0)}/${w.durationSec}s editors ${connectedCount} sent ${sum(p.map((x) => x?.sent ?? 0))}` +
        ` delivered/s ${delivered} p99 ${round(p99)}ms | server cpu ${cpu}% rss ${mb(sum(tick.map((s) => s?.rss ?? 0)))}MB lag ${round(lag)}ms`,
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
  progress(`${tag} checking convergence${d.instances.length > 1 ? ` through each of ${d.instances.length} instances` : ''}`, true)
  const sentBySender = new Map<number, number>(reports.flatMap((r) => r.sentBySender))
  const convergence = await checkConvergence({
    addresses: d.instances.map((t) => t.address),
    stateful: d.spec.stateful,
    rooms,
    sentBySender,
    realStates: reports.flatMap((r) => r.realStates),
  })
  return summarize(d, w, specs, reports, convergence, { winStart, winEnd, rssPeak, ticks })
}
