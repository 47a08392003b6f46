/**
 * soak: connection churn for a long while, then is the memory back?
 *
 * Per target (one at a time): clients keep connecting, syncing, announcing
 * themselves, editing and leaving — some on one 1 MB document, the others
 * over many small ones — first for a warm-up, then for the duration (run/soak-run.ts).
 * After each, the churn stops, the bench waits for every document to unload
 * and every connection to close, and reads live heap after a full GC. On this
 * server's targets the run fails if the second reading is more than 10 % (or
 * 5 MB) above the first, or anything was left loaded or open
 * (lib/leak-gate.ts). RSS is charted, not gated.
 */
import { benchDocument } from '../lib/docgen.ts'
import { leakVerdict } from '../lib/leak-gate.ts'
import { say } from '../lib/progress.ts'
import type { TargetSpec } from '../lib/targets.ts'
import type { LineChart } from '../report/schema.ts'
import { type SoakOptions, type SoakRun, runSoak } from '../run/soak-run.ts'
import type { Overrides, Scenario, ScenarioOutput } from './types.ts'

const mb = (bytes: number) => Math.round(bytes / 104857.6) / 10
/** The targets that are this server: the gate applies to them only. */
const gated = (spec: TargetSpec) => spec.name.startsWith('collab')

function charts(run: SoakRun): LineChart[] {
  const marks = run.phases.flatMap((p) => [
    { x: p.from, label: p.name },
    { x: p.to, label: 'drain' },
  ])
  const live = run.samples.filter((s) => s.liveHeapMb !== undefined)
  return [
    {
      title: `${run.target}: memory, MB`,
      xLabel: 's',
      marks,
      lines: [
        { label: 'heap used', points: run.samples.map((s) => [s.t, s.heapMb]) },
        { label: 'live heap (after GC)', points: live.map((s) => [s.t, s.liveHeapMb ?? NaN]) },
        { label: 'RSS', points: run.samples.map((s) => [s.t, s.rssMb]) },
      ],
    },
    {
      title: `${run.target}: documents loaded, connections, clients`,
      xLabel: 's',
      marks,
      lines: [
        { label: 'documents loaded', points: run.samples.map((s) => [s.t, s.documents ?? NaN]) },
        { label: 'connections', points: run.samples.map((s) => [s.t, s.connections ?? NaN]) },
        { label: 'clients (generator)', points: run.samples.map((s) => [s.t, s.clients]) },
      ],
    },
  ]
}

export const soak: Scenario = {
  name: 'soak',
  description: 'connection churn (default 10 min per target after a 60 s warm-up) on a 1 MB document and 200 small ones; fails if this server\'s live heap is not back after the churn',
  defaultTargets: ['collab', 'hocuspocus'],
  async run(targets: TargetSpec[], o: Overrides): Promise<ScenarioOutput> {
    const clients = o.clients ?? 70
    const bigMb = o.sizes?.[0] ?? 1
    say(`[soak] preparing a ${bigMb} MB document`)
    const options: SoakOptions = {
      clients,
      bigClients: Math.max(1, Math.round(clients / 7)),
      docs: o.docs ?? 200,
      rate: o.rate ?? 1,
      warmupSec: o.warmup ?? 60,
      durationSec: o.duration ?? 600,
      big: benchDocument(bigMb),
    }
    const rows: Array<Record<string, unknown>> = []
    const lineCharts: LineChart[] = []
    const verdicts: string[] = []
    const failures: string[] = []
    const notes = [
      `${options.clients} clients at a time: ${options.bigClients} on one ${bigMb} MB document (each stays 5–15 s), the others on ${options.docs} small documents (1–5 s); ` +
        `each syncs, sets an awareness state, edits ${options.rate}/s, and leaves — 30 % by cutting the socket, the rest with an awareness removal and a close frame; ` +
        `5 % of sessions leave right after asking to sync. Warm-up ${options.warmupSec} s, then ${options.durationSec} s.`,
      'Live heap = heapUsed after a full GC, read once the churn stopped and the target reported 0 documents loaded and 0 connections (this server: /metrics; Hocuspocus: getDocumentsCount() and open TCP sockets through the probe). ' +
        'Gate (this server only): after the soak at most max(10 %, 5 MB) above after the warm-up, and nothing left loaded or open. RSS is charted, not gated.',
    ]
    for (const spec of targets) {
      try {
        const run = await runSoak(spec, options)
        const [warm, main] = run.phases as [SoakRun['phases'][0], SoakRun['phases'][0]]
        const verdict = leakVerdict({ baselineHeap: warm.memory.heapUsed, finalHeap: main.memory.heapUsed, afterWarmup: warm.left, afterSoak: main.left })
        const isGated = gated(spec)
        const word = !isGated ? (verdict.pass ? 'would pass (not gated)' : 'would fail (not gated)') : verdict.pass ? 'PASS' : 'FAIL'
        const heapSeries = run.samples.map((s) => s.heapMb)
        const rssSeries = run.samples.map((s) => s.rssMb)
        rows.push({
          target: spec.name,
          sessions: main.tally.sessions,
          failed: main.tally.failed,
          closedByServer: main.tally.closedByServer,
          bigDocSyncs: main.tally.bigSyncs,
          edits: main.tally.edits,
          serverCpuPercent: main.cpuPercent,
          loopLagMaxMs: main.lagMaxMs,
          stallsOver1s: main.stallsOver1s,
          liveHeapMbAfterWarmup: mb(warm.memory.heapUsed),
          liveHeapMbAfterSoak: mb(main.memory.heapUsed),
          growthMb: mb(verdict.growthBytes),
          limitMb: mb(verdict.limitBytes),
          heapMbPeak: Math.max(...heapSeries),
          rssMbAfterWarmup: mb(warm.memory.rss),
          rssMbPeak: Math.max(...rssSeries),
          rssMbAfterSoak: mb(main.memory.rss),
          documentsLeft: main.left.documents ?? 'n/a',
          connectionsLeft: main.left.connections ?? 'n/a',
          drainSec: main.drainSec,
          verdict: word,
        })
        lineCharts.push(...charts(run))
        const growth = `${verdict.growthBytes >= 0 ? '+' : ''}${mb(verdict.growthBytes)} MB`
        verdicts.push(
          `soak ${spec.name}: ${word} — live heap ${mb(warm.memory.heapUsed)} MB after the warm-up, ${mb(main.memory.heapUsed)} MB after ${options.durationSec} s of churn (${growth}, limit +${mb(verdict.limitBytes)} MB); ` +
            `${main.left.documents ?? 'n/a'} documents and ${main.left.connections ?? 'n/a'} connections left` +
            (verdict.reasons.length ? ` — ${verdict.reasons.join('; ')}` : ''),
        )
        if (isGated && !verdict.pass) failures.push(`soak/${spec.name}`)
        if (main.tally.failed > 0) notes.push(`soak/${spec.name}: ${main.tally.failed} sessions failed, e.g. ${main.tally.errors.slice(0, 3).join('; ')}`)
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        rows.push({ target: spec.name, verdict: 'ERROR' })
        verdicts.push(`soak ${spec.name}: ERROR — ${message.split('\n')[0]}`)
        notes.push(`soak/${spec.name} failed: ${message}`)
        failures.push(`soak/${spec.name}`)
      }
    }
    return { cases: [], extra: { soak: rows }, notes, failures, lineCharts, verdicts }
  },
}
