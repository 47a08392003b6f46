/**
 * How many documents a target has loaded and how many connections it holds:
 * from its /metrics (this server: collab_documents_loaded, collab_connections)
 * or, for the other targets, from the probe (documents where the bench peer
 * registered a counter, else null; open TCP sockets as connections).
 */
import { get } from 'node:http'
import type { Leftover } from './leak-gate.ts'
import type { MemorySample, RunningTarget } from './spawn.ts'

function scrape(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // No keep-alive agent: a scrape must not leave a socket open in the target it counts.
    const req = get({ host: '127.0.0.1', port, path: '/metrics', agent: false, timeout: 10_000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`/metrics answered ${res.statusCode}`))))
    })
    req.on('timeout', () => req.destroy(new Error('/metrics did not answer within 10 s')))
    req.on('error', reject)
  })
}

/** A gauge's value in Prometheus text format, or null if absent. */
export function gauge(text: string, name: string): number | null {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)
  return match ? Number(match[1]) : null
}

/** `probe`: a memory report taken just before, for targets without /metrics (a fresh one is asked for if absent). */
export async function counts(target: RunningTarget, probe?: MemorySample): Promise<Leftover> {
  if (target.spec.metrics) {
    const text = await scrape(target.port)
    return { documents: gauge(text, 'collab_documents_loaded'), connections: gauge(text, 'collab_connections') }
  }
  const m = probe ?? (await target.sample())
  return { documents: m.documents, connections: m.sockets }
}
