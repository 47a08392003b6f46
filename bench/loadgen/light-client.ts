/**
 * A protocol-level editor: one `ws` socket, one document, and a tiny local
 * Y.Doc that only ever holds this client's own edits (so making an edit costs
 * a few µs and never grows with the room). Remote updates are decoded just far
 * enough to read the bench markers in them; they are not applied.
 */
import * as decoding from 'lib0/decoding'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { type Edit, type EditKind, makeEdit, nowUs, readEdits } from '../lib/edits.ts'
import { benchToken } from '../lib/bench-token.ts'
import { HttpWs } from './http-ws.ts'
import { AuthType, MessageType, SyncStep, authFrame, readFrame, readSync, syncFrame } from '../lib/wire.ts'
import type { ClientSpec, TargetAddress } from './messages.ts'
import { Inbox, type Recorder, type Room } from './recorder.ts'

/** Marks an expected ack that is not for a timed edit (the handshake's SyncStep2). */
const UNTIMED = -1

export interface BenchClient {
  readonly spec: ClientSpec
  /** Edits sent so far. */
  readonly sent: number
  connect(timeoutMs: number): Promise<void>
  edit(scheduledUs: number): void
  close(): void
}

export class LightClient implements BenchClient {
  readonly spec: ClientSpec
  private readonly target: TargetAddress
  private readonly recorder: Recorder
  private readonly room: Room
  private readonly inbox: Inbox
  private readonly kind: EditKind
  private readonly doc = new Y.Doc()
  private ws: WebSocket | undefined
  private seq = 0
  private lastUpdate: Uint8Array | undefined
  private readonly pendingAcks: number[] = []
  private ackHead = 0
  private synced = false
  private closing = false
  private readonly scratch: Edit[] = []

  constructor(spec: ClientSpec, target: TargetAddress, recorder: Recorder, room: Room, kind: EditKind) {
    this.spec = spec
    this.target = target
    this.recorder = recorder
    this.room = room
    this.kind = kind
    this.inbox = new Inbox(room.index.size, spec.instance ?? -1)
    this.doc.clientID = spec.id + 1
    this.doc.on('update', (update: Uint8Array) => {
      this.lastUpdate = update
    })
  }

  async connect(timeoutMs: number): Promise<void> {
    const { dialect } = this.target
    const token = await benchToken(this.target, this.spec.id)
    const url = dialect === 'yws' ? `${this.target.url}/${encodeURIComponent(this.spec.room)}` : this.target.url
    const started = nowUs()
    return new Promise<void>((resolve, reject) => {
      // The fallback's adapter has the part of `ws`'s surface used here (on, send, readyState, terminate).
      const ws = this.target.transport === 'http' ? (new HttpWs(url, token) as unknown as WebSocket) : new WebSocket(url, { perMessageDeflate: false })
      this.ws = ws
      ws.binaryType = 'nodebuffer' // no copy into an ArrayBuffer; we only read frames
      const timer = setTimeout(() => fail(new Error(`not synced within ${timeoutMs} ms`)), timeoutMs)
      const done = () => {
        clearTimeout(timer)
        this.synced = true
        this.room.connected++
        this.recorder.connect.record(nowUs() - started)
        resolve()
      }
      const fail = (error: Error) => {
        clearTimeout(timer)
        if (!this.synced) {
          ws.terminate()
          reject(error)
        }
      }
      this.onSynced = done
      ws.on('open', () => {
        if (dialect === 'hocuspocus') ws.send(authFrame(this.spec.room, token))
        ws.send(syncFrame(dialect, this.spec.room, SyncStep.Step1, Y.encodeStateVector(this.doc)))
        if (!this.target.answerStep1) done()
      })
      ws.on('message', (data: Buffer) => this.receive(data))
      ws.on('error', (error) => {
        if (!this.synced) fail(error)
        else this.recorder.error(`client ${this.spec.id}: ${error.message}`)
      })
      ws.on('close', (code) => {
        if (!this.synced) fail(new Error(`closed with ${code} before sync`))
        else if (!this.closing) {
          this.recorder.closedEarly++
          this.room.connected--
          this.recorder.error(`client ${this.spec.id} closed by the server (${code})`)
        }
      })
    })
  }

  private onSynced: () => void = () => {}

  private receive(data: Uint8Array): void {
    let frame
    try {
      frame = readFrame(this.target.dialect, data)
    } catch (error) {
      this.recorder.error(`undecodable frame: ${String(error)}`)
      return
    }
    switch (frame.type) {
      case MessageType.Sync:
      case MessageType.SyncReply: {
        const { step, payload } = readSync(frame.decoder)
        if (step === SyncStep.Step1) {
          if (!this.target.answerStep1) return
          this.send(syncFrame(this.target.dialect, this.spec.room, SyncStep.Step2, Y.encodeStateAsUpdate(this.doc, payload)))
          if (this.target.acks) this.pendingAcks.push(UNTIMED)
        } else if (step === SyncStep.Step2) {
          if (!this.synced) this.onSynced()
        } else if (step === SyncStep.Update) {
          this.scratch.length = 0
          this.recorder.unparsed += readEdits(payload, this.scratch)
          this.recorder.onEdits(this.spec.id, this.room, this.inbox, this.scratch, false)
        }
        return
      }
      case MessageType.SyncStatus:
        if (this.target.dialect !== 'hocuspocus') return
        if (this.ackHead < this.pendingAcks.length) {
          const sentAt = this.pendingAcks[this.ackHead++] ?? UNTIMED
          if (this.ackHead > 1024) {
            this.pendingAcks.splice(0, this.ackHead)
            this.ackHead = 0
          }
          if (sentAt !== UNTIMED) this.recorder.onAck(sentAt)
        }
        return
      case MessageType.Auth:
        if (this.target.dialect === 'hocuspocus' && decoding.readVarUint(frame.decoder) === AuthType.PermissionDenied) {
          this.recorder.error(`client ${this.spec.id}: permission denied`)
        }
        return
      case MessageType.Close:
        if (this.target.dialect === 'hocuspocus') this.recorder.error(`client ${this.spec.id}: document closed by the server`)
        return
      default:
        return
    }
  }

  private send(frame: Uint8Array): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(frame)
  }

  edit(scheduledUs: number): void {
    if (!this.synced || this.ws?.readyState !== WebSocket.OPEN) return
    const t = nowUs()
    this.seq++
    makeEdit(this.doc, this.kind, { sender: this.spec.id, seq: this.seq, t })
    const update = this.lastUpdate
    if (!update) return
    this.send(syncFrame(this.target.dialect, this.spec.room, SyncStep.Update, update))
    if (this.target.acks) this.pendingAcks.push(t)
    this.recorder.onSent(this.room, scheduledUs, t)
  }

  /** How many edits this client sent. */
  get sent(): number {
    return this.seq
  }

  close(): void {
    this.closing = true
    this.ws?.terminate()
  }
}
