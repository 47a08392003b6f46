/**
 * CORS for /api as a real browser (Debian Chromium) meets it: a page from
 * another origin cannot delete a document on an open-mode server, neither
 * with a preflighted DELETE nor with a POST that needs no preflight; a page
 * from a listed origin can.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { launchBrowser, watchedPage } from '../helpers/browser.ts'
import { appendText, call, docPath, httpBase } from '../helpers/rest.ts'
import { startServer } from '../helpers/server.ts'

/** Another web site on loopback (another port is another origin): one empty page. Returns its origin. */
async function otherSite(): Promise<string> {
  const site = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>other site</title>'))
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve))
  onTestFinished(() => new Promise<void>((resolve) => site.close(() => resolve())))
  return `http://127.0.0.1:${(site.address() as AddressInfo).port}`
}

/** Open `origin` in a fresh context and run `fetch(url, init)` there; resolves with the status, or 'blocked' when the browser refused. */
async function fetchFrom(browser: Browser, origin: string, url: string, init: { method: string; headers?: Record<string, string>; body?: string }): Promise<number | 'blocked'> {
  const context = await browser.newContext()
  onTestFinished(() => context.close())
  const { page } = await watchedPage(context)
  await page.goto(origin)
  return page.evaluate(async ([u, i]) => {
    try {
      return (await fetch(u, i)).status
    } catch {
      return 'blocked' as const
    }
  }, [url, init] as const)
}

let browser: Browser
beforeAll(async () => {
  browser = await launchBrowser()
}, 120_000)
afterAll(async () => {
  await browser?.close()
})

describe('CORS in a real browser', () => {
  it('a page from an unlisted origin cannot delete or restore; the document stays', async () => {
    const evil = await otherSite()
    const server = await startServer() // open mode, ALLOWED_ORIGINS empty
    const base = httpBase(server.url)
    expect((await call(base, 'POST', docPath('victim', '/updates'), { body: appendText('keep me') })).status).toBe(200)
    expect((await call(base, 'POST', docPath('victim', '/versions'), { body: { label: 'v1' } })).status).toBe(201)

    // A DELETE is preflighted: the preflight is refused, the DELETE never sent.
    expect(await fetchFrom(browser, evil, base + docPath('victim'), { method: 'DELETE' })).toBe('blocked')
    // A text/plain POST goes out without asking first: the server refuses it before it does anything.
    expect(await fetchFrom(browser, evil, base + docPath('victim', '/versions/1/restore'), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '' })).toBe('blocked')

    const versions = await call(base, 'GET', docPath('victim', '/versions'))
    expect((versions.json.versions as unknown[]).length).toBe(1) // no pre-restore version: the restore never ran
    expect((await call(base, 'GET', docPath('victim'))).json.types).toEqual({ codemirror: 'keep me' })
  })

  it('a page from a listed origin may', async () => {
    const app = await otherSite()
    const server = await startServer({ allowedOrigins: [app] })
    const base = httpBase(server.url)
    expect((await call(base, 'POST', docPath('doc', '/updates'), { body: appendText('x') })).status).toBe(200)
    expect(await fetchFrom(browser, app, base + docPath('doc'), { method: 'DELETE' })).toBe(204)
    expect((await call(base, 'GET', docPath('doc'))).status).toBe(404)
  })
})
