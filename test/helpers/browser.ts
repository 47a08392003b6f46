/**
 * Real-browser helpers for the web page tests: headless Debian Chromium
 * (/usr/bin/chromium, never a downloaded browser) through playwright-core,
 * the page built once (scripts/build-demo.ts), console errors collected per
 * page, screenshots into test-results/screenshots/.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, onTestFinished } from 'vitest'
import { buildDemo } from '../../scripts/build-demo.ts'

/** Where screenshots go (git-ignored). */
export const SCREENSHOTS = join('test-results', 'screenshots')

/** Flags that work as root on these machines (FACTS.md): no sandbox, no GPU, no calls home. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
]

/** Build client/demo/dist if it is missing or older than its sources (once per process, shared between workers by a lock). */
let built: Promise<boolean> | undefined
export function ensureDemoBuilt(): Promise<boolean> {
  built ??= buildDemo({ ifStale: true, quiet: true })
  return built
}

/**
 * Headless Chromium. Playwright gives every launched browser a new, empty
 * user-data directory of its own (and removes it on close); each context in it
 * is isolated further (own storage, IndexedDB, cookies).
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS, timeout: 60_000 })
}

/** A page and the errors it reported (console errors and uncaught exceptions). */
export interface WatchedPage {
  page: Page
  errors: string[]
}

/** A new page in `context` that records its console errors and uncaught exceptions. */
export async function watchedPage(context: BrowserContext): Promise<WatchedPage> {
  const page = await context.newPage()
  const errors: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`)
  })
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`))
  page.setDefaultTimeout(30_000)
  return { page, errors }
}

/** The page's http:// URL on the test server for `room`, as user `name`. */
export function pageUrl(wsUrl: string, room: string, params: Record<string, string> = {}): string {
  const base = wsUrl.replace(/^ws/, 'http').replace(/\/ws$/, '/')
  const query = new URLSearchParams({ room, ...params })
  return `${base}?${query}`
}

/** A person at the page: their context (own storage), page and errors. */
export interface Visitor extends WatchedPage {
  context: BrowserContext
}

/**
 * A new isolated context (closed when the test ends) with the page open in
 * `room` as `name` (stored as the page stores a picked name), once it is synced.
 * `setup` runs on the context before the page opens (e.g. to route its sockets).
 */
export async function openAs(
  browser: Browser,
  wsUrl: string,
  room: string,
  name: string,
  options: { setup?: (context: BrowserContext) => Promise<unknown> } = {},
): Promise<Visitor> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  onTestFinished(() => context.close())
  await options.setup?.(context)
  await context.addInitScript((n) => {
    if (!localStorage.getItem('collab-demo:name')) localStorage.setItem('collab-demo:name', n)
  }, name)
  const watched = await watchedPage(context)
  await watched.page.goto(pageUrl(wsUrl, room))
  await watched.page.locator('#badge[data-state="saved"]').waitFor()
  return { ...watched, context }
}

/** The page's badge state (`data-state`). */
export function badge(page: Page): Promise<string | null> {
  return page.locator('#badge').getAttribute('data-state')
}

/** The room's shared types as the page's client holds them (through the page's `collab` console handle). */
export function shared(page: Page): Promise<{ prosemirror: string; codemirror: string; chat: string[] }> {
  return page.evaluate(() => {
    const { room } = (globalThis as unknown as { collab: { room: import('../../client/index.ts').Room } }).collab
    return {
      prosemirror: room.prosemirror.toString(),
      codemirror: room.codemirror.toString(),
      chat: room.chat.messages().map((m) => m.text),
    }
  })
}

/** Save a screenshot of `page` as test-results/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  const path = join(SCREENSHOTS, `${name}.png`)
  await page.screenshot({ path })
  return path
}

/**
 * One headless Chromium for a test file: the page is built (if stale) and the
 * browser launched before the file's tests, and closed after them.
 */
export function useBrowser(): { get(): Browser } {
  let browser: Browser | undefined
  beforeAll(async () => {
    await ensureDemoBuilt()
    browser = await launchBrowser()
  }, 300_000)
  afterAll(async () => {
    await browser?.close()
  })
  return {
    get() {
      if (!browser) throw new Error('the browser is not launched yet')
      return browser
    },
  }
}
