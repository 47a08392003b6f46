/**
 * restart-storm: every client back after a graceful restart.
 *
 * Per target: many documents seeded into its own storage (mostly ~50 KB, a
 * few of 1–5 MB), clients spread over them, each holding its document's state
 * vector and synced once. Then the server is stopped gracefully (SIGTERM) and
 * started again on the same port and data; the clients reconnect as the stock
 * provider does (bench/loadgen/storm.ts) and send their state vector.
 * Reported: downtime (SIGTERM → accepting connections again), time from
 * accepting connections until 50 %, 99 % and 100 % are synced, each client's
 * time from the attempt that succeeded to synced, failed attempts, the
 * restarted server's peak CPU and RSS, and every document unchanged (state
 * vectors).
 */
import { benchDocument, smallDocument } from '../lib/docgen.ts'
import { nowUs } from '../lib/edits.ts'
import { progress, say } from '../lib/progress.ts'
import { seedDocuments } from '../lib/seed.ts'
import { type RunningTarget, startTarget } from '../lib/spawn.ts'
import { type TargetSpec, tempDir } from '../lib/targets.ts'
import type { StormClientSpec } from '../loadgen/storm-messages.ts'
import { Peaks, StormWorker, ms, problems, quantile, waitSynced } from '../run/storm-run.ts'
import type { Overrides, Scenario, ScenarioOutput } from './types.ts'

const SMALL_KB = 50

export interface StormRow {
  target: string
  clients: number
  docs: number
  downtimeMs: number
  readyToP50Ms: number
  readyToP99Ms: number
  readyTo100Ms: number
  attemptToSyncedP50Ms: number
  attemptToSyncedP99Ms: number
  /** Clients not synced again within the time limit. */
  notSynced: number
  /** Attempts that did not sync (refused while down, closed before the answer). */
  failedAttempts: number
  serverCpuPeakPercent: number
  serverRssPeakMb: number
  unchanged: boolean
  error?: string
}

async function measure(spec: TargetSpec, clients: number, docs: number, sizes: number[]): Promise<StormRow> {
  const small = smallDocument(SMALL_KB)
  const contents = Array.from({ length: docs }, (_, i) => (i < sizes.length ? benchDocument(sizes[i]!) : small))
  const names = contents.map((_, i) => `storm-${i}`)
  const dir = tempDir(`storm-${spec.name}`)
  const env = await seedDocuments(spec, dir, names.map((n, i) => [n, contents[i]!.update]))
  const specs: StormClientSpec[] = Array.from({ length: clients }, (_, id) => {
    const sv = contents[id % docs]!.stateVector
    return { id, document: names[id % docs]!, held: sv, expected: sv, check: true }
  })
  const ids = new Set(specs.map((s) => s.id))
  const worker = new StormWorker()
  const peaks = new Peaks()
  let target: RunningTarget | undefined
  const tag = `[restart-storm ${spec.name}]`
  try {
    target = await startTarget(spec, { dir, env, keepDir: true })
    await worker.init(target.address, specs)
    worker.connect([...ids], Math.max(1000, (clients / 400) * 1000))
    const first = await waitSynced(worker, ids, 180_000, (n) => progress(`${tag} first sync ${n}/${clients}`))
    const firstBad = problems(first.sessions)
    if (firstBad.length) throw new Error(`before the restart: ${firstBad.join('; ')}`)
    progress(`${tag} restarting`, true)

    const stopUs = nowUs()
    await target.stop()
    target = await startTarget(spec, { dir, env, port: target.port })
    const readyUs = nowUs()
    peaks.watch(target.pid)
    // Every client is on its second session once the server dropped it; wait until each of those synced.
    const report = await waitSynced(worker, ids, 180_000, (n) => progress(`${tag} back ${n}/${clients}`), 2)
    peaks.stop()
    const again = report.sessions.filter((s) => s.sessions >= 2)
    const synced = again.filter((s) => s.syncedUs !== null)
    const fromReady = synced.map((s) => s.syncedUs! - readyUs)
    const attempt = synced.map((s) => s.syncedUs! - s.attemptUs!)
    const bad = problems(report.sessions)
    return {
      target: spec.name,
      clients,
      docs,
      downtimeMs: ms(readyUs - stopUs),
      readyToP50Ms: ms(quantile(fromReady, 0.5)),
      readyToP99Ms: ms(quantile(fromReady, 0.99)),
      readyTo100Ms: synced.length === clients ? ms(Math.max(...fromReady)) : NaN,
      attemptToSyncedP50Ms: ms(quantile(attempt, 0.5)),
      attemptToSyncedP99Ms: ms(quantile(attempt, 0.99)),
      notSynced: clients - synced.length,
      failedAttempts: again.reduce((n, s) => n + s.failedAttempts, 0),
      serverCpuPeakPercent: peaks.cpuPercent,
      serverRssPeakMb: Math.round(peaks.rssBytes / 1048576),
      unchanged: synced.length === clients && again.every((s) => s.converged === true),
      ...(bad.length ? { error: bad.join('; ') } : {}),
    }
  } finally {
    peaks.stop()
    await worker.close()
    await target?.stop()
  }
}

export const restartStorm: Scenario = {
  name: 'restart-storm',
  description: '4,000 clients on 400 stored documents (~50 KB, a few 1–5 MB): graceful restart, provider-like reconnects; time until all are synced again',
  defaultTargets: ['collab', 'hocuspocus-sqlite'],
  async run(targets: TargetSpec[], o: Overrides): Promise<ScenarioOutput> {
    const clients = o.clients ?? 4000
    const docs = o.docs ?? 400
    const sizes = (o.sizes ?? [1, 2, 5]).slice(0, docs)
    const rows: StormRow[] = []
    const failures: string[] = []
    const notes = [
      `Documents: ${docs} (${sizes.length ? `${sizes.join(', ')} MB, then ` : ''}~${SMALL_KB} KB each), ${clients} light clients round-robin over them, each holding its document's state vector.`,
      'Reconnects as the stock provider: first attempt at once, then full-jitter exponential backoff 1 s → 30 s. Synced = the last byte of the SyncStep2 answer; unchanged = the server\'s state vector and what each client held plus received equal the stored state vectors.',
      'downtime = SIGTERM → the restarted server accepts TCP connections; readyTo* = from then until that share of clients is synced; attemptToSynced = from the start of the attempt that succeeded to synced.',
    ]
    for (const spec of targets) {
      let row: StormRow
      try {
        row = await measure(spec, clients, docs, sizes)
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        row = { target: spec.name, clients, docs, downtimeMs: NaN, readyToP50Ms: NaN, readyToP99Ms: NaN, readyTo100Ms: NaN, attemptToSyncedP50Ms: NaN, attemptToSyncedP99Ms: NaN, notSynced: clients, failedAttempts: 0, serverCpuPeakPercent: 0, serverRssPeakMb: 0, unchanged: false, error: message }
      }
      rows.push(row)
      if (row.error || !row.unchanged) {
        failures.push(`restart-storm/${spec.name}`)
        notes.push(`restart-storm/${spec.name}: ${row.error ?? 'not every document unchanged'}`)
      }
      say(`restart-storm ${spec.name}: downtime ${row.downtimeMs} ms; synced 50/99/100 % at ${row.readyToP50Ms}/${row.readyToP99Ms}/${row.readyTo100Ms} ms; attempt→synced p50 ${row.attemptToSyncedP50Ms} p99 ${row.attemptToSyncedP99Ms} ms; unchanged ${row.unchanged ? 'yes' : 'NO'}`)
    }
    const ok = rows.filter((r) => !r.error)
    return {
      cases: [],
      extra: { 'restart-storm': rows },
      notes,
      failures,
      charts: [
        { title: 'accepting connections → 100 % synced, ms', bars: ok.map((r) => ({ label: r.target, value: r.readyTo100Ms })) },
        { title: 'attempt that succeeded → synced, p99 ms', bars: ok.map((r) => ({ label: r.target, value: r.attemptToSyncedP99Ms })) },
      ],
    }
  },
}

