/**
 * What a scenario is: a name, its defaults, and a run function that returns
 * cases (one workload measured on every target) plus any scenario-specific table.
 */
import type { TargetSpec } from '../lib/targets.ts'
import type { CaseResult, Chart, LineChart } from '../report/schema.ts'

/** Command-line overrides; undefined means "the scenario's default". */
export interface Overrides {
  clients?: number
  docs?: number
  rate?: number
  duration?: number
  warmup?: number
  workers?: number
  real?: number
  /** ramp: editor counts to try. */
  steps?: number[]
  /** cold-load: document sizes in MB. */
  sizes?: number[]
  /** Steady-load scenarios: runs per target, interleaved (A B C A B C …). */
  repeat?: number
  /** scale-out: server instances. */
  instances?: number
  /** isolation: editors on the small documents. */
  editors?: number
}

export interface ScenarioOutput {
  cases: CaseResult[]
  extra?: Record<string, unknown>
  notes: string[]
  /** Runs that failed outside the load cases (the CLI exits non-zero). */
  failures?: string[]
  /** Simple bar charts for scenario tables. */
  charts?: Chart[]
  /** Values over time (soak). */
  lineCharts?: LineChart[]
  /** Pass/fail lines (soak's leak gate): in the summary and printed last. */
  verdicts?: string[]
}

export interface Scenario {
  name: string
  /** One line for --help and the summary. */
  description: string
  defaultTargets: string[]
  /** When false, missed updates in its cases are results, not failures (ramp overloads on purpose). @default true */
  strict?: boolean
  run(targets: TargetSpec[], overrides: Overrides): Promise<ScenarioOutput>
}
