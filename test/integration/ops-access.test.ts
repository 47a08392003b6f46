/**
 * Who may read the operations endpoints: /metrics needs METRICS_TOKEN once
 * authentication is configured; /healthz and /readyz stay open and say
 * nothing about documents or errors (the detail goes to the log).
 */
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { describe, expect, it, vi } from 'vitest'
import { ApiErrorCode } from '../../server/http/api/errors.ts'
import { provider, settled } from '../helpers/clients.ts'
import { freePort } from '../helpers/process.ts'
import { httpBase } from '../helpers/rest.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

const METRICS_TOKEN = 'metrics-token-0123456789-abcdefghijklmnop'

async function get(base: string, path: string, bearer?: string) {
  const res = await fetch(base + path, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} })
  const text = await res.text()
  return { status: res.status, text, json: (res.headers.get('content-type') ?? '').includes('json') ? (JSON.parse(text) as Record<string, unknown>) : {} }
}

describe('/metrics access', () => {
  it('with a token key and no METRICS_TOKEN, /metrics is not served, not even to a valid user token', async () => {
    const server = await startServer(TOKEN_MODE)
    const base = httpBase(server.url)
    const anonymous = await get(base, '/metrics')
    expect(anonymous.status).toBe(401)
    expect(anonymous.json.error).toBe(ApiErrorCode.Unauthorized)
    expect(anonymous.text).not.toContain('collab_connections')
    const user = await tokenFor('ada', { '*': 'admin' })
    expect((await get(base, '/metrics', user)).status).toBe(401)
    expect((await get(base, '/healthz')).status).toBe(200)
    expect((await get(base, '/readyz')).status).toBe(200)
  })

  it('METRICS_TOKEN: only a request bearing it gets the metrics', async () => {
    const server = await startServer({ ...TOKEN_MODE, metricsToken: METRICS_TOKEN })
    const base = httpBase(server.url)
    expect((await get(base, '/metrics')).status).toBe(401)
    expect((await get(base, '/metrics', `${METRICS_TOKEN}x`)).status).toBe(401)
    const ok = await get(base, '/metrics', METRICS_TOKEN)
    expect(ok.status).toBe(200)
    expect(ok.text).toContain('# TYPE collab_connections gauge')
  })

  it('METRICS_TOKEN in open mode too; without it open mode serves /metrics as before', async () => {
    const guarded = await startServer({ metricsToken: METRICS_TOKEN })
    expect((await get(httpBase(guarded.url), '/metrics')).status).toBe(401)
    expect((await get(httpBase(guarded.url), '/metrics', METRICS_TOKEN)).status).toBe(200)
    const open = await startServer()
    expect((await get(httpBase(open.url), '/metrics')).status).toBe(200)
  })
})

describe('/healthz and /readyz reveal nothing', () => {
  it('no document names in either', async () => {
    const server = await startServer()
    await settled(provider(server.url, 'private/plans-2027'))
    const health = await get(httpBase(server.url), '/healthz')
    expect(health.json).toMatchObject({ status: 'ok', documents: 1 })
    expect(health.text).not.toContain('plans-2027')
    expect((await get(httpBase(server.url), '/readyz')).text).not.toContain('plans-2027')
  })

  it('a failing storage check says which check failed, not the error (it names the database host); the log has it', async () => {
    const lines: Array<{ msg: string; check?: string; detail?: string }> = []
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) })
    const port = await freePort() // nothing listens there
    const server = await startServer({ databaseUrl: `postgres://collab@127.0.0.1:${port}/db` }, { logger: pino({ level: 'info' }, sink) })
    const ready = await get(httpBase(server.url), '/readyz')
    expect(ready.status).toBe(503)
    expect(ready.json).toEqual({ status: 'unavailable', checks: { storage: 'failing', loads: 'ok' } })
    expect(ready.text).not.toContain(String(port))
    await vi.waitFor(() => expect(lines.find((l) => l.check === 'storage')?.detail).toContain(String(port)))
  })
})
