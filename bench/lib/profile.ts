/**
 * `--profile DIR`: every target and load-generator process started afterwards
 * runs with V8's CPU profiler and writes a `.cpuprofile` into DIR/<name>/ when
 * it exits (open it in Chrome DevTools, or `node bench/profile-top.ts FILE`).
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'

let root: string | undefined

export function enableProfiling(dir: string): void {
  root = dir
  mkdirSync(dir, { recursive: true })
}

/** execArgv for a process named `name` (e.g. the target or "loadgen"). */
export function profileArgs(name: string): string[] {
  if (!root) return []
  const dir = join(root, name)
  mkdirSync(dir, { recursive: true })
  // BENCH_PROFILE_INTERVAL_US: sample more often than V8's 1000 µs default, for short runs.
  const interval = Number(process.env.BENCH_PROFILE_INTERVAL_US)
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...(interval > 0 ? [`--cpu-prof-interval=${interval}`] : [])]
}
