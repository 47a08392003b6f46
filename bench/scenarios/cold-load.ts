/**
 * cold-load: the first sync of a large document that is only in storage.
 *
 * Per target and size: seed the document into the target's own storage, start
 * the target, and let one fresh client ask for it (SyncStep1 with an empty
 * state vector). Server side: time until the whole state has arrived, and the
 * server CPU spent meanwhile (from /proc). Client side: time to apply it into
 * a fresh Y.Doc. A second fetch (document now in memory) separates loading
 * from encoding and transfer.
 */
import WebSocket from 'ws'
import * as Y from 'yjs'
import { type GeneratedDoc, benchDocument } from '../lib/docgen.ts'
import { sampleProc } from '../lib/proc.ts'
import { say } from '../lib/progress.ts'
import { seedDocument } from '../lib/seed.ts'
import { type RunningTarget, startTarget } from '../lib/spawn.ts'
import { type TargetSpec, tempDir } from '../lib/targets.ts'
import { MessageType, SyncStep, authFrame, readFrame, readSync, syncFrame } from '../lib/wire.ts'
import type { Overrides, Scenario, ScenarioOutput } from './types.ts'

const DOC = 'cold-doc'
const round = (n: number) => Math.round(n * 10) / 10

interface Fetch {
  /** Open socket → the whole state received (before the client applies it), ms. */
  serverMs: number
  /** Client-side Y.applyUpdate of what arrived, ms. */
  clientApplyMs: number
  /** Server CPU during the fetch, ms. */
  serverCpuMs: number
  bytes: number
}

function covers(doc: Y.Doc, expected: Map<number, number>): boolean {
  const sv = Y.decodeStateVector(Y.encodeStateVector(doc))
  for (const [client, clock] of expected) if ((sv.get(client) ?? 0) < clock) return false
  return true
}

/** Fetch the whole document with a fresh socket; the socket stays open until `close` (so the document stays loaded). */
async function fetchDocument(target: RunningTarget, expected: Map<number, number>, timeoutMs = 120_000): Promise<Fetch & { close: () => void }> {
  const { dialect, url } = target.address
  const doc = new Y.Doc()
  const cpu0 = sampleProc(target.pid)
  const started = performance.now()
  let applyMs = 0
  let bytes = 0
  const ws = new WebSocket(dialect === 'yws' ? `${url}/${DOC}` : url, { perMessageDeflate: false, maxPayload: 1024 ** 3 })
  ws.binaryType = 'arraybuffer'
  try {
    const arrived = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${target.spec.name}: document not complete within ${timeoutMs} ms`)), timeoutMs)
      ws.on('open', () => {
        if (dialect === 'hocuspocus') ws.send(authFrame(DOC, 'bench'))
        ws.send(syncFrame(dialect, DOC, SyncStep.Step1, Y.encodeStateVector(doc)))
      })
      ws.on('message', (data: ArrayBuffer) => {
        const at = performance.now()
        const frame = readFrame(dialect, new Uint8Array(data))
        if (frame.type !== MessageType.Sync && frame.type !== MessageType.SyncReply) return
        const { step, payload } = readSync(frame.decoder)
        if (step === SyncStep.Step1) return
        bytes += payload.byteLength
        const a = performance.now()
        Y.applyUpdate(doc, payload)
        applyMs += performance.now() - a
        if (covers(doc, expected)) {
          clearTimeout(timer)
          resolve(at)
        }
      })
      ws.on('error', (error) => {
        clearTimeout(timer)
        reject(error)
      })
    })
    const cpu1 = sampleProc(target.pid)
    return {
      serverMs: round(arrived - started),
      clientApplyMs: round(applyMs),
      serverCpuMs: cpu0 && cpu1 ? round((cpu1.cpuSeconds - cpu0.cpuSeconds) * 1000) : NaN,
      bytes,
      close: () => ws.terminate(),
    }
  } catch (error) {
    ws.terminate()
    throw error
  }
}

interface ColdRow {
  target: string
  sizeMb: number
  storedBytes: number
  firstSyncMs: number
  serverCpuMs: number
  clientApplyMs: number
  warmSyncMs: number
  serverRssMb: number
  error?: string
}

async function measure(spec: TargetSpec, mb: number, generated: GeneratedDoc): Promise<ColdRow> {
  const dir = tempDir(`cold-${spec.name}`)
  const env = await seedDocument(spec, dir, DOC, generated.update)
  const target = await startTarget(spec, { dir, env })
  try {
    await new Promise((r) => setTimeout(r, 500))
    const expected = Y.decodeStateVector(generated.stateVector)
    const cold = await fetchDocument(target, expected)
    const warm = await fetchDocument(target, expected)
    cold.close()
    warm.close()
    return {
      target: spec.name,
      sizeMb: mb,
      storedBytes: generated.update.byteLength,
      firstSyncMs: cold.serverMs,
      serverCpuMs: cold.serverCpuMs,
      clientApplyMs: cold.clientApplyMs,
      warmSyncMs: warm.serverMs,
      serverRssMb: Math.round((sampleProc(target.pid)?.rss ?? 0) / 1048576),
    }
  } finally {
    await target.stop()
  }
}

export const coldLoad: Scenario = {
  name: 'cold-load',
  description: 'first sync of 1, 5 and 20 MB documents from storage: server time and CPU, client apply time (first run generates and caches the documents)',
  defaultTargets: ['collab', 'hocuspocus', 'y-websocket'],
  async run(targets: TargetSpec[], o: Overrides): Promise<ScenarioOutput> {
    const sizes = o.sizes ?? [1, 5, 20]
    const rows: ColdRow[] = []
    const notes = [
      'Documents: one Y.Text edited by 40 authors, inserts of 2–100 characters at random places and ~10 % deletions (seeded, cached in bench/results/.cache).',
      'hocuspocus loads the whole state from one SQLite row in onLoadDocument, as @hocuspocus/extension-sqlite does; y-websocket uses its LevelDB persistence (YPERSISTENCE).',
      'firstSyncMs = socket open → whole state received by the client (before it applies it); warmSyncMs = the same for a second client while the first keeps the document loaded.',
    ]
    const failures: string[] = []
    for (const mb of sizes) {
      say(`[cold-load] preparing a ${mb} MB document`)
      const generated = benchDocument(mb)
      for (const spec of targets) {
        try {
          const row = await measure(spec, mb, generated)
          rows.push(row)
          say(`cold-load ${spec.name} ${mb} MB: first sync ${row.firstSyncMs} ms (server CPU ${row.serverCpuMs} ms), client apply ${row.clientApplyMs} ms, warm ${row.warmSyncMs} ms`)
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error)
          rows.push({ target: spec.name, sizeMb: mb, storedBytes: generated.update.byteLength, firstSyncMs: NaN, serverCpuMs: NaN, clientApplyMs: NaN, warmSyncMs: NaN, serverRssMb: NaN, error: message })
          failures.push(`cold-load/${spec.name}/${mb}MB`)
          notes.push(`cold-load/${spec.name}/${mb} MB failed: ${message}`)
        }
      }
    }
    const ok = rows.filter((r) => !r.error)
    return {
      cases: [],
      extra: { 'cold-load': rows },
      notes,
      failures,
      charts: sizes.map((mb) => ({
        title: `first sync of a ${mb} MB document, ms`,
        bars: ok.filter((r) => r.sizeMb === mb).map((r) => ({ label: r.target, value: r.firstSyncMs })),
      })),
    }
  },
}
