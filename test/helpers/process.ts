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
  options: { port?: number; command?: ServerCommand; ownCleanup?: boolean } = {},
): Promise<ServerProcess> {
  const port = options.port ?? (await freePort())
  const { command, args, cwd } = options.command ?? { command: process.execPath, args: ['server/main.ts'] }
  const proc = spawn(command, args ?? [], {
    cwd,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
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
