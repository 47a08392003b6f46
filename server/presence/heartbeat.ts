/**
 * The main-thread side of the presence heartbeat: a worker thread
 * (heartbeat-worker.ts) with its own Redis connection announces this instance
 * and keeps the record of the awareness client ids it hosts, and watches the
 * other instances. It runs on its own event loop, so a long stall of ours (a
 * huge document loading) does not stop the announcements: only a process that
 * is gone, frozen or cut off from Redis stops announcing.
 */
import { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import type { HostedEntry } from './keys.ts'

export interface HeartbeatWorkerData {
  url: string
  prefix: string
  instanceId: string
  /** Announce and look at the others this often. */
  heartbeatMs: number
  /** TTL of the announcement: an instance silent this long is dead. */
  deadAfterMs: number
  /** A worker started again after the previous one failed: an expired announcement means the others gave us up. */
  restarted: boolean
}

/** Main thread → worker. */
export type ToWorker = { op: 'hosted'; documentName: string; clientId: number; present: boolean } | { op: 'stop' }

/** Worker → main thread. */
export type FromWorker =
  /** `decidedAt`: when the worker found it dead (Date.now()); entries updated since are not removed. */
  | { type: 'dead'; instanceId: string; entries: HostedEntry[]; decidedAt: number }
  | { type: 'revived' }
  /** The first announcement is in Redis. */
  | { type: 'announced' }
  /** Redis holds the record of every id hosted here: `size` of them. */
  | { type: 'recorded'; size: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; msg: string; err?: string }

export interface HeartbeatConfiguration extends Omit<HeartbeatWorkerData, 'restarted'> {
  logger: Logger
  /** Another instance stopped announcing itself; `entries`: the ids it hosted that no live instance hosts. */
  onDead(instanceId: string, entries: HostedEntry[], decidedAt: number): void
  /** Our announcement had expired (we were frozen, or cut off from Redis): the others gave our clients up. */
  onRevived(): void
  /** Every id a connection here speaks for now (to tell a worker started again). */
  hostedNow(): HostedEntry[]
  /** Redis holds the record of all `size` ids hosted here (metrics). */
  onRecorded?(size: number): void
}

// Compiled to dist/*.js for the image; run from source (.ts) otherwise.
const WORKER = new URL(import.meta.url.endsWith('.ts') ? './heartbeat-worker.ts' : './heartbeat-worker.js', import.meta.url)
/** After the worker failed, start it again this much later. */
const RESTART_DELAY_MS = 1000

export class Heartbeat {
  private readonly config: HeartbeatConfiguration
  private worker!: Worker
  private exited!: Promise<void>
  private stopping = false
  private markAnnounced: () => void = () => undefined
  /** Resolves once this instance has announced itself for the first time. */
  readonly announced = new Promise<void>((resolve) => (this.markAnnounced = resolve))

  constructor(config: HeartbeatConfiguration) {
    this.config = config
    this.start(false)
  }

  /** A connection here started (`present`) or stopped speaking for the id. */
  hosted(documentName: string, clientId: number, present: boolean): void {
    this.post({ op: 'hosted', documentName, clientId, present })
  }

  /** Withdraw the announcement and the record (the others need not wait for the TTL), then end the worker. */
  async stop(timeoutMs = 1000): Promise<void> {
    this.stopping = true
    this.post({ op: 'stop' })
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)))
    if ((await Promise.race([this.exited, late])) === 'late') await this.worker.terminate()
    clearTimeout(timer)
  }

  private start(restarted: boolean): void {
    const { logger, onDead, onRevived, hostedNow, onRecorded, ...settings } = this.config
    const workerData: HeartbeatWorkerData = { ...settings, restarted }
    const started = performance.now()
    const worker = new Worker(WORKER, { workerData, name: 'presence-heartbeat' })
    worker.unref()
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'dead') onDead(message.instanceId, message.entries, message.decidedAt)
      else if (message.type === 'revived') onRevived()
      else if (message.type === 'recorded') onRecorded?.(message.size)
      else if (message.type === 'log') logger[message.level]({ instanceId: settings.instanceId, err: message.err }, `presence heartbeat: ${message.msg}`)
      else if (message.type === 'announced') {
        logger.info({ instanceId: settings.instanceId, startupMs: Math.round(performance.now() - started) }, 'presence heartbeat: announced')
        this.markAnnounced()
      }
    })
    worker.on('error', (error) => logger.error({ err: error }, 'presence heartbeat: the worker failed'))
    this.exited = new Promise((resolve) => {
      worker.once('exit', (code) => {
        resolve()
        if (this.stopping) return
        logger.error({ code }, `presence heartbeat: the worker stopped; starting it again in ${RESTART_DELAY_MS} ms`)
        setTimeout(() => {
          if (this.stopping) return
          this.start(true)
          for (const [documentName, clientId] of hostedNow()) this.hosted(documentName, clientId, true)
        }, RESTART_DELAY_MS).unref()
      })
    })
    this.worker = worker
  }

  private post(message: ToWorker): void {
    this.worker.postMessage(message)
  }
}
