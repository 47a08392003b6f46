/**
 * soak's load-generator worker (forked by the orchestrator, never inside a
 * server): lanes of clients that keep coming and going, one session at a time
 * per lane, until told to stop. A session opens a socket, authenticates, asks
 * to sync, waits for the whole document and applies it, announces itself (awareness), edits
 * at the plan's rate for a while, then leaves — with a close frame and an
 * awareness removal, by cutting the socket, or (a share of sessions) right
 * after asking to sync, often while the server is still loading the document.
 * It counts what happened; it measures no latency.
 */
import * as decoding from 'lib0/decoding'
import WebSocket from 'ws'
import { Awareness, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { makeEdit, nowUs } from '../lib/edits.ts'
import { AuthType, MessageType, SyncStep, authFrame, awarenessFrame, readFrame, readSync, syncFrame } from '../lib/wire.ts'
import type { ChurnLane, ChurnPlan, ChurnTally, FromWorker, ToWorker } from './messages.ts'

let stopping = false
let tally = emptyTally()
let lanes: Promise<void>[] = []
let progressTimer: NodeJS.Timeout | undefined
/** Pauses in progress, so a stop cuts them short. */
const wakers = new Set<() => void>()
let nextId = 1

function emptyTally(): ChurnTally {
  return { sessions: 0, synced: 0, abandoned: 0, failed: 0, closedByServer: 0, edits: 0, bigSyncs: 0, bytesReceived: 0, open: 0, errors: [] }
}

function send(message: FromWorker): void {
  process.send?.(message)
}

function error(message: string): void {
  if (tally.errors.length < 20) tally.errors.push(message)
}

/** Wait `ms` (pacing the load, not waiting for an outcome), or less if the churn stops. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      wakers.delete(done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    wakers.add(done)
  })
}

const between = ([min, max]: [number, number]) => min + Math.random() * (max - min)

/** One client's visit to one document. Resolves once its socket has closed. */
async function session(p: ChurnPlan, lane: ChurnLane): Promise<void> {
  const name = lane.documents[Math.floor(Math.random() * lane.documents.length)] as string
  const { dialect } = p.target
  const doc = new Y.Doc()
  const awareness = new Awareness(doc)
  const id = nextId++
  const abandon = Math.random() < p.abandonShare
  const abrupt = Math.random() < p.abruptShare
  tally.sessions++
  tally.open++
  const ws = new WebSocket(dialect === 'yws' ? `${p.target.url}/${encodeURIComponent(name)}` : p.target.url, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 })
  ws.binaryType = 'nodebuffer'
  const frame = (bytes: Uint8Array) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(bytes)
  }
  let leaving = false
  let synced = false
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()))
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not synced within ${p.syncTimeoutMs} ms`)), p.syncTimeoutMs)
      const settle = (e?: Error) => {
        clearTimeout(timer)
        if (e) reject(e)
        else resolve()
      }
      ws.on('open', () => {
        if (dialect === 'hocuspocus') frame(authFrame(name, 'bench'))
        frame(syncFrame(dialect, name, SyncStep.Step1, Y.encodeStateVector(doc)))
        if (abandon) {
          tally.abandoned++
          leaving = true
          ws.terminate()
          settle()
        }
      })
      ws.on('message', (data: Buffer) => {
        tally.bytesReceived += data.byteLength
        let f
        try {
          f = readFrame(dialect, data)
        } catch (e) {
          error(`session ${id}: undecodable frame: ${String(e)}`)
          return
        }
        if (f.type === MessageType.Sync || f.type === MessageType.SyncReply) {
          const { step, payload } = readSync(f.decoder)
          if (step === SyncStep.Step1) frame(syncFrame(dialect, name, SyncStep.Step2, Y.encodeStateAsUpdate(doc, payload)))
          // A server may send the state as an update before its answer (this server's cold sync and shared answers).
          else if (step === SyncStep.Update && !synced) Y.applyUpdate(doc, payload)
          else if (step === SyncStep.Step2 && !synced) {
            // Hold the document, as a real client does, so edits append after its content
            // (an empty local doc would insert every first edit at the start with no origin,
            // which makes Yjs scan the whole text on every apply and every compaction).
            Y.applyUpdate(doc, payload)
            synced = true
            settle()
          }
        } else if (f.type === MessageType.Auth && dialect === 'hocuspocus' && decoding.readVarUint(f.decoder) === AuthType.PermissionDenied) {
          settle(new Error('permission denied'))
        }
      })
      ws.on('error', (e) => settle(e))
      ws.on('close', (code) => {
        if (!synced && !leaving) settle(new Error(`closed with ${code} before sync`))
        else if (!leaving) {
          tally.closedByServer++
          error(`session ${id} on ${name} closed by the server (${code})`)
        }
      })
    })
    if (synced) {
      tally.synced++
      if (lane.big) tally.bigSyncs++
      awareness.setLocalState({ user: { name: `soak-${id}` } })
      frame(awarenessFrame(dialect, name, encodeAwarenessUpdate(awareness, [doc.clientID])))
      let update: Uint8Array | undefined
      doc.on('update', (u: Uint8Array) => {
        update = u
      })
      const until = performance.now() + between(lane.holdMs)
      let seq = 0
      while (!stopping && ws.readyState === WebSocket.OPEN && performance.now() < until) {
        await pause(1000 / p.rate)
        if (stopping || ws.readyState !== WebSocket.OPEN) break
        makeEdit(doc, 'text', { sender: id, seq: ++seq, t: nowUs() })
        if (update) frame(syncFrame(dialect, name, SyncStep.Update, update))
        tally.edits++
      }
      leaving = true
      if (abrupt) ws.terminate()
      else {
        removeAwarenessStates(awareness, [doc.clientID], 'leave')
        frame(awarenessFrame(dialect, name, encodeAwarenessUpdate(awareness, [doc.clientID])))
        ws.close(1000)
      }
    }
  } catch (e) {
    tally.failed++
    error(`session ${id} on ${name}: ${e instanceof Error ? e.message : String(e)}`)
    leaving = true
    ws.terminate()
  }
  // A clean close waits for the server's close frame; ws itself cuts it off after 30 s.
  await closed
  awareness.destroy()
  doc.destroy()
  tally.open--
}

async function lane(p: ChurnPlan, l: ChurnLane): Promise<void> {
  // Spread the lanes' first sessions over one hold, so they do not all arrive at once.
  await pause(Math.random() * l.holdMs[1])
  while (!stopping) await session(p, l)
}

function start(p: ChurnPlan): void {
  stopping = false
  tally = emptyTally()
  lanes = p.lanes.map((l) => lane(p, l))
  progressTimer = setInterval(() => send({ type: 'churn-progress', tally }), 1000)
}

async function stop(): Promise<void> {
  stopping = true
  for (const wake of [...wakers]) wake()
  await Promise.all(lanes)
  if (progressTimer) clearInterval(progressTimer)
  send({ type: 'churn-stopped', tally })
}

process.on('message', (message: ToWorker) => {
  if (message.type === 'churn') start(message)
  else if (message.type === 'churn-stop') stop().catch((e: unknown) => send({ type: 'fatal', message: String(e) }))
  else if (message.type === 'close') {
    stopping = true
    for (const wake of [...wakers]) wake()
    Promise.all(lanes).finally(() => process.exit(0))
  }
})
process.on('disconnect', () => process.exit(0))
send({ type: 'ready' })
