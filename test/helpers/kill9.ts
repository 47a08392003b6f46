import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import * as decoding from 'lib0/decoding'
import { expect, vi } from 'vitest'
import * as Y from 'yjs'
import { carriesChanges, readFrameHead } from '../../client/acks.ts'
import { httpSocketClass } from '../../client/http-socket.ts'
import { MessageType, SyncStep } from '../../client/protocol.ts'
import { readFrame } from './raw.ts'
import { settled } from './clients.ts'
import { spawnServer } from './process.ts'

/**
 * Which numbers in an update: the values of the `ContentAny` items it carries
 * (each edit pushes one number to the 'edits' array).
 */
function numbersIn(update: Uint8Array): number[] {
  const out: number[] = []
  for (const struct of Y.decodeUpdate(update).structs) {
    if (struct instanceof Y.Item && struct.content instanceof Y.ContentAny) {
      for (const v of struct.content.getContent()) if (typeof v === 'number') out.push(v)
    }
  }
  return out
}

/**
 * The stock provider's socket, recording what goes over it: every frame that
 * carries changes (Update, SyncStep2) with the numbers it carries, matched
 * first-in first-out to the server's acks (`SyncStatus`), which come in order
 * per document and only after the change is durably stored. An edit counts as
 * acknowledged when an applied ack of a frame carrying it arrived, or when the
 * server's SyncStep1 (its state vector) says it holds the edit: an edit whose
 * frame was in flight when a socket closed may have been stored, and then no
 * later frame carries it. (This server holds in memory only what is stored.)
 */
function ledgerSocket(name: string, acknowledged: Set<number>, onAck: () => void, onServerState: (stateVector: Uint8Array) => void, Base: typeof WebSocket): typeof WebSocket {
  return class LedgerSocket extends Base {
    private readonly inFlight: number[][] = []

    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols)
      this.addEventListener('message', (event) => {
        const data = new Uint8Array(event.data as ArrayBuffer)
        const head = readFrameHead(data)
        if (head?.documentName === name && head.type === MessageType.Sync && head.detail === SyncStep.Step1) {
          const { decoder } = readFrame(data)
          decoding.readVarUint(decoder) // the sync step
          onServerState(decoding.readVarUint8Array(decoder))
          return
        }
        if (head?.documentName !== name || head.type !== MessageType.SyncStatus) return
        const carried = this.inFlight.shift() ?? []
        if (head.detail !== 1) return
        for (const n of carried) acknowledged.add(n)
        onAck()
      })
      this.addEventListener('close', () => (this.inFlight.length = 0))
    }

    override send(data: string | ArrayBuffer | Blob | ArrayBufferView<ArrayBuffer>): void {
      if (data instanceof Uint8Array) {
        const head = readFrameHead(data)
        if (head?.documentName === name && head.type === MessageType.Sync && carriesChanges(head.detail)) {
          const { decoder } = readFrame(data)
          decoding.readVarUint(decoder) // the sync step
          this.inFlight.push(numbersIn(decoding.readVarUint8Array(decoder)))
        }
      }
      super.send(data)
    }
  }
}

/**
 * Server settings for a test whose writers send faster than one socket may by
 * default (RATE_LIMIT_PER_SECOND 100): `start()` sends 2,500 edits a second.
 */
export const FAST_WRITERS: Record<string, string> = { RATE_LIMIT_PER_SECOND: '10000', RATE_LIMIT_BURST: '10000' }

/**
 * A stock provider that edits continuously (one number per transaction, each
 * number used once across the writers of a test) and knows exactly which
 * edits the server acknowledged (see `ledgerSocket`).
 */
export class AckedWriter {
  readonly doc = new Y.Doc()
  readonly provider: HocuspocusProvider
  private readonly socket: HocuspocusProviderWebsocket
  private readonly acked = new Set<number>()
  private readonly made: number[] = []
  /** Each edit's Yjs id: the client id and clock of its item. */
  private readonly ids = new Map<number, [number, number]>()
  private readonly waiters = new Set<() => void>()
  private timer: NodeJS.Timeout | undefined
  private readonly next: { value: number }

  /**
   * `next` is the counter shared by all writers of a test, so numbers never repeat.
   * `transport: 'http'`: the provider's socket is an HTTP fallback session (client/http-socket.ts).
   */
  constructor(url: string, name: string, next: { value: number }, transport: 'websocket' | 'http' = 'websocket') {
    this.next = next
    const notify = () => this.waiters.forEach((w) => w())
    const onServerState = (stateVector: Uint8Array) => {
      const held = Y.decodeStateVector(stateVector)
      for (const [n, [client, clock]] of this.ids) if ((held.get(client) ?? 0) > clock) this.acked.add(n)
      notify()
    }
    // HttpSocket has the WebSocket surface the provider and the ledger use.
    const Base = transport === 'http' ? (httpSocketClass() as unknown as typeof WebSocket) : WebSocket
    const WebSocketPolyfill = ledgerSocket(name, this.acked, notify, onServerState, Base)
    this.socket = new HocuspocusProviderWebsocket({ url, WebSocketPolyfill })
    this.provider = new HocuspocusProvider({ websocketProvider: this.socket, name, token: 'open', document: this.doc })
    this.provider.attach() // a provider on a socket of its own making does not attach itself
  }

  /** The acknowledged numbers. */
  get acknowledged(): number[] {
    return [...this.acked]
  }

  /** Push one number now. */
  edit(): void {
    this.made.push(this.next.value)
    this.ids.set(this.next.value, [this.doc.clientID, Y.getState(this.doc.store, this.doc.clientID)])
    this.doc.getArray<number>('edits').push([this.next.value++])
  }

  /**
   * Wait until the provider is synced and every edit it made is acknowledged.
   * (The provider's own `unsyncedChanges` cannot say: it stays above 0 for
   * good after an update the server deferred — `SyncStatus(false)` — even once
   * the SyncStep2 that follows carried it and was acknowledged.)
   */
  async settled(timeout = 15_000): Promise<void> {
    await vi.waitFor(() => {
      const missing = this.made.filter((n) => !this.acked.has(n))
      if (!this.provider.synced || missing.length > 0) throw new Error(`not settled: synced=${this.provider.synced}, ${missing.length} edits unacknowledged`)
    }, { timeout, interval: 10 })
  }

  /** Push `perTick` numbers every 2 ms until stopped. */
  start(perTick = 5): void {
    this.timer = setInterval(() => {
      for (let i = 0; i < perTick; i++) this.edit()
    }, 2)
  }

  /** Resolves once `count` edits in all are acknowledged. */
  async acknowledgedAtLeast(count: number): Promise<void> {
    if (this.acked.size >= count) return
    await new Promise<void>((resolve) => {
      const check = () => {
        if (this.acked.size < count) return
        this.waiters.delete(check)
        resolve()
      }
      this.waiters.add(check)
    })
  }

  stop(): void {
    clearInterval(this.timer)
  }

  destroy(): void {
    this.stop()
    this.provider.destroy()
    this.socket.destroy()
  }
}

/** Read the whole 'edits' array of a document with a fresh client. */
export async function readEdits(url: string, name: string): Promise<number[]> {
  const doc = new Y.Doc()
  const p = new HocuspocusProvider({ url, name, token: 'open', document: doc })
  try {
    await settled(p)
    return doc.getArray<number>('edits').toArray()
  } finally {
    p.destroy()
  }
}

/** Fail with the acknowledged numbers that are not stored. */
export function expectNoneMissing(acknowledged: number[], stored: number[], context: string): void {
  const have = new Set(stored)
  expect(acknowledged.filter((n) => !have.has(n)), `${context}: acknowledged edits missing`).toEqual([])
}

/**
 * The kill -9 test: a server child process with `env`, a client editing
 * continuously, SIGKILL at a random moment, restart on the same storage, and
 * every acknowledged edit must be there — `rounds` times. The kill comes
 * after a random number (5 to 5 + `maxAcks`) of acknowledged edits. Returns how many
 * edits were acknowledged in all.
 */
export async function killNineRounds(env: Record<string, string>, name: string, rounds: number, maxAcks = 200, transport: 'websocket' | 'http' = 'websocket'): Promise<number> {
  const next = { value: 0 }
  const acknowledged: number[] = []
  env = { ...FAST_WRITERS, ...env }
  let server = await spawnServer(env)
  for (let round = 0; round < rounds; round++) {
    const writer = new AckedWriter(server.url, name, next, transport)
    await writer.settled()
    writer.start()
    // A random moment: after a random number of acknowledged edits.
    await writer.acknowledgedAtLeast(5 + Math.floor(Math.random() * maxAcks))
    server.proc.kill('SIGKILL')
    await server.exited
    writer.destroy()
    acknowledged.push(...writer.acknowledged)
    server = await spawnServer(env, { port: server.port })
    expectNoneMissing(acknowledged, await readEdits(server.url, name), `round ${round}`)
  }
  server.proc.kill('SIGTERM')
  expect(await server.exited).toBe(0)
  return acknowledged.length
}
