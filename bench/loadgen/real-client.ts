/**
 * A real client library beside the light ones, to keep the light clients
 * honest: `@hocuspocus/provider` for Hocuspocus-protocol targets, `y-websocket`
 * for the others. It holds the whole document, so at the end its state is
 * compared with the server's and with its peers'.
 */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { httpSocketClass } from '../../client/http-socket.ts'
import { benchToken } from '../lib/bench-token.ts'
import { type Edit, type EditKind, makeEdit, nowUs, readEdits } from '../lib/edits.ts'
import type { BenchClient } from './light-client.ts'
import type { ClientSpec, RealState, TargetAddress } from './messages.ts'
import { Inbox, type Recorder, type Room } from './recorder.ts'

export class RealClient implements BenchClient {
  readonly spec: ClientSpec
  private readonly target: TargetAddress
  private readonly recorder: Recorder
  private readonly room: Room
  private readonly inbox: Inbox
  private readonly kind: EditKind
  private readonly doc = new Y.Doc()
  private seq = 0
  private ready = false
  private destroy: () => void = () => {}
  private readonly scratch: Edit[] = []

  constructor(spec: ClientSpec, target: TargetAddress, recorder: Recorder, room: Room, kind: EditKind) {
    this.spec = spec
    this.target = target
    this.recorder = recorder
    this.room = room
    this.kind = kind
    this.inbox = new Inbox(room.index.size, spec.instance ?? -1)
    this.doc.clientID = spec.id + 1
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === null) return // our own edit
      this.scratch.length = 0
      this.recorder.unparsed += readEdits(update, this.scratch)
      this.recorder.onEdits(this.spec.id, this.room, this.inbox, this.scratch, true)
    })
  }

  connect(timeoutMs: number): Promise<void> {
    const started = nowUs()
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.destroy()
        reject(new Error(`real client not synced within ${timeoutMs} ms`))
      }, timeoutMs)
      const done = () => {
        if (this.ready) return
        clearTimeout(timer)
        this.ready = true
        this.room.connected++
        this.recorder.connect.record(nowUs() - started)
        resolve()
      }
      if (this.target.real === 'hocuspocus') {
        const token = () => benchToken(this.target, this.spec.id)
        const WebSocketPolyfill = this.target.transport === 'http' ? httpSocketClass({ token }) : undefined
        const websocketProvider = new HocuspocusProviderWebsocket({ url: this.target.url, autoConnect: true, WebSocketPolyfill })
        const provider = new HocuspocusProvider({ websocketProvider, name: this.spec.room, token, document: this.doc })
        provider.attach()
        provider.on('synced', done)
        provider.on('close', () => {
          if (this.ready) this.recorder.error(`real client ${this.spec.id}: socket closed`)
        })
        this.destroy = () => {
          provider.destroy()
          websocketProvider.destroy()
        }
      } else {
        const provider = new WebsocketProvider(this.target.url, this.spec.room, this.doc, { disableBc: true })
        if (this.target.answerStep1) provider.on('sync', (synced: boolean) => synced && done())
        else provider.on('status', ({ status }: { status: string }) => status === 'connected' && done())
        this.destroy = () => provider.destroy()
      }
    })
  }

  edit(scheduledUs: number): void {
    if (!this.ready) return
    const t = nowUs()
    this.seq++
    makeEdit(this.doc, this.kind, { sender: this.spec.id, seq: this.seq, t })
    this.recorder.onSent(this.room, scheduledUs, t)
  }

  get sent(): number {
    return this.seq
  }

  state(): RealState {
    return {
      id: this.spec.id,
      room: this.spec.room,
      stateVector: Y.encodeStateVector(this.doc),
      update: Y.encodeStateAsUpdate(this.doc),
    }
  }

  close(): void {
    this.destroy()
  }
}
