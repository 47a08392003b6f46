import { describe, expect, it } from 'vitest'
import { provider, settled } from '../helpers/clients.ts'
import { startServer } from '../helpers/server.ts'

const http = (wsUrl: string, path: string) => fetch(wsUrl.replace('ws://', 'http://').replace(/\/ws$/, path))

/** One sample's value from Prometheus text, matched by metric name and label text. */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(name) && (labels === '' || l.includes(labels)) && !l.startsWith('#'))
  return line ? Number(line.split(' ').at(-1)) : NaN
}

describe('operations endpoints', () => {
  it('/healthz reports status, version, uptime, documents and connections', async () => {
    const server = await startServer()
    const p = provider(server.url, 'h')
    await settled(p)
    const res = await http(server.url, '/healthz')
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(body).toMatchObject({ status: 'ok', documents: 1, connections: 1 })
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/)
    expect(body.uptimeSeconds).toBeGreaterThanOrEqual(0)
  })

  it('/readyz is 200 with writable storage', async () => {
    const server = await startServer()
    const res = await http(server.url, '/readyz')
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'ready', checks: { storage: 'ok' } })
  })

  it('/metrics moves when clients edit', async () => {
    const server = await startServer()
    const before = await (await http(server.url, '/metrics')).text()
    expect(before).toContain('# TYPE collab_connections gauge')
    expect(sample(before, 'collab_connections')).toBe(0)

    const p = provider(server.url, 'm')
    await settled(p)
    for (let i = 0; i < 10; i++) p.document.getText('t').insert(0, 'x')
    await settled(p)

    const res = await http(server.url, '/metrics')
    expect(res.headers.get('content-type')).toContain('text/plain')
    const after = await res.text()
    expect(sample(after, 'collab_connections')).toBe(1)
    expect(sample(after, 'collab_documents_loaded')).toBe(1)
    expect(sample(after, 'collab_messages_received_total', 'type="sync"')).toBeGreaterThanOrEqual(10)
    expect(sample(after, 'collab_messages_sent_total', 'type="sync_status"')).toBeGreaterThanOrEqual(10)
    expect(sample(after, 'collab_bytes_received_total')).toBeGreaterThan(0)
    expect(sample(after, 'collab_bytes_sent_total')).toBeGreaterThan(0)
    expect(sample(after, 'collab_persist_seconds_count')).toBeGreaterThanOrEqual(10)
    expect(sample(after, 'collab_update_apply_seconds_count')).toBeGreaterThanOrEqual(10)
    expect(after).toContain('nodejs_eventloop_lag_seconds')
    expect(after).toContain('process_resident_memory_bytes')
  })

  it('/metrics counts rejected messages by reason', async () => {
    const server = await startServer()
    const ws = new WebSocket(server.url)
    await new Promise((r) => ws.addEventListener('open', r))
    ws.send('text is not allowed')
    await new Promise((r) => ws.addEventListener('close', r))
    const text = await (await http(server.url, '/metrics')).text()
    expect(sample(text, 'collab_messages_rejected_total', 'reason="text-frame"')).toBe(1)
  })
})
