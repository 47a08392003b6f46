/**
 * A line chart panel for the SVG report: values over time (soak's heap, RSS,
 * documents and connections per target), linear axes, phase markers.
 */
import type { LineChart } from './schema.ts'

const COLORS = ['#4e79a7', '#e15759', '#59a14f', '#f28e2b', '#b07aa1']
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const text = (x: number, y: number, s: string, attrs = '') => `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`

/** A round step giving about `n` ticks over [0, max]. */
function tickStep(max: number, n = 5): number {
  const raw = max / n
  const magnitude = Math.pow(10, Math.floor(Math.log10(raw)))
  return ([1, 2, 5, 10].map((k) => k * magnitude).find((s) => s >= raw) ?? 10 * magnitude)
}

export function linePanel(chart: LineChart, x0: number, y0: number, w: number, h: number): string[] {
  const out: string[] = [text(x0, y0 + 16, chart.title, 'font-weight="bold"')]
  const points = chart.lines.flatMap((l) => l.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
  if (points.length === 0) return [...out, text(x0, y0 + 40, 'no samples')]
  const xMax = Math.max(1, ...points.map(([x]) => x))
  const yMax = Math.max(1e-9, ...points.map(([, y]) => y)) * 1.05
  const left = x0 + 44
  const top = y0 + 40
  const bottom = y0 + h - 24
  const right = x0 + w
  const px = (x: number) => left + (x / xMax) * (right - left)
  const py = (y: number) => bottom - (y / yMax) * (bottom - top)
  const yStep = tickStep(yMax)
  for (let v = 0; v <= yMax; v += yStep) {
    out.push(`<line x1="${left}" x2="${right}" y1="${py(v).toFixed(1)}" y2="${py(v).toFixed(1)}" stroke="#ddd"/>`, text(left - 4, py(v) + 4, String(Math.round(v * 10) / 10), 'text-anchor="end"'))
  }
  const xStep = tickStep(xMax, 8)
  for (let v = 0; v <= xMax; v += xStep) out.push(text(px(v), bottom + 14, String(Math.round(v)), 'text-anchor="middle" fill="#666"'))
  out.push(text(right, bottom + 14 + 10, chart.xLabel, 'text-anchor="end" fill="#666"'))
  for (const mark of chart.marks ?? []) {
    const x = px(mark.x).toFixed(1)
    out.push(`<line x1="${x}" x2="${x}" y1="${top}" y2="${bottom}" stroke="#999" stroke-dasharray="3,3"/>`, text(px(mark.x) + 3, top + 10, mark.label, 'fill="#666"'))
  }
  chart.lines.forEach((line, k) => {
    const color = COLORS[k % COLORS.length] as string
    const path = line.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`)
    if (path.length > 0) out.push(`<polyline points="${path.join(' ')}" fill="none" stroke="${color}" stroke-width="1.5"><title>${esc(line.label)}</title></polyline>`)
    const lx = x0 + 10 + k * 135
    out.push(`<rect x="${lx}" y="${y0 + 22}" width="10" height="10" fill="${color}"/>`, text(lx + 14, y0 + 31, line.label))
  })
  return out
}
