/**
 * CPU and memory of a process, read from /proc (Linux): what `top` would show,
 * without asking the process anything, so it works the same for every target.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'

function clockTicks(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
    return Number.isFinite(n) && n > 0 ? n : 100
  } catch (error) {
    process.stderr.write(`getconf CLK_TCK failed (${String(error)}); assuming 100\n`)
    return 100
  }
}

const TICKS = clockTicks()

export interface ProcSample {
  /** Monotonic ms (performance.now) when sampled. */
  at: number
  /** User + system CPU seconds since the process started. */
  cpuSeconds: number
  /** Resident set size, bytes. */
  rss: number
  /** write()/writev()/send() syscalls so far (/proc/<pid>/io syscw): one per socket write. */
  writeSyscalls: number
}

/** One sample, or undefined if the process is gone. */
export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const utime = Number(fields[11])
    const stime = Number(fields[12])
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
    const io = readFileSync(`/proc/${pid}/io`, 'utf8')
    const writeSyscalls = Number(/syscw:\s+(\d+)/.exec(io)?.[1] ?? NaN)
    return { at: performance.now(), cpuSeconds: (utime + stime) / TICKS, rss: rssKb * 1024, writeSyscalls }
  } catch {
    return undefined // the process exited between samples
  }
}

/** utime, stime, cutime, cstime (ticks) and ppid from /proc/<pid>/stat, or undefined if it is gone. */
function statTimes(pid: number | string): { ppid: number; own: number; children: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { ppid: Number(f[1]), own: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) }
  } catch {
    return undefined
  }
}

/**
 * CPU of a process and its children (e.g. the PostgreSQL postmaster and its
 * backends): the root's own time plus the time of children it has reaped,
 * plus the live children's own time. RSS is the root's only (children share
 * memory, so a sum would overcount). Scans /proc once: for occasional samples.
 */
export function sampleTree(rootPid: number): ProcSample | undefined {
  const root = sampleProc(rootPid)
  const rootTimes = statTimes(rootPid)
  if (!root || !rootTimes) return undefined
  let ticks = rootTimes.own + rootTimes.children
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const t = statTimes(name)
    if (t && t.ppid === rootPid) ticks += t.own
  }
  return { ...root, cpuSeconds: ticks / TICKS }
}

/** CPU use between two samples, as a fraction of one core. */
export function cpuShare(a: ProcSample, b: ProcSample): number {
  const wall = (b.at - a.at) / 1000
  return wall > 0 ? (b.cpuSeconds - a.cpuSeconds) / wall : 0
}

/** The machine's 1-minute load average and core count, for the record. */
export function machineLoad(): { loadavg: string; cores: number } {
  let loadavg = 'n/a'
  try {
    loadavg = readFileSync('/proc/loadavg', 'utf8').trim()
  } catch (error) {
    loadavg = `unreadable: ${String(error)}`
  }
  return { loadavg, cores: navigator.hardwareConcurrency }
}
