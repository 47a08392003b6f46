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

/**
 * Start `node server/main.ts` as a child process on loopback and wait until it
 * listens. The process is killed (SIGKILL, by its PID) when the test ends if
 * it is still running.
 */
export async function spawnServer(env: Record<string, string>, options: { port?: number; uid?: number; gid?: number } = {}): Promise<ServerProcess> {
  const port = options.port ?? (await freePort())
  const proc = spawn(process.execPath, ['server/main.ts'], {
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
  onTestFinished(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
  })
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

/** Start the server with `env` and expect it to stop before listening: its exit code and everything it printed. */
export async function failedStart(env: Record<string, string>, options: { uid?: number; gid?: number } = {}): Promise<{ code: number | string; output: string }> {
  const proc = spawn(process.execPath, ['server/main.ts'], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(await freePort()), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: options.uid,
    gid: options.gid,
  })
  onTestFinished(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
  })
  let output = ''
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()))
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()))
  const code = await new Promise<number | string>((resolve) => proc.once('exit', (c, signal) => resolve(c ?? signal ?? 'unknown')))
  return { code, output }
}
