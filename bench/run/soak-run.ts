/**
 * One target's soak: seed the big document into its storage, start it, churn
 * for the warm-up, stop the churn and wait (polling, with a deadline) until
 * every document has unloaded and every connection closed, then read live
 * heap after a full GC — the baseline; churn for the duration, drain again,
 * read it again. Heap, RSS, documents and connections are sampled every few
 * seconds throughout (every Nth sample after a full GC: live heap).
 */
import type { GeneratedDoc } from '../lib/docgen.ts'
import { counts } from '../lib/counts.ts'
import type { Leftover } from '../lib/leak-gate.ts'
import { cpuShare, sampleProc } from '../lib/proc.ts'
import { progress, say } from '../lib/progress.ts'
import { seedDocument } from '../lib/seed.ts'
import { type MemorySample, type RunningTarget, startTarget } from '../lib/spawn.ts'
import { type TargetSpec, tempDir } from '../lib/targets.ts'
import type { ChurnLane, ChurnTally } from '../loadgen/messages.ts'
import { CHURN_WORKER, Worker } from './workers.ts'

export const BIG_DOC = 'soak-big'

export interface SoakOptions {
  /** Clients connected at once (lanes), big-document ones included. */
  clients: number
  /** How many of them churn on the big document. */
  bigClients: number
  /** Small documents the others spread over. */
  docs: number
  /** Edits per second per connected client. */
  rate: number
  warmupSec: number
  durationSec: number
  big: GeneratedDoc
  /** Sampling period. @default 5 */
  sampleSec?: number
  /** Every this many samples, a full GC first (live heap). @default 12 */
  gcEvery?: number
  /** Longest wait for documents to unload and connections to close after the churn stops. @default 90000 */
  drainTimeoutMs?: number
}

export interface SoakSample {
  /** Seconds since the target started. */
  t: number
  heapMb: number
  /** Set on samples taken after a full GC. */
  liveHeapMb?: number
  rssMb: number
  documents: number | null
  connections: number | null
  /** Clients the load generator held open. */
  clients: number
  /** Longest event-loop delay the probe saw since the previous sample, ms. */
  lagMaxMs: number
}

export interface SoakPhase {
  name: 'warm-up' | 'soak'
  /** Seconds since the target started, when the churn began and when it stopped. */
  from: number
  to: number
  tally: ChurnTally
  /** How long the drain took, s. */
  drainSec: number
  /** What was still there when the drain ended. */
  left: Leftover
  /** After the drain, full GC. */
  memory: MemorySample
  /** Server CPU over the churn, % of one core. */
  cpuPercent: number
  /** Longest event-loop delay during the churn, ms, and the seconds in which it exceeded 1 s (the probe reports once a second). */
  lagMaxMs: number
  stallsOver1s: number
}

export interface SoakRun {
  target: string
  phases: SoakPhase[]
  samples: SoakSample[]
}

const mb = (bytes: number) => Math.round(bytes / 104857.6) / 10

function lanes(o: SoakOptions): ChurnLane[] {
  const small = Array.from({ length: o.docs }, (_, k) => `soak-small-${k}`)
  return Array.from({ length: o.clients }, (_, k): ChurnLane =>
    k < o.bigClients ? { documents: [BIG_DOC], holdMs: [5_000, 15_000], big: true } : { documents: small, holdMs: [1_000, 5_000] },
  )
}

/** Poll until nothing is loaded or open, or the deadline passes. */
async function drain(target: RunningTarget, timeoutMs: number): Promise<{ left: Leftover; seconds: number }> {
  const t0 = performance.now()
  for (;;) {
    const left = await counts(target)
    const seconds = Math.round((performance.now() - t0) / 100) / 10
    if ((!left.documents && !left.connections) || performance.now() - t0 > timeoutMs) return { left, seconds }
    await new Promise((r) => setTimeout(r, 250)) // polling period, not a wait for an outcome
  }
}

export async function runSoak(spec: TargetSpec, o: SoakOptions): Promise<SoakRun> {
  const dir = tempDir(`soak-${spec.name}`)
  const env = await seedDocument(spec, dir, BIG_DOC, o.big.update)
  const target = await startTarget(spec, { dir, env })
  const started = performance.now()
  const now = () => Math.round((performance.now() - started) / 100) / 10
  const worker = new Worker(CHURN_WORKER)
  let open = 0
  worker.child.on('message', (m: { type?: string; tally?: ChurnTally }) => {
    if ((m.type === 'churn-progress' || m.type === 'churn-stopped') && m.tally) open = m.tally.open
  })
  const samples: SoakSample[] = []
  const phases: SoakPhase[] = []
  let phase = 'start'
  let count = 0
  let sampling = Promise.resolve()
  let lagSeen = 0
  const lagMax = () => {
    const fresh = target.lag.slice(lagSeen)
    lagSeen = target.lag.length
    return Math.round(Math.max(0, ...fresh.map((l) => l.max)))
  }
  const sample = async () => {
    const gc = ++count % (o.gcEvery ?? 12) === 0
    const m = gc ? await target.memory() : await target.sample()
    const c = await counts(target, m)
    samples.push({ t: now(), heapMb: mb(m.heapUsed), ...(gc ? { liveHeapMb: mb(m.heapUsed) } : {}), rssMb: mb(m.rss), documents: c.documents, connections: c.connections, clients: open, lagMaxMs: lagMax() })
    progress(`[soak ${spec.name}] ${phase} ${now()} s: ${open} clients, heap ${mb(m.heapUsed)} MB, RSS ${mb(m.rss)} MB, ${c.documents ?? '?'} documents, ${c.connections ?? '?'} connections`, true)
  }
  const timer = setInterval(() => {
    sampling = sampling.then(sample).catch((error: unknown) => say(`[soak ${spec.name}] sample failed: ${String(error)}`))
  }, (o.sampleSec ?? 5) * 1000)
  try {
    await worker.next('ready', 20_000)
    await sample()
    for (const [name, seconds] of [['warm-up', o.warmupSec], ['soak', o.durationSec]] as const) {
      phase = name
      const from = now()
      const lag0 = target.lag.length
      const cpu0 = sampleProc(target.pid)
      worker.send({ type: 'churn', target: target.address, lanes: lanes(o), rate: o.rate, abandonShare: 0.05, abruptShare: 0.3, syncTimeoutMs: 30_000 })
      // The phase's length, in steps, so a target that dies ends the run at once.
      for (const end = performance.now() + seconds * 1000; performance.now() < end; ) {
        if (target.exited() !== null) throw new Error(`${spec.name} exited (${target.exited()}) during the ${name}:\n${target.output()}`)
        await new Promise((r) => setTimeout(r, Math.min(1000, end - performance.now())))
      }
      const cpu1 = sampleProc(target.pid)
      const lags = target.lag.slice(lag0).map((l) => l.max)
      const stopped = worker.next('churn-stopped', 60_000)
      worker.send({ type: 'churn-stop' })
      const { tally } = await stopped
      const to = now()
      phase = `${name} drain`
      const { left, seconds: drainSec } = await drain(target, o.drainTimeoutMs ?? 90_000)
      await sampling
      const memory = await target.memory()
      samples.push({ t: now(), heapMb: mb(memory.heapUsed), liveHeapMb: mb(memory.heapUsed), rssMb: mb(memory.rss), documents: left.documents, connections: left.connections, clients: 0, lagMaxMs: lagMax() })
      phases.push({
        name, from, to, tally, drainSec, left, memory,
        cpuPercent: cpu0 && cpu1 ? Math.round(cpuShare(cpu0, cpu1) * 100) : NaN,
        lagMaxMs: Math.round(Math.max(0, ...lags)),
        stallsOver1s: lags.filter((ms) => ms > 1000).length,
      })
      say(`[soak ${spec.name}] ${name}: ${tally.sessions} sessions (${tally.failed} failed), drained in ${drainSec} s; live heap ${mb(memory.heapUsed)} MB, RSS ${mb(memory.rss)} MB`)
    }
    return { target: spec.name, phases, samples }
  } finally {
    clearInterval(timer)
    await sampling
    await worker.close()
    await target.stop()
  }
}
