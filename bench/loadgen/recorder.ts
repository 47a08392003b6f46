/**
 * The load generator's bookkeeping for one worker: what its clients sent and
 * received, per room, and the latency histograms. Clients call it; the worker
 * reports it to the orchestrator.
 */
import { type Edit, nowUs } from '../lib/edits.ts'
import { Histogram } from '../lib/histogram.ts'
import type { RoomTally, WorkerProgress, WorkerReport } from './messages.ts'

/** A room's membership, shared by the clients of this worker that are in it. */
export class Room {
  readonly name: string
  /** sender id → index into each receiver's lastSeq array */
  readonly index = new Map<number, number>()
  sent = 0
  received = 0
  /** Connected members hosted by this worker. */
  connected = 0
  /** Multi-instance runs: each member's instance, by index (undefined: one target). */
  readonly instances: Int16Array | undefined

  constructor(name: string, members: number[], instanceOf?: number[]) {
    this.name = name
    members.forEach((id, i) => this.index.set(id, i))
    this.instances = instanceOf ? Int16Array.from(members, (id) => instanceOf[id] ?? -1) : undefined
  }
}

/** What one receiver has seen: the highest sequence number per sender of its room. */
export class Inbox {
  readonly lastSeq: Int32Array
  /** The receiver's instance in a multi-instance run, else -1. */
  readonly instance: number
  constructor(roomSize: number, instance = -1) {
    this.lastSeq = new Int32Array(roomSize)
    this.instance = instance
  }
}

export class Recorder {
  readonly latency = new Histogram()
  readonly latencyReal = new Histogram()
  readonly latencySameInstance = new Histogram()
  readonly latencyCrossInstance = new Histogram()
  readonly ack = new Histogram()
  readonly connect = new Histogram()
  /** How late the generator sent edits versus their schedule: its own health. */
  readonly sendLag = new Histogram()
  /** Latency of the last progress interval (for the live line). */
  readonly recent = new Histogram()
  readonly rooms = new Map<string, Room>()
  windowFrom = Number.POSITIVE_INFINITY
  windowTo = Number.POSITIVE_INFINITY
  sent = 0
  sentInWindow = 0
  delivered = 0
  deliveredInWindow = 0
  recentDelivered = 0
  duplicates = 0
  echoes = 0
  unknown = 0
  unparsed = 0
  acks = 0
  errors: string[] = []
  connectFailures = 0
  closedEarly = 0

  room(name: string, members: number[], instanceOf?: number[]): Room {
    let room = this.rooms.get(name)
    if (!room) {
      room = new Room(name, members, instanceOf)
      this.rooms.set(name, room)
    }
    return room
  }

  error(message: string): void {
    if (this.errors.length < 20) this.errors.push(message)
  }

  onSent(room: Room, scheduledUs: number, sentUs: number): void {
    room.sent++
    this.sent++
    if (sentUs >= this.windowFrom && sentUs < this.windowTo) this.sentInWindow++
    this.sendLag.record(Math.max(0, sentUs - scheduledUs))
  }

  /** Edits that reached `self` (a client id) in `room`. */
  onEdits(self: number, room: Room, inbox: Inbox, edits: Edit[], real: boolean): void {
    const now = nowUs()
    for (const edit of edits) {
      if (edit.sender === self) {
        this.echoes++
        continue
      }
      const i = room.index.get(edit.sender)
      if (i === undefined) {
        this.unknown++
        continue
      }
      if (edit.seq <= (inbox.lastSeq[i] ?? 0)) {
        this.duplicates++
        continue
      }
      inbox.lastSeq[i] = edit.seq
      room.received++
      this.delivered++
      this.recentDelivered++
      const latency = now - edit.t
      this.recent.record(latency)
      // Latency of edits sent inside the measurement window, whenever they arrive.
      if (edit.t >= this.windowFrom && edit.t < this.windowTo) {
        this.latency.record(latency)
        if (real) this.latencyReal.record(latency)
        if (inbox.instance >= 0 && room.instances) {
          ;(room.instances[i] === inbox.instance ? this.latencySameInstance : this.latencyCrossInstance).record(latency)
        }
      }
      if (now >= this.windowFrom && now < this.windowTo) this.deliveredInWindow++
    }
  }

  onAck(sentUs: number): void {
    this.acks++
    if (sentUs >= this.windowFrom && sentUs < this.windowTo) this.ack.record(nowUs() - sentUs)
  }

  progress(loopLagP99: number): WorkerProgress {
    const p: WorkerProgress = {
      type: 'progress',
      loopLagP99,
      sent: this.sent,
      delivered: this.delivered,
      recentDelivered: this.recentDelivered,
      recentP99: this.recent.quantile(0.99) / 1000,
      sendLagP99: this.sendLag.quantile(0.99) / 1000,
    }
    this.recent.reset()
    this.recentDelivered = 0
    return p
  }

  report(extra: Pick<WorkerReport, 'realStates' | 'sentBySender' | 'loopLag'>): WorkerReport {
    const rooms: RoomTally[] = [...this.rooms.values()].map((r) => ({
      name: r.name,
      sent: r.sent,
      received: r.received,
      connected: r.connected,
    }))
    return {
      type: 'report',
      rooms,
      latency: this.latency.toData(),
      latencyReal: this.latencyReal.toData(),
      latencySameInstance: this.latencySameInstance.toData(),
      latencyCrossInstance: this.latencyCrossInstance.toData(),
      ack: this.ack.toData(),
      connect: this.connect.toData(),
      sendLag: this.sendLag.toData(),
      counters: {
        sent: this.sent,
        sentInWindow: this.sentInWindow,
        delivered: this.delivered,
        deliveredInWindow: this.deliveredInWindow,
        duplicates: this.duplicates,
        echoes: this.echoes,
        unknown: this.unknown,
        unparsed: this.unparsed,
        acks: this.acks,
        connectFailures: this.connectFailures,
        closedEarly: this.closedEarly,
      },
      errors: this.errors,
      ...extra,
    }
  }
}
