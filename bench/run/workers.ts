/**
 * The orchestrator's side of the load-generator workers: fork them, talk to
 * them, collect their reports, stop them by PID.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { profileArgs } from '../lib/profile.ts'
import type { FromWorker, ToWorker, WorkerProgress, WorkerReport } from '../loadgen/messages.ts'

const LOADGEN = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'loadgen')
const WORKER = join(LOADGEN, 'worker.ts')
/** soak's churn worker. */
export const CHURN_WORKER = join(LOADGEN, 'churn.ts')

export class Worker {
  readonly child: ChildProcess
  readonly pid: number
  progress: WorkerProgress | undefined
  connecting = { done: 0, total: 0 }
  private readonly waiters = new Map<string, Array<(m: FromWorker) => void>>()
  private failure: Error | undefined
  private readonly stderr: string[] = []

  /** `module`: the worker to fork (default the steady-load worker; soak forks loadgen/churn.ts). */
  constructor(module = WORKER) {
    this.child = fork(module, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'pipe', 'ipc'], execArgv: profileArgs('loadgen') })
    if (this.child.pid === undefined) throw new Error('could not start a load-generator worker')
    this.pid = this.child.pid
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr.push(chunk.toString())
      if (this.stderr.length > 20) this.stderr.shift()
    })
    this.child.on('message', (message: FromWorker) => {
      if (message.type === 'progress') this.progress = message
      else if (message.type === 'connecting') this.connecting = { done: message.done, total: message.total }
      else if (message.type === 'fatal') this.fail(new Error(`worker ${this.pid}: ${message.message}`))
      const list = this.waiters.get(message.type)
      const waiter = list?.shift()
      waiter?.(message)
    })
    this.child.on('exit', (code) => {
      if (code !== 0) this.fail(new Error(`worker ${this.pid} exited with ${code}: ${this.stderr.join('').slice(-2000)}`))
    })
  }

  private fail(error: Error): void {
    this.failure ??= error
    for (const list of this.waiters.values()) list.length = 0
  }

  send(message: ToWorker): void {
    if (this.child.connected) this.child.send(message)
  }

  /** Wait for the next message of `type`. */
  next<T extends FromWorker['type']>(type: T, timeoutMs: number): Promise<Extract<FromWorker, { type: T }>> {
    return new Promise((resolveMessage, reject) => {
      if (this.failure) return reject(this.failure)
      const timer = setTimeout(() => reject(this.failure ?? new Error(`worker ${this.pid}: no "${type}" within ${timeoutMs} ms`)), timeoutMs)
      const list = this.waiters.get(type) ?? []
      list.push((m) => {
        clearTimeout(timer)
        resolveMessage(m as Extract<FromWorker, { type: T }>)
      })
      this.waiters.set(type, list)
    })
  }

  report(withStates: boolean, timeoutMs = 30_000): Promise<WorkerReport> {
    const reply = this.next('report', timeoutMs)
    this.send({ type: 'report', withStates })
    return reply
  }

  /** Ask it to close its sockets and exit; kill it (by PID) if it does not. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null) return
    const exited = new Promise<void>((done) => this.child.once('exit', () => done()))
    this.send({ type: 'close' })
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
}
