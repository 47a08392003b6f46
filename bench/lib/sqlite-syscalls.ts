/**
 * Write syscalls per SQLite append (Linux /proc/self/io `syscw`): what the
 * durable log costs the server per edit, measured without a server around it.
 *
 *   node bench/lib/sqlite-syscalls.ts [--appends 2000] [--docs 100] [--bytes 100]
 *     [--per-turn 1,5] [--compact-after 0] [--sync normal|full]
 *
 * Opens a SqliteStorage in a temporary directory and appends `--appends` real
 * Yjs updates of about `--bytes` bytes (one text insert each), round-robin over
 * `--docs` documents, awaiting each batch of `--per-turn` appends (made in one
 * event-loop turn, so they share one commit) before the next. With
 * `--compact-after N`, a document's log is compacted once it holds N updates,
 * as the persistence extension does (COMPACT_AFTER_UPDATES, 500 by default):
 * the shape of a long-running server; without it, the shape of a short bench
 * window. One append per document first (not counted), so table creation is
 * not measured. Prints write syscalls per append and per commit, CPU µs per
 * append, and the time to commit (p99, slowest).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import * as Y from 'yjs'
import { SqliteStorage } from '../../server/storage/sqlite.ts'

const { values } = parseArgs({
  options: {
    appends: { type: 'string', default: '2000' },
    docs: { type: 'string', default: '100' },
    bytes: { type: 'string', default: '100' },
    'per-turn': { type: 'string', default: '1,5' },
    'compact-after': { type: 'string', default: '0' },
    sync: { type: 'string', default: 'normal' },
  },
})
const appends = Number(values.appends)
const docs = Number(values.docs)
const bytes = Number(values.bytes)
const compactAfter = Number(values['compact-after'])
const sync = values.sync === 'full' ? 'full' : 'normal'

function writeSyscalls(): number {
  const io = readFileSync('/proc/self/io', 'utf8')
  return Number(/syscw:\s+(\d+)/.exec(io)?.[1] ?? NaN)
}

/** One writer per document; each update inserts a string at the end of its text, about `bytes` long on the wire. */
function makeWriters(): Array<() => Uint8Array> {
  return Array.from({ length: docs }, () => {
    const doc = new Y.Doc()
    const text = doc.getText('t')
    let last: Uint8Array = new Uint8Array()
    doc.on('update', (u: Uint8Array) => (last = u))
    return () => {
      text.insert(text.length, 'x'.repeat(Math.max(1, bytes - 19)))
      return last
    }
  })
}

interface Result {
  perAppend: number
  perCommit: number
  cpuUs: number
  /** Wall time from the batch's appends to their promises resolving (ms). */
  p99CommitMs: number
  slowestCommitMs: number
  updateBytes: number
}

async function measure(perTurn: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-syscalls-'))
  const storage = new SqliteStorage({ path: join(dir, 'collab.db'), sync })
  const writers = makeWriters()
  const logged = new Array<number>(docs).fill(1)
  try {
    for (let d = 0; d < docs; d++) await storage.append(`doc-${d}`, writers[d]!())
    // Made up front, so Yjs work stays out of the CPU figure.
    const updates = Array.from({ length: appends }, (_, i) => writers[i % docs]!())
    const updateBytes = updates.reduce((sum, u) => sum + u.byteLength, 0) / appends
    const commits = storage.commits
    const waits: number[] = []
    const cpu = process.cpuUsage()
    const before = writeSyscalls()
    for (let i = 0; i < appends; i += perTurn) {
      const batch: Promise<unknown>[] = []
      const end = Math.min(i + perTurn, appends)
      for (let k = i; k < end; k++) batch.push(storage.append(`doc-${k % docs}`, updates[k]!))
      const started = performance.now()
      await Promise.all(batch)
      waits.push(performance.now() - started)
      if (compactAfter > 0) {
        for (let k = i; k < end; k++) {
          const d = k % docs
          if (++logged[d]! < compactAfter) continue
          logged[d] = 0
          await storage.compact(`doc-${d}`)
        }
      }
    }
    const delta = writeSyscalls() - before
    const used = process.cpuUsage(cpu)
    waits.sort((a, b) => a - b)
    return {
      perAppend: delta / appends,
      perCommit: delta / (storage.commits - commits),
      cpuUs: (used.user + used.system) / appends,
      p99CommitMs: waits[Math.floor(waits.length * 0.99)]!,
      slowestCommitMs: waits[waits.length - 1]!,
      updateBytes,
    }
  } finally {
    await storage.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

for (const perTurn of values['per-turn'].split(',').map(Number)) {
  const r = await measure(perTurn)
  process.stdout.write(
    `sync=${sync} ${perTurn}/turn, ${appends} appends of ${r.updateBytes.toFixed(0)} B over ${docs} docs` +
      `${compactAfter > 0 ? `, compact after ${compactAfter}` : ''}: ` +
      `${r.perAppend.toFixed(2)} write syscalls/append, ${r.perCommit.toFixed(2)}/commit, ` +
      `${r.cpuUs.toFixed(1)} µs CPU/append, commit p99 ${r.p99CommitMs.toFixed(2)} ms, slowest ${r.slowestCommitMs.toFixed(1)} ms\n`,
  )
}
