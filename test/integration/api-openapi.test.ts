import { describe, expect, it } from 'vitest'
import { API_ROUTES } from '../../server/http/api/index.ts'
import { call, httpBase } from '../helpers/rest.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

interface OpenApi {
  openapi: string
  info: { title: string; version: string }
  paths: Record<string, Record<string, { operationId?: string; responses?: Record<string, unknown> }>>
  components?: { securitySchemes?: Record<string, unknown> }
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete']

/** Every documented `METHOD /path` of the description. */
function documented(spec: OpenApi): string[] {
  return Object.entries(spec.paths).flatMap(([path, ops]) => Object.keys(ops).filter((m) => METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${path}`))
}

describe('OpenAPI description', () => {
  it('GET /api/openapi.json is OpenAPI 3.1 and documents exactly the routes the API router knows', async () => {
    const server = await startServer(TOKEN_MODE)
    const r = await call(httpBase(server.url), 'GET', '/api/openapi.json')
    expect(r.status).toBe(200)
    const spec = r.json as unknown as OpenApi
    expect(spec.openapi).toMatch(/^3\.1\./)
    expect(spec.components?.securitySchemes).toHaveProperty('bearer')
    const routes = API_ROUTES.map((route) => `${route.method} ${route.path}`)
    expect(routes.length).toBeGreaterThan(8)
    expect(documented(spec).sort()).toEqual(routes.sort())
    for (const [path, ops] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (!METHODS.includes(method)) continue
        expect(op.operationId, `${method} ${path}`).toBeTruthy()
        expect(Object.keys(op.responses ?? {}).length, `${method} ${path} responses`).toBeGreaterThan(0)
      }
    }
  })

  it('every documented path and method has a real route: it never answers no-route', async () => {
    const server = await startServer(TOKEN_MODE)
    const base = httpBase(server.url)
    const token = await tokenFor('root', { '*': 'admin' })
    const spec = (await call(base, 'GET', '/api/openapi.json')).json as unknown as OpenApi
    for (const entry of documented(spec)) {
      const [method, template] = entry.split(' ') as [string, string]
      const op = spec.paths[template]![method.toLowerCase()] as { responses?: Record<string, { content?: Record<string, unknown> }> }
      // A stream never ends by itself: asked with a bad cursor, it answers at once (400), and that is its route answering.
      const streaming = op.responses?.['200']?.content?.['text/event-stream'] !== undefined
      const path = template.replace('{name}', encodeURIComponent('docs/sample')).replace('{id}', '1') + (streaming ? '?since=not-a-cursor' : '')
      const r = await call(base, method, path, { token, ...(method === 'POST' ? { body: {} } : {}) })
      if (streaming) expect(r.json.error, entry).toBe('bad-request')
      expect(r.json.error, `${entry} answered ${r.status}`).not.toBe('no-route')
      expect(r.status, entry).not.toBe(405)
      expect(r.status, entry).toBeLessThan(500)
      // Every error is JSON with a stable code.
      if (r.status >= 400) expect(typeof r.json.error, entry).toBe('string')
    }
    // And a path it does not document is not served.
    expect((await call(base, 'GET', '/api/documents/x/unknown', { token })).json.error).toBe('no-route')
  })
})
