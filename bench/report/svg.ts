/**
 * A hand-written SVG chart: per case, edit-to-peer latency p50/p95/p99 per
 * target (log scale), and delivered updates/s with server CPU µs per delivery;
 * then the scenario's bar charts and line charts (lines.ts), two per row.
 */
import { linePanel } from './lines.ts'
import type { BenchResult, CaseResult, Chart } from './schema.ts'

const W = 920
const PANEL_H = 260
const COLORS = ['#4e79a7', '#f28e2b', '#e15759']
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`
}

function latencyPanel(c: CaseResult, x0: number, y0: number, w: number): string[] {
  const out: string[] = []
  const targets = c.targets.filter((t) => t.ok)
  // Multi-instance cases chart the cross-instance latency (the hop through Redis), where there is any.
  const cross = targets.some((t) => t.instances?.crossInstanceMs.count)
  const pick = (t: (typeof targets)[number]) => (cross && t.instances?.crossInstanceMs.count ? t.instances.crossInstanceMs : t.latencyMs)
  const values = targets.flatMap((t) => [pick(t).p50, pick(t).p95, pick(t).p99]).filter((v) => v > 0)
  const lo = Math.pow(10, Math.floor(Math.log10(Math.max(0.01, Math.min(...values, 1)))))
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...values, 1))))
  const h = PANEL_H - 70
  const base = y0 + 30 + h
  const y = (v: number) => base - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * h
  out.push(text(x0, y0 + 16, `${cross ? 'cross-instance ' : ''}edit-to-peer latency, ms (log): p50 / p95 / p99`, 'font-weight="bold"'))
  for (let v = lo; v <= hi * 1.001; v *= 10) {
    out.push(`<line x1="${x0 + 40}" x2="${x0 + w}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`, text(x0 + 36, y(v) + 4, String(v), 'text-anchor="end"'))
  }
  const slot = (w - 50) / Math.max(1, targets.length)
  targets.forEach((t, i) => {
    const sx = x0 + 50 + i * slot
    const bw = Math.min(22, (slot - 12) / 3)
    const l = pick(t)
    ;[l.p50, l.p95, l.p99].forEach((v, k) => {
      const top = y(v)
      out.push(`<rect x="${sx + k * bw}" y="${top}" width="${bw - 2}" height="${Math.max(0, base - top)}" fill="${COLORS[k]}"><title>${esc(`${t.target} ${['p50', 'p95', 'p99'][k]} ${v} ms`)}</title></rect>`)
    })
    out.push(text(sx + 1.5 * bw, base + 14, t.target, 'text-anchor="middle"'))
    out.push(text(sx + 1.5 * bw, base + 28, `p99 ${l.p99}`, 'text-anchor="middle" fill="#666"'))
  })
  return out
}

function throughputPanel(c: CaseResult, x0: number, y0: number, w: number): string[] {
  const out: string[] = []
  const targets = c.targets.filter((t) => t.ok)
  const max = Math.max(1, ...targets.map((t) => t.throughput.deliveredPerSec))
  const h = PANEL_H - 70
  const base = y0 + 30 + h
  out.push(text(x0, y0 + 16, 'delivered updates/s (label: server CPU µs per delivery)', 'font-weight="bold"'))
  const slot = (w - 10) / Math.max(1, targets.length)
  targets.forEach((t, i) => {
    const bh = (t.throughput.deliveredPerSec / max) * h
    const sx = x0 + 10 + i * slot
    const bw = Math.min(48, slot - 14)
    out.push(`<rect x="${sx}" y="${base - bh}" width="${bw}" height="${bh}" fill="#59a14f"><title>${esc(`${t.target} ${t.throughput.deliveredPerSec}/s`)}</title></rect>`)
    out.push(text(sx + bw / 2, base - bh - 4, `${Math.round(t.throughput.deliveredPerSec)}`, 'text-anchor="middle"'))
    out.push(text(sx + bw / 2, base + 14, t.target, 'text-anchor="middle"'))
    out.push(text(sx + bw / 2, base + 28, `${t.server.cpuUsPerDelivery ?? '-'} µs`, 'text-anchor="middle" fill="#666"'))
  })
  return out
}

function chartPanel(chart: Chart, x0: number, y0: number, w: number): string[] {
  const out: string[] = [text(x0, y0 + 16, chart.title, 'font-weight="bold"')]
  const finite = chart.bars.filter((b) => Number.isFinite(b.value))
  const max = Math.max(1e-9, ...finite.map((b) => Math.abs(b.value)))
  const h = PANEL_H - 70
  const base = y0 + 30 + h
  const slot = (w - 10) / Math.max(1, finite.length)
  finite.forEach((b, i) => {
    const bh = (Math.max(0, b.value) / max) * h
    const sx = x0 + 10 + i * slot
    const bw = Math.min(48, slot - 14)
    out.push(`<rect x="${sx}" y="${base - bh}" width="${bw}" height="${bh}" fill="#76b7b2"><title>${esc(`${b.label} ${b.value}`)}</title></rect>`)
    out.push(text(sx + bw / 2, base - bh - 4, String(Math.round(b.value * 10) / 10), 'text-anchor="middle"'))
    out.push(text(sx + bw / 2, base + 14, b.label, 'text-anchor="middle"'))
  })
  return out
}

export function renderSvg(result: BenchResult): string {
  const cases = result.cases.filter((c) => c.targets.some((t) => t.ok))
  const charts = result.charts ?? []
  const lineCharts = result.lineCharts ?? []
  const panels: Array<(x: number, y: number, w: number) => string[]> = [
    ...charts.map((chart) => (x: number, y: number, w: number) => chartPanel(chart, x, y, w)),
    ...lineCharts.map((chart) => (x: number, y: number, w: number) => linePanel(chart, x, y, w, PANEL_H)),
  ]
  const chartRows = Math.ceil(panels.length / 2)
  const height = 50 + Math.max(1, cases.length + chartRows) * (PANEL_H + 30)
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    text(10, 20, `bench ${result.scenario} — ${result.startedAt} — load avg ${result.machine.loadavgStart.split(' ').slice(0, 3).join(' ')}`, 'font-size="14" font-weight="bold"'),
  ]
  cases.forEach((c, i) => {
    const y0 = 40 + i * (PANEL_H + 30)
    const w = c.workload
    parts.push(text(10, y0 + 4, `${c.name}: ${w.clients} editors, ${w.docs} doc(s), ${w.rate}/s each`, 'font-size="12" fill="#333"'))
    parts.push(...latencyPanel(c, 10, y0 + 8, W / 2 - 20), ...throughputPanel(c, W / 2 + 10, y0 + 8, W / 2 - 20))
  })
  panels.forEach((panel, k) => {
    const y0 = 40 + (cases.length + Math.floor(k / 2)) * (PANEL_H + 30)
    parts.push(...panel(k % 2 === 0 ? 10 : W / 2 + 10, y0 + 8, W / 2 - 20))
  })
  if (cases.length === 0 && panels.length === 0) parts.push(text(10, 60, 'nothing to chart'))
  if (cases.length > 0) {
    parts.push(`<g transform="translate(${W - 200},10)">`)
    ;['p50', 'p95', 'p99'].forEach((label, k) => parts.push(`<rect x="${k * 60}" y="0" width="10" height="10" fill="${COLORS[k]}"/>`, text(k * 60 + 14, 9, label)))
    parts.push('</g>')
  }
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}
