/**
 * IPC between the orchestrator and the storm worker (bench/loadgen/storm.ts):
 * clients that each hold one document's state vector, sync it, and — when the
 * server drops them — reconnect the way the stock provider does.
 */
import type { TargetAddress } from './messages.ts'

export interface StormClientSpec {
  id: number
  document: string
  /** The state vector the client holds (empty for a client that holds nothing). */
  held: Uint8Array
  /** The document's state vector on the server, as seeded: what held + the answer must add up to. */
  expected: Uint8Array
  /** Keep what arrives and check it against `expected` (decoding a large answer costs the generator time: a sample). */
  check: boolean
}

export interface StormInit {
  type: 'storm-init'
  target: TargetAddress
  clients: StormClientSpec[]
}

/** Start a session for each of `ids`, the k-th at `startAtUs[k]` (host monotonic µs, bench/lib/edits.ts nowUs). */
export interface StormConnect {
  type: 'storm-connect'
  ids: number[]
  startAtUs: number[]
}

/** One client's latest session: from its first attempt until it was synced. */
export interface StormSession {
  id: number
  document: string
  /** Sessions so far (a reconnect after the server dropped the client starts a new one). */
  sessions: number
  /** µs, host monotonic clock. */
  startedUs: number
  /** Start of the attempt that synced (its socket was created), µs. */
  attemptUs: number | null
  /** The last byte of the SyncStep2 answer arrived, µs. */
  syncedUs: number | null
  attempts: number
  /** Attempts that did not sync (refused, closed before the answer). */
  failedAttempts: number
  /** Bytes received until synced. */
  bytes: number
  /** held + what arrived == expected, and the server's own state vector == expected; null: not checked. */
  converged: boolean | null
  problem?: string
}

export type ToStorm = StormInit | StormConnect | { type: 'storm-report' } | { type: 'storm-close' }

export type FromStorm =
  | { type: 'storm-ready' }
  | { type: 'storm-report'; sessions: StormSession[]; loopLagP99Ms: number; cpuSeconds: number }
  | { type: 'storm-fatal'; message: string }
