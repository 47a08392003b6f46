/**
 * A load-generator worker: a child process (forked by the orchestrator, never
 * inside a server) that hosts a share of the editors, paces their edits, and
 * reports counts and latency histograms over IPC.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { nowUs } from '../lib/edits.ts'
import { type BenchClient, LightClient } from './light-client.ts'
import type { FromWorker, InitMessage, RealState, StartMessage, ToWorker } from './messages.ts'
import { RealClient } from './real-client.ts'
import { Recorder } from './recorder.ts'

const recorder = new Recorder()
const RESOLUTION_MS = 5
const loopLag = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
loopLag.enable()
const windowLag = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
/** The histograms hold timer intervals; the delay is what exceeds the resolution. */
const delay = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS)
let clients: BenchClient[] = []
let init: InitMessage | undefined
let scheduler: NodeJS.Timeout | undefined
let progressTimer: NodeJS.Timeout | undefined
let sending = false

function send(message: FromWorker): void {
  process.send?.(message)
}

async function connectAll(message: InitMessage): Promise<void> {
  init = message
  for (const [name, members] of Object.entries(message.rooms)) recorder.room(name, members, message.instanceOf)
  clients = message.clients.map((spec) => {
    const room = recorder.room(spec.room, message.rooms[spec.room] ?? [], message.instanceOf)
    // Multi-instance runs: each client talks to its own instance.
    const target = spec.instance === undefined ? message.target : message.instances?.[spec.instance]
    if (!target) throw new Error(`client ${spec.id}: no address for instance ${spec.instance}`)
    return spec.real
      ? new RealClient(spec, target, recorder, room, message.kind)
      : new LightClient(spec, target, recorder, room, message.kind)
  })
  const connected: BenchClient[] = []
  let next = 0
  let done = 0
  const report = setInterval(() => send({ type: 'connecting', done, total: clients.length }), 500)
  const lane = async () => {
    while (next < clients.length) {
      const client = clients[next++] as BenchClient
      try {
        await client.connect(message.connectTimeoutMs)
        connected.push(client)
      } catch (error) {
        recorder.connectFailures++
        recorder.error(`client ${client.spec.id} failed to connect: ${error instanceof Error ? error.message : String(error)}`)
      }
      done++
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, message.connectConcurrency) }, lane))
  clearInterval(report)
  clients = connected
  send({ type: 'connected', connected: connected.length, failed: message.clients.length - connected.length })
}

/** Every client edits once per period, phases spread at random; late edits record how late. */
function start(message: StartMessage): void {
  if (!init || clients.length === 0) return
  recorder.windowFrom = message.windowFrom
  recorder.windowTo = message.windowTo
  windowLag.enable()
  sending = true
  const period = 1e6 / init.rate
  const order = clients.map((client) => ({ client, next: message.t0 + Math.random() * period })).sort((a, b) => a.next - b.next)
  let i = 0
  const tick = () => {
    if (!sending) return
    const now = nowUs()
    for (let n = 0; n < order.length; n++) {
      const entry = order[i]
      if (!entry || entry.next > now) break
      entry.client.edit(entry.next)
      entry.next += period
      i = (i + 1) % order.length
    }
    const due = order[i]?.next ?? now + period
    scheduler = setTimeout(tick, Math.max(0, (due - nowUs()) / 1000))
  }
  scheduler = setTimeout(tick, Math.max(0, (message.t0 - nowUs()) / 1000))
  progressTimer = setInterval(() => {
    send(recorder.progress(delay(loopLag.percentile(99))))
    loopLag.reset()
  }, 1000)
}

function stopSending(): void {
  sending = false
  if (scheduler) clearTimeout(scheduler)
  windowLag.disable()
}

function finalReport(withStates: boolean): void {
  const realStates: RealState[] = withStates
    ? clients.filter((c): c is RealClient => c instanceof RealClient).map((c) => c.state())
    : []
  const sentBySender: Array<[number, number]> = clients.map((c) => [c.spec.id, c.sent])
  send(
    recorder.report({
      realStates,
      sentBySender,
      loopLag: { p99: delay(windowLag.percentile(99)), max: delay(windowLag.max) },
    }),
  )
}

function closeAll(): void {
  stopSending()
  if (progressTimer) clearInterval(progressTimer)
  for (const client of clients) client.close()
  // Let the close frames go out, then leave.
  setTimeout(() => process.exit(0), 200).unref()
}

process.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'init':
      connectAll(message).catch((error: unknown) => send({ type: 'fatal', message: String(error) }))
      return
    case 'start':
      return start(message)
    case 'stop-sending':
      return stopSending()
    case 'report':
      return finalReport(message.withStates)
    case 'close':
      return closeAll()
  }
})
process.on('disconnect', () => process.exit(0))
send({ type: 'ready' })
