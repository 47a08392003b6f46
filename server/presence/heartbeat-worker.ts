/**
 * The presence heartbeat, in a worker thread with its own Redis connection
 * (started by heartbeat.ts; the design is in docs/protocol.md, "Presence
 * across instances"). Every `heartbeatMs`:
 *
 * - announce: `SET <alive:id> PX deadAfterMs GET`, `SADD <instances> id`, and
 *   keep the `<hosts:id>` record alive (rewritten whole after a failed write).
 *   When the announcement had expired meanwhile (frozen, or cut off from
 *   Redis), the others have given our clients up: tell the main thread.
 * - watch: every other instance in `<instances>` whose `<alive:id>` is gone
 *   is dead; its hosted ids that no live instance hosts now are sent to the
 *   main thread, once. Its entry leaves `<instances>` when its record expires.
 */
import { hostname } from 'node:os'
import { parentPort, workerData } from 'node:worker_threads'
import { Redis } from 'ioredis'
import type { FromWorker, HeartbeatWorkerData, ToWorker } from './heartbeat.ts'
import { type HostedEntry, hostedMember, parseHostedMember, presenceKeys } from './keys.ts'

/** The record of a dead instance outlives its announcement this long, so every survivor reads it. */
const RECORD_GRACE_MS = 60_000

const { url, prefix, instanceId, heartbeatMs, deadAfterMs, restarted } = workerData as HeartbeatWorkerData
const port = parentPort!
const keys = presenceKeys(prefix)
const post = (message: FromWorker) => port.postMessage(message)
// Fail fast while Redis is away (no queue to replay stale beats); reconnect for ever.
const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: (times) => Math.min(100 * times, 1000) })

let down = false
redis.on('error', (error: Error) => {
  if (!down) post({ type: 'log', level: 'warn', msg: 'redis unreachable; not announcing until it is back', err: error.message })
  down = true
})
redis.on('ready', () => {
  if (down) post({ type: 'log', level: 'info', msg: 'redis back' })
  down = false
  setImmediate(runAll)
})

/** Our hosted ids, as Redis should have them. */
const hosted = new Set<string>()
/** Redis may differ from `hosted` (a write failed, or our record expired): rewrite it whole. */
let dirty = true
let beats = 0
/** Dead instances already reported (until they announce themselves again or are cleaned up). */
const reported = new Set<string>()
let stopping = false

port.on('message', (message: ToWorker) => {
  if (message.op === 'stop') return void stop()
  const member = hostedMember(message.documentName, message.clientId)
  if (message.present === hosted.has(member)) return
  if (message.present) hosted.add(member)
  else hosted.delete(member)
  if (dirty) return // the next beat writes it all
  const size = hosted.size
  const write = message.present ? redis.sadd(keys.hosts(instanceId), member) : redis.srem(keys.hosts(instanceId), member)
  write.then(() => recorded(size), () => (dirty = true))
})

/** A write went through: Redis holds the `size` ids we hosted when it was sent (commands complete in order). */
function recorded(size: number): void {
  if (!dirty) post({ type: 'recorded', size })
}

async function announce(): Promise<void> {
  const multi = redis.multi().set(keys.alive(instanceId), `${hostname()}:${process.pid}`, 'PX', deadAfterMs, 'GET').sadd(keys.instances, instanceId)
  const rewrite = dirty
  const size = hosted.size
  if (rewrite) {
    multi.del(keys.hosts(instanceId))
    if (hosted.size > 0) multi.sadd(keys.hosts(instanceId), ...hosted)
  }
  multi.pexpire(keys.hosts(instanceId), deadAfterMs + RECORD_GRACE_MS)
  const results = await multi.exec()
  const failed = results?.find(([error]) => error)
  if (!results || failed) throw failed?.[0] ?? new Error('transaction discarded')
  if (rewrite) {
    dirty = false
    recorded(size)
  }
  const previous = results[0]![1]
  if (beats === 0) post({ type: 'announced' })
  if (previous === null && (beats > 0 || restarted)) {
    post({ type: 'log', level: 'warn', msg: 'our announcement had expired; announcing our clients again' })
    post({ type: 'revived' })
    if (!rewrite) {
      dirty = true // the record may have expired too
      await announce()
    }
  }
  beats += 1
}

async function watch(): Promise<void> {
  const others = (await redis.smembers(keys.instances)).filter((id) => id !== instanceId)
  if (others.length === 0) return
  const alive = await Promise.all(others.map((id) => redis.exists(keys.alive(id))))
  const live = others.filter((_, i) => alive[i] === 1)
  for (const id of live) reported.delete(id)
  for (const id of others.filter((_, i) => alive[i] !== 1)) {
    if (reported.has(id)) {
      if ((await redis.exists(keys.hosts(id))) === 0) {
        await redis.srem(keys.instances, id)
        reported.delete(id)
      }
      continue
    }
    let members = await redis.smembers(keys.hosts(id))
    // An id that moved to a live instance (its client reconnected there) stays.
    for (const other of live) {
      if (members.length === 0) break
      const there = await redis.smismember(keys.hosts(other), ...members)
      members = members.filter((_, i) => there[i] !== 1)
    }
    reported.add(id)
    const entries = members.map(parseHostedMember).filter((e): e is HostedEntry => e !== undefined)
    post({ type: 'dead', instanceId: id, entries, decidedAt: Date.now() })
  }
}

/** Run `task` every `heartbeatMs` while Redis is connected, never two at once. */
function every(task: () => Promise<void>, what: string): { run: () => void; timer: NodeJS.Timeout } {
  let busy = false
  let failing = false
  const run = () => {
    if (busy || stopping || redis.status !== 'ready') return
    busy = true
    task()
      .then(() => (failing = false))
      .catch((error: unknown) => {
        if (!failing) post({ type: 'log', level: 'error', msg: `${what} failed`, err: error instanceof Error ? error.message : String(error) })
        failing = true
      })
      .finally(() => (busy = false))
  }
  return { run, timer: setInterval(run, heartbeatMs) }
}

const tasks = [every(announce, 'announcing'), every(watch, 'watching the other instances')]
function runAll(): void {
  for (const task of tasks) task.run()
}

async function stop(): Promise<void> {
  stopping = true
  for (const task of tasks) clearInterval(task.timer)
  try {
    await redis.multi().del(keys.alive(instanceId)).del(keys.hosts(instanceId)).srem(keys.instances, instanceId).exec()
  } catch (error) {
    post({ type: 'log', level: 'warn', msg: 'could not withdraw the announcement; it expires by itself', err: error instanceof Error ? error.message : String(error) })
  }
  redis.disconnect()
  port.close()
}
