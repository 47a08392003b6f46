/**
 * Start a target as a child process on a free loopback port, wait until it
 * accepts connections, watch it (event-loop lag from the probe), and stop it
 * by its PID.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { TargetAddress } from '../loadgen/messages.ts'
import { profileArgs } from './profile.ts'
import { type TargetSpec, tempDir } from './targets.ts'

const PROBE = pathToFileURL(join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'peers/probe.ts')).href

export interface LagSample {
  p50: number
  p99: number
  max: number
}

export interface MemorySample {
  heapUsed: number
  rss: number
  external: number
  arrayBuffers: number
  /** Open TCP sockets in the target (accepted and outgoing), from the probe. */
  sockets: number
  /** Documents loaded, where the target registered a counter with the probe (bench peers); else null. */
  documents: number | null
}

export interface RunningTarget {
  spec: TargetSpec
  pid: number
  port: number
  address: TargetAddress
  dir: string
  /** Per-second event-loop delay reports from the probe (ms). */
  lag: LagSample[]
  /** Last lines the target printed (for errors). */
  output(): string
  /** Full GC in the target, then its memory (needs the probe). */
  memory(): Promise<MemorySample>
  /** The target's memory as it is, no GC (needs the probe). */
  sample(): Promise<MemorySample>
  /** Whether it exited by itself (crash). */
  exited(): number | null
  stop(): Promise<void>
}

/** Every target still running (and its data directory unless kept), so a crashing bench can stop them on its way out. */
const running = new Map<ChildProcess, string | undefined>()
process.on('exit', () => {
  for (const child of running.keys()) if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL')
  for (const dir of running.values()) {
    try {
      if (dir) rmSync(dir, { recursive: true, force: true })
    } catch (error) {
      process.stderr.write(`could not remove ${dir}: ${String(error)}\n`)
    }
  }
})

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolvePort(port))
    })
  })
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ port, host: '127.0.0.1' })
    socket.once('connect', () => {
      socket.destroy()
      done(true)
    })
    socket.once('error', () => done(false))
  })
}

export interface StartOptions {
  /** Extra environment for this run (e.g. DB_SYNC, YPERSISTENCE). */
  env?: Record<string, string>
  /** Reuse this data directory instead of a fresh one (cold-load). */
  dir?: string
  keepDir?: boolean
  /** Listen on this port instead of a free one (restart-storm: the restarted server where the clients reconnect to). */
  port?: number
}

export async function startTarget(spec: TargetSpec, options: StartOptions = {}): Promise<RunningTarget> {
  const dir = options.dir ?? tempDir(spec.name)
  const port = options.port ?? (await freePort())
  const lines: string[] = []
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean))
    if (lines.length > 40) lines.splice(0, lines.length - 40)
  }
  const child: ChildProcess = fork(spec.entry, [], {
    env: { ...process.env, ...spec.env(dir), ...options.env, PORT: String(port), HOST: '127.0.0.1' },
    execArgv: ['--expose-gc', '--import', PROBE, ...profileArgs(spec.name)],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
  })
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const lag: LagSample[] = []
  const memoryWaiters: Array<(m: MemorySample) => void> = []
  child.on('message', (message: { type?: string } & Partial<LagSample & MemorySample>) => {
    if (message.type === 'lag') lag.push({ p50: message.p50 ?? 0, p99: message.p99 ?? 0, max: message.max ?? 0 })
    else if (message.type === 'memory') memoryWaiters.shift()?.(message as MemorySample)
  })
  running.set(child, options.keepDir ? undefined : dir)
  let exitCode: number | null = null
  const exited = new Promise<void>((done) =>
    child.once('exit', (code, signal) => {
      running.delete(child)
      exitCode = code ?? (signal ? 128 : 0)
      done()
    }),
  )
  const pid = child.pid
  if (pid === undefined) throw new Error(`${spec.name}: could not start`)

  const deadline = Date.now() + 20_000
  while (!(await canConnect(port))) {
    if (exitCode !== null) throw new Error(`${spec.name} exited (${exitCode}) before listening:\n${lines.join('\n')}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`${spec.name} did not listen on ${port} within 20 s:\n${lines.join('\n')}`)
    }
    await new Promise((r) => setTimeout(r, options.port === undefined ? 50 : 10))
  }

  const ask = (type: 'gc' | 'sample') =>
    new Promise<MemorySample>((resolveMemory, reject) => {
      const timer = setTimeout(() => reject(new Error(`${spec.name}: no memory report`)), 10_000)
      memoryWaiters.push((m) => {
        clearTimeout(timer)
        resolveMemory(m)
      })
      child.send({ type })
    })

  return {
    spec,
    pid,
    port,
    address: spec.address(port),
    dir,
    lag,
    output: () => lines.join('\n'),
    exited: () => exitCode,
    memory: () => ask('gc'),
    sample: () => ask('sample'),
    stop: async () => {
      if (exitCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 6000)
        await exited
        clearTimeout(timer)
      }
      if (!options.keepDir) rmSync(dir, { recursive: true, force: true })
    },
  }
}
