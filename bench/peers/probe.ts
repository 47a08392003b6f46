/**
 * Preloaded (`--import`) into every Node target the bench starts, the same way
 * for all of them: reports the event-loop delay once a second over the fork
 * IPC channel, and on request reports memory — after a full GC (`gc`; targets
 * start with --expose-gc), so memory per connection is not V8 heap slack, or
 * as it is (`sample`, for soak's memory-over-time). Each memory report also
 * counts the process's open TCP sockets and, where the target registered a
 * counter (bench peers only), its loaded documents.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'

/** A bench peer may put `() => number` (documents loaded) here for the probe to report. */
export const DOCUMENTS_COUNTER = Symbol.for('bench.documentsLoaded')

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
    if (message?.type !== 'gc' && message?.type !== 'sample') return
    if (message.type === 'gc') {
      const gc = (globalThis as { gc?: () => void }).gc
      gc?.()
      gc?.()
    }
    const m = process.memoryUsage()
    // Accepted and outgoing TCP connections (a listening socket is a TCPServerWrap).
    const sockets = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length
    const counter = (globalThis as { [DOCUMENTS_COUNTER]?: () => number })[DOCUMENTS_COUNTER]
    send({ type: 'memory', heapUsed: m.heapUsed, rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers, sockets, documents: counter ? counter() : null })
  })
  // The bench died without stopping us: do not linger as an orphan.
  process.on('disconnect', () => process.exit(0))
  process.channel?.unref()
}
