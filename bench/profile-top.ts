/**
 * Summarize a V8 .cpuprofile: the functions with the most self time, as a
 * share of the samples taken. `node bench/profile-top.ts FILE [N]`
 */
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
}

const [file, limit = '25'] = process.argv.slice(2)
if (!file) {
  process.stderr.write('usage: node bench/profile-top.ts FILE.cpuprofile [N]\n')
  process.exit(2)
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[] }
const byNode = new Map<number, number>()
for (const id of profile.samples) byNode.set(id, (byNode.get(id) ?? 0) + 1)
const byFunction = new Map<string, number>()
for (const node of profile.nodes) {
  const hits = byNode.get(node.id) ?? 0
  if (!hits) continue
  const { functionName, url, lineNumber } = node.callFrame
  const where = url ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/main\//, '')}:${lineNumber + 1}` : ''
  const key = `${functionName || '(anonymous)'} ${where}`.trim()
  byFunction.set(key, (byFunction.get(key) ?? 0) + hits)
}
const total = profile.samples.length
const idle = byFunction.get('(idle)') ?? 0
process.stdout.write(`${total} samples, ${((100 * (total - idle)) / total).toFixed(1)} % busy\n`)
for (const [name, hits] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(limit))) {
  process.stdout.write(`${((100 * hits) / total).toFixed(1).padStart(5)} %  ${name}\n`)
}
