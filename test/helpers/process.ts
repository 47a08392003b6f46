import { type ChildProcess, spawn } from 'node:child_process'
import { onTestFinished } from 'vitest'
import { freePort } from '../../scripts/cluster/services.ts'

export { freePort }

export interface ServerProcess {
  readonly proc: ChildProcess
  readonly port: number
  /** ws:// URL of the Hocuspocus endpoint. */
  readonly url: string
  readonly http: string
  /** Everything the process wrote to stderr so far. */
  stderr(): string
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>
}

/** How to start the server: the executable and its arguments, in a directory. @default `node server/main.ts` here */
export interface ServerCommand {
  command: string
  args?: string[]
  cwd?: string
}

/**
 * Start `node server/main.ts` (or `options.command`) as a child process on
 * loopback and wait until it listens. The process is killed (SIGKILL, by its
 * PID) when the test ends if it is still running.
 */
export async function spawnServer(
  env: Record<string, string>,
  /** `ownCleanup`: the caller kills it (a server shared by a file's tests, started in beforeAll). */
  options: { port?: number; command?: ServerCommand; ownCleanup?: boolean; uid?: number; gid?: number } = {},
): Promise<ServerProcess> {
  const port = options.port ?? (await freePort())
  const { command, args, cwd } = options.command ?? { command: process.execPath, args: ['server/main.ts'] }
  const proc = spawn(command, args ?? [], {
    cwd,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: options.uid,
    gid: options.gid,
  })
  let err = ''
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | string>((resolve) =>
    proc.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  )
  if (!options.ownCleanup) {
    onTestFinished(() => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
    })
  }
  await new Promise<void>((resolve, reject) => {
    let out = ''
    const onData = (d: Buffer) => {
      out += d.toString()
      if (out.includes('collab server listening')) {
        proc.stdout!.off('data', onData)
        proc.stdout!.resume()
        resolve()
      }
    }
    proc.stdout!.on('data', onData)
    proc.once('error', reject) // could not be started at all
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening: ${err}`)))
  })
  return {
    proc,
    port,
    url: `ws://127.0.0.1:${port}/ws`,
    http: `http://127.0.0.1:${port}`,
    stderr: () => err,
    exited,
  }
}

/** A `node server/main.ts` child process that has not necessarily started: everything it writes, and how it ended. */
export interface MainProcess {
  readonly proc: ChildProcess
  /** http://127.0.0.1:port, once it listens. */
  readonly http: string
  /** stdout and stderr so far, as one text. */
  output(): string
  /** Resolves once `text` appears in stdout or stderr (rejects if the process exits first). */
  waitFor(text: string): Promise<void>
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>
}

/**
 * Start `node server/main.ts` with `env` (on loopback, a free port) and keep
 * everything it writes, for checks on what it prints when it refuses to start
 * or fails at run time. Killed (SIGKILL, by its PID) when the test ends if it still runs.
 */
export async function spawnMain(env: Record<string, string>, options: { uid?: number; gid?: number } = {}): Promise<MainProcess> {
  const port = await freePort()
  const proc = spawn(process.execPath, ['server/main.ts'], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', DB_PATH: ':memory:', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: options.uid,
    gid: options.gid,
  })
  let out = ''
  const waiters = new Set<() => void>()
  const onData = (d: Buffer) => {
    out += d.toString()
    for (const check of waiters) check()
  }
  proc.stdout!.on('data', onData)
  proc.stderr!.on('data', onData)
  // 'close' comes after the last output, 'exit' may come before it.
  const exited = new Promise<number | string>((resolve) => {
    proc.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown'))
    // Could not start at all (e.g. EACCES): an outcome to assert on, not an uncaught error.
    proc.once('error', (error) => {
      out += `spawn failed: ${error.message}\n`
      resolve(`spawn-error ${(error as NodeJS.ErrnoException).code ?? ''}`.trim())
    })
  })
  onTestFinished(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
  })
  return {
    proc,
    http: `http://127.0.0.1:${port}`,
    output: () => out,
    exited,
    waitFor: (text) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!out.includes(text)) return
          waiters.delete(check)
          resolve()
        }
        waiters.add(check)
        check()
        void exited.then((code) => {
          if (waiters.delete(check)) reject(new Error(`server exited (${code}) before printing ${JSON.stringify(text)}: ${out.slice(-2000)}`))
        })
      }),
  }
}
