/**
 * The server serves the built web page at `/` (server/http/static.ts): the
 * right content types and cache headers, no way out of the page's folder, a
 * clear 404 while the page is not built; `npm start` rebuilds a stale page.
 */
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { demoIsStale } from '../../scripts/build-demo.ts'
import { addStaticRoutes } from '../../server/http/static.ts'
import { Router } from '../../server/http/router.ts'
import { ensureDemoBuilt } from '../helpers/browser.ts'
import { startServer, tempDir } from '../helpers/server.ts'

/** A raw request: the path goes on the wire exactly as given (fetch would normalise it). */
function raw(port: number, path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** A bare HTTP server with only the static routes on `root`. */
async function staticServer(root: string): Promise<number> {
  const router = new Router()
  addStaticRoutes(router, { root })
  const server = createServer((req, res) => void router.handle(req, res, (error) => console.error(error)))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return (server.address() as AddressInfo).port
}

describe('the web page over HTTP', () => {
  beforeAll(async () => {
    await ensureDemoBuilt()
  }, 300_000)

  it('GET / serves the built page (not cached) and its hashed assets (cached for good) with the right types', async () => {
    const server = await startServer()
    const http = server.url.replace(/^ws/, 'http').replace(/\/ws$/, '')
    const page = await fetch(`${http}/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(page.headers.get('cache-control')).toBe('no-cache')
    expect(page.headers.get('x-content-type-options')).toBe('nosniff')
    const html = await page.text()
    expect(html).toContain('id="prosemirror"')
    const script = /<script[^>]+src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1]
    const style = /<link[^>]+href="\.\/(assets\/[^"]+\.css)"/.exec(html)?.[1]
    expect(script, 'the page loads a hashed script').toBeDefined()
    expect(style, 'the page loads a hashed stylesheet').toBeDefined()
    const js = await fetch(`${http}/${script}`)
    expect(js.status).toBe(200)
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect((await js.text()).length).toBeGreaterThan(1000)
    const css = await fetch(`${http}/${style}`)
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8')
    // A revalidation of the page is answered without a body.
    const etag = page.headers.get('etag')
    expect(etag).toBeTruthy()
    expect((await fetch(`${http}/`, { headers: { 'if-none-match': etag! } })).status).toBe(304)
    // Other routes are untouched.
    expect((await fetch(`${http}/healthz`)).status).toBe(200)
    expect((await fetch(`${http}/assets/nope.js`)).status).toBe(404)
  })

  it('never serves a file outside the page folder, however the path is spelt', async () => {
    const dir = tempDir('collab-static-')
    const root = join(dir, 'site')
    mkdirSync(join(root, 'assets'), { recursive: true })
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>page</title>')
    writeFileSync(join(root, 'assets', 'app-abc123.js'), 'console.log(1)')
    writeFileSync(join(dir, 'secret.txt'), 'TOP SECRET')
    const port = await staticServer(root)

    expect((await raw(port, '/assets/app-abc123.js')).body).toBe('console.log(1)')
    for (const path of [
      '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/assets/..%5c..%5csecret.txt',
      '/assets/../../secret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/assets//etc/passwd',
      '/assets/%00',
      '/assets/%E0%A4%A',
      '/assets/',
    ]) {
      const res = await raw(port, path)
      expect(res.body, path).not.toContain('TOP SECRET')
      expect([400, 404], `${path} -> ${res.status}`).toContain(res.status)
    }
    const head = await raw(port, '/', 'HEAD')
    expect(head.status).toBe(200)
    expect(head.body).toBe('')
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0)
  })

  it('answers 404 with a hint while the page is not built, and serves it once it is, without a restart', async () => {
    const root = join(tempDir('collab-static-'), 'dist')
    const port = await staticServer(root)
    const missing = await raw(port, '/')
    expect(missing.status).toBe(404)
    expect(missing.body).toContain('npm run build:demo')
    mkdirSync(root)
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>now built</title>')
    expect((await raw(port, '/')).body).toContain('now built')
  })

  it('npm start rebuilds the page only when it is missing or older than its sources', () => {
    const out = tempDir('collab-demo-out-')
    expect(demoIsStale(out)).toBe(true)
    writeFileSync(join(out, 'index.html'), '<!doctype html>')
    utimesSync(join(out, 'index.html'), new Date('2000-01-01'), new Date('2000-01-01'))
    expect(demoIsStale(out)).toBe(true)
    const future = new Date(Date.now() + 3600_000)
    utimesSync(join(out, 'index.html'), future, future)
    expect(demoIsStale(out)).toBe(false)
    const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts
    expect(scripts.prestart).toBe('node scripts/build-demo.ts --if-stale')
    expect(scripts['build:demo']).toBe('node scripts/build-demo.ts')
  })
})
