/**
 * Preloaded (`--import`) into every Node target the bench starts, the same way
 * for all of them: reports the event-loop delay once a second over the fork
 * IPC channel, and on request runs a full GC (targets start with --expose-gc)
 * and reports live heap, so memory per connection is not V8 heap slack.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'

const RESOLUTION_MS = 10
const lag = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
lag.enable()
/** The histogram holds timer intervals; the delay is what exceeds the resolution. */
const delay = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS)

if (process.send) {
  const send = process.send.bind(process)
  setInterval(() => {
    send({ type: 'lag', p50: delay(lag.percentile(50)), p99: delay(lag.percentile(99)), max: delay(lag.max) })
    lag.reset()
  }, 1000).unref()
  process.on('message', (message: { type?: string }) => {
    if (message?.type !== 'gc') return
    const gc = (globalThis as { gc?: () => void }).gc
    gc?.()
    gc?.()
    const m = process.memoryUsage()
    send({ type: 'memory', heapUsed: m.heapUsed, rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers })
  })
  // The bench died without stopping us: do not linger as an orphan.
  process.on('disconnect', () => process.exit(0))
  process.channel?.unref()
}
