/**
 * `npm run bench -- <scenario> [--clients N --docs D --rate R --duration S --targets a,b]`
 *
 * Runs a scenario on each target in turn (each its own process on a free
 * loopback port, load generators in their own processes), then writes
 * bench/results/<scenario>-<time>.json, .md and .svg. Exits 1 if any target
 * failed, missed updates or did not converge; 2 on a usage error.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { enableProfiling } from './lib/profile.ts'
import { machineLoad } from './lib/proc.ts'
import { say } from './lib/progress.ts'
import { parseTargets } from './lib/targets.ts'
import { renderMarkdown } from './report/markdown.ts'
import { SCHEMA_VERSION, type BenchResult } from './report/schema.ts'
import { renderSvg } from './report/svg.ts'
import { SCENARIOS, findScenario } from './scenarios/index.ts'
import type { Overrides } from './scenarios/types.ts'

const RESULTS = join(resolve(dirname(fileURLToPath(import.meta.url))), 'results')

const USAGE = `usage: npm run bench -- <scenario> [options]

scenarios:
${SCENARIOS.map((s) => `  ${s.name.padEnd(12)} ${s.description}`).join('\n')}

options:
  --clients N      editors in total (light protocol clients + real providers); soak: clients connected at once;
                   restart-storm, crowd, isolation: the storm's clients
  --docs D         documents the editors are spread over (soak: small documents)
  --rate R         edits per second per editor
  --duration S     seconds of editing per target (the first --warmup seconds are not measured)
  --warmup S       seconds before the measurement window opens (soak: churn before the baseline, default 60)
  --targets a,b    collab, collab-full, collab-memory, hocuspocus, y-websocket, relay (scale-out: collab, hocuspocus)
  --workers W      load-generator processes (default 1: the other core runs the server)
  --real K         real @hocuspocus/provider / y-websocket clients among the editors
  --steps a,b,...  ramp: editor counts to try
  --sizes a,b,...  cold-load: document sizes in MB (soak: the big document's, default 1; crowd, isolation: the
                   crowd's document, default 20; restart-storm: the big documents, default 1,2,5)
  --repeat N       steady-load scenarios: N runs per target, interleaved; rows are medians, every run listed
  --instances N    scale-out: server instances sharing Redis (and PostgreSQL for collab), default 2
  --editors N      isolation: editors on the small documents (default 200)
  --out DIR        where to write results (default bench/results)
  --profile DIR    write V8 CPU profiles of every target and load generator into DIR
`

function numbers(raw: string | undefined, name: string): number[] | undefined {
  if (raw === undefined) return undefined
  const list = raw.split(',').map(Number)
  if (list.some((n) => !Number.isFinite(n) || n <= 0)) throw new Error(`--${name} wants positive numbers, got "${raw}"`)
  return list
}

function number(raw: string | undefined, name: string): number | undefined {
  return numbers(raw, name)?.[0]
}

function instances(raw: string | undefined): number | undefined {
  const n = number(raw, 'instances')
  if (n !== undefined && (!Number.isInteger(n) || n > 16)) throw new Error(`--instances wants an integer from 1 to 16, got "${raw}"`)
  return n
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      clients: { type: 'string' },
      docs: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      targets: { type: 'string' },
      workers: { type: 'string' },
      real: { type: 'string' },
      steps: { type: 'string' },
      sizes: { type: 'string' },
      repeat: { type: 'string' },
      instances: { type: 'string' },
      editors: { type: 'string' },
      out: { type: 'string' },
      profile: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const scenario = positionals[0] ? findScenario(positionals[0]) : undefined
  if (values.help || !scenario || positionals.length > 1) {
    process.stderr.write(USAGE)
    if (positionals[0] && !scenario) process.stderr.write(`\nunknown scenario "${positionals[0]}"\n`)
    return values.help ? 0 : 2
  }
  const overrides: Overrides = {
    clients: number(values.clients, 'clients'),
    docs: number(values.docs, 'docs'),
    rate: number(values.rate, 'rate'),
    duration: number(values.duration, 'duration'),
    warmup: values.warmup === '0' ? 0 : number(values.warmup, 'warmup'),
    workers: number(values.workers, 'workers'),
    real: values.real === '0' ? 0 : number(values.real, 'real'),
    steps: numbers(values.steps, 'steps'),
    sizes: numbers(values.sizes, 'sizes'),
    repeat: number(values.repeat, 'repeat'),
    instances: instances(values.instances),
    editors: number(values.editors, 'editors'),
  }
  const targets = parseTargets(values.targets, scenario.defaultTargets)
  if (values.profile) enableProfiling(resolve(values.profile))
  const startedAt = new Date()
  const loadStart = machineLoad()
  say(`bench ${scenario.name}: ${scenario.description}`)
  say(`targets: ${targets.map((t) => t.name).join(', ')}; load average at start: ${loadStart.loadavg}`)

  const output = await scenario.run(targets, overrides)

  const result: BenchResult = {
    schemaVersion: SCHEMA_VERSION,
    scenario: scenario.name,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`,
    machine: {
      cores: loadStart.cores,
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      loadavgStart: loadStart.loadavg,
      loadavgEnd: machineLoad().loadavg,
    },
    cases: output.cases,
    extra: output.extra,
    charts: output.charts,
    lineCharts: output.lineCharts,
    verdicts: output.verdicts,
    failures: output.failures,
    notes: output.notes,
  }
  const dir = values.out ? resolve(values.out) : RESULTS
  mkdirSync(dir, { recursive: true })
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-').replace('Z', '')
  const base = join(dir, `${scenario.name}-${stamp}`)
  const markdown = renderMarkdown(result)
  writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`)
  writeFileSync(`${base}.md`, markdown)
  writeFileSync(`${base}.svg`, renderSvg(result))
  process.stdout.write(`\n${markdown}\n`)
  say(`wrote ${base}.json, .md, .svg`)
  for (const verdict of output.verdicts ?? []) say(verdict)

  const broken = [
    ...result.cases.flatMap((c) =>
      c.targets
        .filter((t) => !t.ok || (scenario.strict !== false && (t.edits.missing > 0 || !t.convergence.ok)))
        .map((t) => `${c.name}/${t.target}`),
    ),
    ...(output.failures ?? []),
  ]
  if (broken.length > 0) {
    say(`FAILED: ${broken.join(', ')} ${output.verdicts?.length ? 'failed (verdicts above)' : 'failed, missed updates or did not converge'}`)
    return 1
  }
  return 0
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(2)
  },
)
