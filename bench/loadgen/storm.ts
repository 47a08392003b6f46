/**
 * The storm worker: light protocol clients (`ws` + lib0, no Y.Doc) that each
 * hold one document's state vector. A session sends Auth + SyncStep1 with that
 * state vector and ends at the last byte of the SyncStep2 answer ("synced").
 * When the server closes a synced client (a restart), the client starts a new
 * session as the stock provider does: first attempt at once, then jittered
 * exponential backoff from 1 s up to 30 s.
 *
 * Convergence by state vectors: the server's own SyncStep1 must carry the
 * expected state vector, and (for sampled clients) the held state vector plus
 * what arrived must add up to it.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { nowUs } from '../lib/edits.ts'
import { MessageType, SyncStep, authFrame, readFrame, readSync, syncFrame } from '../lib/wire.ts'
import type { TargetAddress } from './messages.ts'
import type { FromStorm, StormClientSpec, StormSession, ToStorm } from './storm-messages.ts'

const FIRST_DELAY_MS = 1000
const MAX_DELAY_MS = 30_000
/** A client's answer to the server's SyncStep1: it holds no structs the server lacks. */
const EMPTY_UPDATE = Y.encodeStateAsUpdate(new Y.Doc())

const lag = monitorEventLoopDelay({ resolution: 5 })
lag.enable()

function send(message: FromStorm): void {
  process.send?.(message)
}

function sameStateVector(a: Map<number, number>, b: Map<number, number>): boolean {
  if (a.size !== b.size) return false
  for (const [client, clock] of a) if (b.get(client) !== clock) return false
  return true
}

class StormClient {
  private readonly spec: StormClientSpec
  private readonly target: TargetAddress
  private readonly expected: Map<number, number>
  private ws: WebSocket | undefined
  private timer: NodeJS.Timeout | undefined
  private closing = false
  private received: Uint8Array[] = []
  private serverSv: Uint8Array | undefined
  session: StormSession

  constructor(spec: StormClientSpec, target: TargetAddress) {
    this.spec = spec
    this.target = target
    this.expected = Y.decodeStateVector(spec.expected)
    this.session = this.fresh(0)
  }

  private fresh(sessions: number): StormSession {
    return { id: this.spec.id, document: this.spec.document, sessions, startedUs: 0, attemptUs: null, syncedUs: null, attempts: 0, failedAttempts: 0, bytes: 0, converged: null }
  }

  /** A new session: the first attempt at once. */
  start(): void {
    this.session = this.fresh(this.session.sessions + 1)
    this.session.startedUs = nowUs()
    this.attempt()
  }

  private attempt(): void {
    if (this.closing) return
    const s = this.session
    s.attempts++
    const startedUs = nowUs()
    this.received = []
    this.serverSv = undefined
    let synced = false
    const ws = new WebSocket(this.target.url, { perMessageDeflate: false, maxPayload: 1024 ** 3 })
    this.ws = ws
    ws.binaryType = 'nodebuffer'
    ws.on('open', () => {
      ws.send(authFrame(this.spec.document, 'bench'))
      ws.send(syncFrame('hocuspocus', this.spec.document, SyncStep.Step1, this.spec.held))
    })
    ws.on('message', (data: Buffer) => {
      const at = nowUs()
      if (!synced) s.bytes += data.byteLength
      const frame = readFrame('hocuspocus', data)
      if (frame.type !== MessageType.Sync && frame.type !== MessageType.SyncReply) return
      const { step, payload } = readSync(frame.decoder)
      if (step === SyncStep.Step1) {
        if (this.serverSv) return
        this.serverSv = payload
        ws.send(syncFrame('hocuspocus', this.spec.document, SyncStep.Step2, EMPTY_UPDATE))
        if (synced) this.check()
        return
      }
      if (synced) return
      if (this.spec.check) this.received.push(payload)
      if (step !== SyncStep.Step2) return // a cold sync's stored snapshot comes as an update before the answer
      synced = true
      s.attemptUs = startedUs
      s.syncedUs = at
      // The server's own state vector may come after the answer.
      if (this.serverSv) setImmediate(() => this.check())
    })
    ws.on('error', () => {}) // the close that follows decides
    ws.on('close', () => {
      if (this.closing) return
      if (!synced) {
        s.failedAttempts++
        return this.retry()
      }
      this.start() // dropped after it synced (the server restarts): a new session
    })
  }

  /** Convergence by state vectors, once the answer and the server's state vector are both here (off the timing path). */
  private check(): void {
    const s = this.session
    const server = Y.decodeStateVector(this.serverSv ?? new Uint8Array([0]))
    if (!sameStateVector(server, this.expected)) {
      s.converged = false
      s.problem = `the server's state vector is not the stored one (${server.size} clients, expected ${this.expected.size})`
      return
    }
    if (!this.spec.check) return void (s.converged = true)
    const merged = Y.decodeStateVector(this.spec.held)
    for (const update of this.received) {
      for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVectorFromUpdate(update))) {
        if (clock > (merged.get(client) ?? 0)) merged.set(client, clock)
      }
    }
    this.received = []
    s.converged = sameStateVector(merged, this.expected)
    if (!s.converged) s.problem = 'what the client held and received does not add up to the stored state vector'
  }

  private retry(): void {
    // Stock provider (@lifeomic/attempt): delay 1 s × 2^n up to 30 s, full jitter.
    const n = this.session.attempts
    const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (n - 1))
    this.timer = setTimeout(() => this.attempt(), Math.max(1, Math.random() * delay))
  }

  close(): void {
    this.closing = true
    clearTimeout(this.timer)
    this.ws?.terminate()
  }
}

let clients = new Map<number, StormClient>()

process.on('message', (message: ToStorm) => {
  switch (message.type) {
    case 'storm-init':
      clients = new Map(message.clients.map((spec) => [spec.id, new StormClient(spec, message.target)]))
      return
    case 'storm-connect':
      message.ids.forEach((id, k) => {
        const client = clients.get(id)
        if (!client) return send({ type: 'storm-fatal', message: `no client ${id}` })
        setTimeout(() => client.start(), Math.max(0, ((message.startAtUs[k] ?? 0) - nowUs()) / 1000))
      })
      return
    case 'storm-report': {
      const usage = process.cpuUsage()
      send({ type: 'storm-report', sessions: [...clients.values()].map((c) => c.session), loopLagP99Ms: lag.percentile(99) / 1e6, cpuSeconds: (usage.user + usage.system) / 1e6 })
      return
    }
    case 'storm-close':
      for (const client of clients.values()) client.close()
      setTimeout(() => process.exit(0), 200).unref()
      return
  }
})
process.on('disconnect', () => process.exit(0))
send({ type: 'storm-ready' })
