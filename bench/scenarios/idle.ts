/**
 * idle: memory per idle connection and per loaded document.
 *
 * For each target: full GC and read live heap + RSS (baseline); open N idle
 * editors on one document (synced, no edits) and read again → per connection;
 * then open D more documents, one editor each making one small edit → per
 * document (minus one connection each). Live heap is the honest figure; RSS
 * includes V8's heap slack and is shown beside it.
 */
import { nowUs } from '../lib/edits.ts'
import { say } from '../lib/progress.ts'
import { type MemorySample, startTarget } from '../lib/spawn.ts'
import type { TargetSpec } from '../lib/targets.ts'
import type { ClientSpec, TargetAddress } from '../loadgen/messages.ts'
import { Worker } from '../run/workers.ts'
import type { Overrides, Scenario, ScenarioOutput } from './types.ts'

const kb = (bytes: number) => Math.round(bytes / 102.4) / 10

interface IdleRow {
  target: string
  connections: number
  documents: number
  heapKbPerConnection: number
  rssKbPerConnection: number
  heapKbPerDocument: number
  /** RSS per loaded document including its one connection (RSS is too coarse to subtract). */
  rssKbPerDocumentWithConnection: number
  baselineHeapMb: number
  baselineRssMb: number
  error?: string
}

async function connect(worker: Worker, specs: ClientSpec[], rooms: Record<string, number[]>, target: { address: TargetAddress }): Promise<number> {
  const reply = worker.next('connected', 180_000)
  worker.send({ type: 'init', target: target.address, clients: specs, rooms, kind: 'text', rate: 1, connectConcurrency: 64, connectTimeoutMs: 60_000 })
  const { connected, failed } = await reply
  if (failed > 0) {
    const report = await worker.report(false)
    throw new Error(`${failed} idle clients failed to connect: ${report.errors.slice(0, 2).join('; ')}`)
  }
  return connected
}

async function measure(spec: TargetSpec, n: number, d: number): Promise<IdleRow> {
  const target = await startTarget(spec)
  const workers: Worker[] = []
  try {
    await new Promise((r) => setTimeout(r, 500))
    const base: MemorySample = await target.memory()
    // Phase 1: n idle editors on one document.
    const idle = new Worker()
    workers.push(idle)
    await idle.next('ready', 20_000)
    const idleSpecs = Array.from({ length: n }, (_, id): ClientSpec => ({ id, room: 'idle', real: false }))
    say(`[idle ${spec.name}] opening ${n} idle connections`)
    await connect(idle, idleSpecs, { idle: idleSpecs.map((s) => s.id) }, target)
    await new Promise((r) => setTimeout(r, 1000))
    const afterConnections = await target.memory()
    // Phase 2: d documents, one editor each, one small edit each.
    const docs = new Worker()
    workers.push(docs)
    await docs.next('ready', 20_000)
    const docSpecs = Array.from({ length: d }, (_, k): ClientSpec => ({ id: n + k, room: `loaded-${k}`, real: false }))
    say(`[idle ${spec.name}] loading ${d} documents`)
    await connect(docs, docSpecs, Object.fromEntries(docSpecs.map((s) => [s.room, [s.id]])), target)
    const t0 = nowUs() + 50_000
    docs.send({ type: 'start', t0, windowFrom: t0, windowTo: t0 + 1e6 })
    await new Promise((r) => setTimeout(r, 900))
    docs.send({ type: 'stop-sending' })
    await new Promise((r) => setTimeout(r, 1500))
    const afterDocs = await target.memory()
    const perConnHeap = (afterConnections.heapUsed - base.heapUsed) / n
    const perConnRss = (afterConnections.rss - base.rss) / n
    return {
      target: spec.name,
      connections: n,
      documents: d,
      heapKbPerConnection: kb(perConnHeap),
      rssKbPerConnection: kb(perConnRss),
      heapKbPerDocument: kb((afterDocs.heapUsed - afterConnections.heapUsed) / d - perConnHeap),
      rssKbPerDocumentWithConnection: kb((afterDocs.rss - afterConnections.rss) / d),
      baselineHeapMb: Math.round(base.heapUsed / 1048576),
      baselineRssMb: Math.round(base.rss / 1048576),
    }
  } finally {
    await Promise.all(workers.map((w) => w.close()))
    await target.stop()
  }
}

export const idle: Scenario = {
  name: 'idle',
  description: 'memory per idle connection (1,000 on one document) and per loaded document (200, one editor and edit each)',
  defaultTargets: ['collab', 'collab-memory', 'hocuspocus', 'y-websocket', 'relay'],
  async run(targets: TargetSpec[], o: Overrides): Promise<ScenarioOutput> {
    const n = o.clients ?? 1000
    const d = o.docs ?? 200
    const rows: IdleRow[] = []
    const notes: string[] = [
      'Idle clients are light protocol clients: synced, no awareness state. Real providers also keep an awareness entry per connection.',
      'Heap per document subtracts one connection each; RSS per document includes it. A relay keeps no documents, so its per-document heap is noise around 0.',
    ]
    for (const spec of targets) {
      try {
        const row = await measure(spec, n, d)
        rows.push(row)
        say(`idle ${spec.name}: ${row.heapKbPerConnection} KB heap / ${row.rssKbPerConnection} KB RSS per connection; ${row.heapKbPerDocument} KB heap / ${row.rssKbPerDocumentWithConnection} KB RSS per document with its connection`)
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        rows.push({ target: spec.name, connections: n, documents: d, heapKbPerConnection: NaN, rssKbPerConnection: NaN, heapKbPerDocument: NaN, rssKbPerDocumentWithConnection: NaN, baselineHeapMb: NaN, baselineRssMb: NaN, error: message })
        notes.push(`idle/${spec.name} failed: ${message}`)
      }
    }
    const ok = rows.filter((r) => !r.error)
    return {
      cases: [],
      extra: { idle: rows },
      notes,
      failures: rows.filter((r) => r.error).map((r) => `idle/${r.target}`),
      charts: [
        { title: 'live heap per idle connection, KB', bars: ok.map((r) => ({ label: r.target, value: r.heapKbPerConnection })) },
        { title: 'live heap per loaded document, KB', bars: ok.map((r) => ({ label: r.target, value: r.heapKbPerDocument })) },
      ],
    }
  },
}
