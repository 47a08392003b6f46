/**
 * IPC between the orchestrator and its load-generator workers (structured
 * clone over `fork`'s channel with `serialization: 'advanced'`).
 */
import type { EditKind } from '../lib/edits.ts'
import type { HistogramData } from '../lib/histogram.ts'
import type { Dialect } from '../lib/wire.ts'

/** How clients reach a target. */
export interface TargetAddress {
  dialect: Dialect
  /** Base ws:// URL; yws targets append `/<room>`. */
  url: string
  /** Whether light clients answer a peer's SyncStep1 (false for the relay, which would flood every peer). */
  answerStep1: boolean
  /** Whether the target acknowledges updates with SyncStatus. */
  acks: boolean
  /** Real client library: '@hocuspocus/provider' or 'y-websocket'. */
  real: 'hocuspocus' | 'y-websocket'
  /** Token mode: each client signs in as a user of its own (bench/lib/bench-token.ts); else the token is a placeholder. */
  jwt?: BenchJwt
  /** `http`: clients use the HTTP fallback (POST + SSE at <url>/fallback) instead of a WebSocket. */
  transport?: 'websocket' | 'http'
}

/** What the load generator signs tokens with (HS256), as the target was started with it. */
export interface BenchJwt {
  secret: string
  audience: string
  issuer: string
}

export interface ClientSpec {
  /** Global id, unique across workers; also the Yjs clientID base. */
  id: number
  room: string
  /** A real provider instead of a light protocol client. */
  real: boolean
  /**
   * Multi-instance runs (scale-out): which instance this client connects to,
   * an index into InitMessage.instances. Unset: the one target.
   */
  instance?: number
}

export interface InitMessage {
  type: 'init'
  target: TargetAddress
  /** Multi-instance runs: every instance's address; a client with `instance` set uses instances[instance]. */
  instances?: TargetAddress[]
  /** Multi-instance runs: client id → instance index, for every client of every worker (same- vs cross-instance latency). */
  instanceOf?: number[]
  /** The clients this worker hosts. */
  clients: ClientSpec[]
  /** Every room's full membership (client ids), across all workers. */
  rooms: Record<string, number[]>
  kind: EditKind
  /** Edits per second per client. */
  rate: number
  /** Sockets opening at once. */
  connectConcurrency: number
  connectTimeoutMs: number
}

export interface StartMessage {
  type: 'start'
  /** Monotonic µs at which editing starts. */
  t0: number
  windowFrom: number
  windowTo: number
}

/** soak's churn worker (churn.ts): clients that keep connecting, editing and leaving. */
export interface ChurnLane {
  /** Each session picks one of these at random. */
  documents: string[]
  /** How long a session stays after it synced, ms: uniform in [min, max]. */
  holdMs: [number, number]
  /** Count this lane's syncs as syncs of the big document (ChurnTally.bigSyncs). */
  big?: boolean
}

export interface ChurnPlan {
  type: 'churn'
  target: TargetAddress
  /** One client per lane at a time: a lane's next session starts when its last one has closed. */
  lanes: ChurnLane[]
  /** Edits per second per connected client. */
  rate: number
  /** Share of sessions that leave right after asking to sync (often while the server is loading the document). */
  abandonShare: number
  /** Share of the others that leave without a close frame (socket terminated). */
  abruptShare: number
  syncTimeoutMs: number
}

export interface ChurnTally {
  sessions: number
  synced: number
  abandoned: number
  /** Did not sync in time, were refused, or broke. */
  failed: number
  /** Closed by the server while we held them. */
  closedByServer: number
  edits: number
  /** Sessions of `big` lanes that synced. */
  bigSyncs: number
  bytesReceived: number
  /** Open right now. */
  open: number
  errors: string[]
}

export type ToWorker =
  | InitMessage
  | StartMessage
  | { type: 'stop-sending' }
  | { type: 'report'; withStates: boolean }
  | { type: 'close' }
  | ChurnPlan
  | { type: 'churn-stop' }

export interface WorkerProgress {
  type: 'progress'
  sent: number
  delivered: number
  recentDelivered: number
  /** ms */
  recentP99: number
  /** ms */
  sendLagP99: number
  /** The worker's own event-loop delay p99 over the interval, ms. */
  loopLagP99: number
}

export interface RoomTally {
  name: string
  sent: number
  received: number
  connected: number
}

/** A real client's document at the end, for the convergence check. */
export interface RealState {
  id: number
  room: string
  stateVector: Uint8Array
  update: Uint8Array
}

export interface WorkerReport {
  type: 'report'
  rooms: RoomTally[]
  latency: HistogramData
  latencyReal: HistogramData
  /** Multi-instance runs: edit-to-peer latency when sender and receiver are on the same instance. */
  latencySameInstance: HistogramData
  /** … and when they are on different instances (the hop through Redis). */
  latencyCrossInstance: HistogramData
  ack: HistogramData
  connect: HistogramData
  sendLag: HistogramData
  counters: {
    sent: number
    sentInWindow: number
    delivered: number
    deliveredInWindow: number
    duplicates: number
    echoes: number
    unknown: number
    unparsed: number
    acks: number
    connectFailures: number
    closedEarly: number
  }
  errors: string[]
  realStates: RealState[]
  /** Per sender: how many edits it sent (for the convergence check). */
  sentBySender: Array<[number, number]>
  /** The worker's own event-loop delay, ms. */
  loopLag: { p99: number; max: number }
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'connected'; connected: number; failed: number }
  | { type: 'connecting'; done: number; total: number }
  | WorkerProgress
  | WorkerReport
  | { type: 'fatal'; message: string }
  | { type: 'churn-progress'; tally: ChurnTally }
  /** Every lane ended and every socket closed; the tally of the plan just finished. */
  | { type: 'churn-stopped'; tally: ChurnTally }
