/**
 * The Markdown summary: one table per case with latency, throughput, server
 * CPU per delivered update and its ratio to bare Hocuspocus and to the relay,
 * then any scenario tables and the notes.
 */
import type { BenchResult, CaseResult, TargetResult } from './schema.ts'

const fmt = (n: number | null | undefined, d = 1): string =>
  n === null || n === undefined || !Number.isFinite(n) ? 'n/a' : n.toLocaleString('en-US', { maximumFractionDigits: d })

function ratio(a: number | null, b: number | null | undefined): string {
  return a !== null && b !== null && b !== undefined && b > 0 ? `${fmt(a / b, 2)}×` : 'n/a'
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`
}

export function caseTable(c: CaseResult): string {
  const w = c.workload
  const by = (name: string): TargetResult | undefined => c.targets.find((t) => t.target === name && t.ok)
  const hp = by('hocuspocus')?.server.cpuUsPerDelivery ?? null
  const relay = by('relay')?.server.cpuUsPerDelivery ?? null
  const lines = [
    `### ${c.name}`,
    '',
    `${w.clients} editors (${w.realClients} real providers) on ${w.docs} document(s), ${w.rate} ${w.kind === 'chat' ? 'messages' : 'edits'}/s each, ` +
      `${w.durationSec} s per target (first ${fmt(w.warmupSec, 1)} s not measured), ${w.workers} load-generator process(es)` +
      `${w.instances !== undefined ? `; ${w.instances} server instance(s), each room's editors round-robin over them` : ''}.`,
    '',
    row(['target', 'editors', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'real p99 ms', 'ack p99 ms', 'delivered/s', 'missing', 'converged',
      'server CPU %', 'µs CPU/delivery', 'vs hocuspocus', 'vs relay', 'writes/edit', 'RSS peak MB', 'loop lag p99 ms', 'loadgen CPU %']),
    row(Array(19).fill('---')),
  ]
  for (const t of c.targets) {
    if (!t.ok) {
      lines.push(row([t.target, 'FAILED', t.error?.split('\n')[0] ?? '', ...Array(16).fill('')]))
      continue
    }
    const us = t.server.cpuUsPerDelivery
    lines.push(
      row([
        t.target,
        `${t.connections.connected}/${t.connections.requested}`,
        fmt(t.latencyMs.p50, 2),
        fmt(t.latencyMs.p95, 2),
        fmt(t.latencyMs.p99, 2),
        fmt(t.latencyMs.max, 1),
        t.realLatencyMs.count ? fmt(t.realLatencyMs.p99, 2) : 'n/a',
        t.ackMs ? fmt(t.ackMs.p99, 2) : 'n/a',
        fmt(t.throughput.deliveredPerSec, 0),
        fmt(t.edits.missing, 0),
        t.convergence.ok ? 'yes' : '**NO**',
        fmt(t.server.cpuPercent, 0),
        fmt(us, 1),
        ratio(us, hp),
        ratio(us, relay),
        fmt(t.server.writesPerEdit, 1),
        fmt(t.server.rssMbPeak, 0),
        t.server.lagMs ? fmt(t.server.lagMs.p99, 1) : 'n/a',
        `${fmt(t.loadgen.cpuPercentMax, 0)}${t.loadgen.bound ? ' ⚠ bound' : ''}`,
      ]),
    )
  }
  if (c.targets.some((t) => t.ok && t.instances)) lines.push('', ...instancesTable(c))
  if (c.targets.some((t) => t.repeats)) lines.push('', ...repeatsTable(c))
  const echoes = c.targets.filter((t) => t.ok && t.edits.echoes > 0)
  if (echoes.length) {
    lines.push('', `Echoes (a client's own edit sent back to it): ${echoes.map((t) => `${t.target} ${fmt(t.edits.echoes / Math.max(1, t.edits.sent), 2)} per edit`).join(', ')}.`)
  }
  return lines.join('\n')
}

/** `--repeat`: every run's CPU per delivery and p99, and the per-run ratio to Hocuspocus (runs are interleaved, so run k of each target shared a moment). */
function repeatsTable(c: CaseResult): string[] {
  const hp = c.targets.find((t) => t.target === 'hocuspocus')?.repeats?.cpuUsPerDelivery
  const list = (values: Array<number | null>, d: number) => values.map((v) => fmt(v, d)).join(', ')
  const lines = [
    'Repeated runs (interleaved; the table above shows each target\'s median run by CPU per delivery):',
    '',
    row(['target', 'µs CPU/delivery, run by run', 'min – max', 'vs hocuspocus, run by run', 'p99 ms, run by run', 'missing', 'converged']),
    row(Array(7).fill('---')),
  ]
  for (const t of c.targets) {
    const r = t.repeats
    if (!r) continue
    const us = r.cpuUsPerDelivery.filter((v): v is number => v !== null)
    const ratios = hp ? r.cpuUsPerDelivery.map((v, k) => (v !== null && hp[k] ? v / hp[k]! : null)) : []
    lines.push(
      row([
        t.target,
        list(r.cpuUsPerDelivery, 1),
        us.length ? `${fmt(Math.min(...us), 1)} – ${fmt(Math.max(...us), 1)}` : 'n/a',
        ratios.length ? ratios.map((v) => (v === null ? 'n/a' : `${fmt(v, 2)}×`)).join(', ') : 'n/a',
        list(r.latencyP99Ms, 1),
        r.missing.join(', '),
        r.converged.every(Boolean) ? 'all' : r.converged.map((ok) => (ok ? 'yes' : '**NO**')).join(', '),
      ]),
    )
  }
  return lines
}

/** Multi-instance cases: latency by where the peer is, and CPU per instance and per shared service. */
function instancesTable(c: CaseResult): string[] {
  const lines = [
    'Edit-to-peer latency by where the peer is (same instance as the sender, or another one: through Redis); CPU per instance and shared service.',
    '',
    row(['target', 'instances', 'same p50 ms', 'same p99 ms', '**cross p50 ms**', 'cross p95 ms', '**cross p99 ms**', 'cross max ms',
      'cross deliveries', 'server CPU % (sum)', 'CPU % per instance', 'redis-server CPU %', 'PostgreSQL CPU %', 'machine CPU %', 'copies compared']),
    row(Array(15).fill('---')),
  ]
  for (const t of c.targets) {
    const s = t.instances
    if (!t.ok || !s) continue
    const service = (name: string) => {
      const x = s.services.find((v) => v.name === name)
      return x ? fmt(x.cpuPercent, 0) : 'n/a'
    }
    const cross = s.crossInstanceMs
    lines.push(
      row([
        t.target,
        `${s.count} (${s.perInstance.map((p) => p.clients).join('/')} editors)`,
        fmt(s.sameInstanceMs.p50, 2),
        fmt(s.sameInstanceMs.p99, 2),
        cross.count ? `**${fmt(cross.p50, 2)}**` : 'n/a',
        cross.count ? fmt(cross.p95, 2) : 'n/a',
        cross.count ? `**${fmt(cross.p99, 2)}**` : 'n/a',
        cross.count ? fmt(cross.max, 1) : 'n/a',
        fmt(cross.count, 0),
        fmt(t.server.cpuPercent, 0),
        s.perInstance.map((p) => fmt(p.cpuPercent, 0)).join(' / '),
        service('redis-server'),
        service('postgresql'),
        fmt(t.loadgen.machineCpuPercent, 0),
        `${t.convergence.roomsChecked} (${t.convergence.instancesChecked ?? 1} per room)`,
      ]),
    )
  }
  return lines
}

function extraTables(extra: Record<string, unknown>): string[] {
  const out: string[] = []
  for (const [name, value] of Object.entries(extra)) {
    if (!Array.isArray(value) || value.length === 0 || typeof value[0] !== 'object') continue
    const rows = value as Array<Record<string, unknown>>
    const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))]
    out.push(`### ${name}`, '', row(keys), row(keys.map(() => '---')))
    for (const r of rows) out.push(row(keys.map((k) => (typeof r[k] === 'number' ? fmt(r[k], 2) : String(r[k] ?? '')))))
    out.push('')
  }
  return out
}

export function renderMarkdown(result: BenchResult): string {
  const m = result.machine
  const lines = [
    `# bench: ${result.scenario}`,
    '',
    `${result.startedAt} · \`${result.command}\` · ${m.cores} cores, ${m.memoryGb} GiB, Node ${m.node} · ` +
      `load average at start \`${m.loadavgStart}\`, at end \`${m.loadavgEnd}\`.`,
    'Servers and load generator share this machine; numbers taken while other work runs are noisy — a rerun on a quiet machine is the reference.',
    '',
    ...(result.verdicts?.length ? ['### Verdict', '', ...result.verdicts.map((v) => `- ${v}`), ''] : []),
    ...result.cases.map((c) => `${caseTable(c)}\n`),
    ...extraTables(result.extra ?? {}),
  ]
  if (result.notes.length) lines.push('### Notes', '', ...result.notes.map((n) => `- ${n}`), '')
  return `${lines.join('\n')}\n`
}
