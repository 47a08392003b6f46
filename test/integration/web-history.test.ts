/**
 * The page's History panel in headless Chromium, on the REST API: versions
 * (named and automatic) newest first and paged; saving a named version;
 * comparing a version with now; restoring one as an admin after a
 * confirmation, with the pre-restore version listed after. Labels and diff
 * lines are shown as text, never as HTML. Only the actions the token allows are offered.
 */
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import type { Room } from '../../client/index.ts'
import { badge, openAs, pageUrl, screenshot, shared, useBrowser, watchedPage } from '../helpers/browser.ts'
import { call, docPath, httpBase } from '../helpers/rest.ts'
import { startServer } from '../helpers/server.ts'
import { sign, TOKEN_MODE } from '../helpers/tokens.ts'

const WAIT = { timeout: 30_000, interval: 50 }

/** Change the page's code text in one transaction (one change, so at most one automatic version), and wait until it is stored. */
async function setCode(page: Page, text: string): Promise<void> {
  await page.evaluate((t) => {
    const { room } = (globalThis as unknown as { collab: { room: Room } }).collab
    room.doc.transact(() => {
      room.codemirror.delete(0, room.codemirror.length)
      room.codemirror.insert(0, t)
    })
  }, text)
  await expect.poll(() => badge(page), WAIT).toBe('saved')
}

const titles = (page: Page) => page.locator('#history-list .version .version-title').allInnerTexts()

async function saveVersion(page: Page, label: string): Promise<void> {
  await page.locator('#history-label').fill(label)
  await page.locator('#history-save button[type="submit"]').click()
  await expect.poll(async () => (await titles(page))[0], WAIT).toBe(label)
}

describe('web page: history', () => {
  const browser = useBrowser()

  it('lists named and automatic versions, newest first, a page at a time', async () => {
    const server = await startServer({ versionEveryMs: 200 })
    const base = httpBase(server.url)
    const ada = await openAs(browser.get(), server.url, 'story', 'Ada')
    await setCode(ada.page, 'first draft')
    await expect.poll(async () => ((await call(base, 'GET', docPath('story', '/versions'))).json.versions as unknown[]).length, WAIT).toBe(1)
    for (let i = 1; i <= 24; i++) expect((await call(base, 'POST', docPath('story', '/versions'), { body: { label: `v${i}` } })).status).toBe(201)

    await ada.page.locator('#history-refresh').click()
    await expect.poll(() => ada.page.locator('#history-list .version').count(), WAIT).toBe(20)
    expect((await titles(ada.page)).slice(0, 3)).toEqual(['v24', 'v23', 'v22'])
    await ada.page.locator('#history-more').click()
    await expect.poll(() => ada.page.locator('#history-list .version').count(), WAIT).toBe(25)
    expect(await ada.page.locator('#history-more').isHidden()).toBe(true)
    const last = ada.page.locator('#history-list .version').last()
    expect(await last.getAttribute('data-kind')).toBe('auto')
    expect(await last.locator('.version-title').innerText()).toBe('Automatic version')
    expect(ada.errors).toEqual([])
  }, 120_000)

  it('saves a named version; its label is shown as text, never as HTML', async () => {
    const server = await startServer()
    const ada = await openAs(browser.get(), server.url, 'labels', 'Ada')
    await setCode(ada.page, 'some code')
    const label = '<img src=x onerror="window.__pwned=1">Draft & <b>bold</b>'
    await saveVersion(ada.page, label)
    expect(await ada.page.locator('#history-list img, #history-list b').count()).toBe(0)
    expect(await ada.page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined()
    const listed = (await call(httpBase(server.url), 'GET', docPath('labels', '/versions'))).json.versions as Array<{ label: string }>
    expect(listed.map((v) => v.label)).toEqual([label])
    expect(ada.errors).toEqual([])
  }, 120_000)

  it('compares a version with now: lines added and removed per shared type, as text', async () => {
    const server = await startServer()
    const ada = await openAs(browser.get(), server.url, 'diffs', 'Ada')
    await setCode(ada.page, 'alpha\ngamma')
    await saveVersion(ada.page, 'before beta')
    await setCode(ada.page, 'alpha\n<b>beta</b>')
    await ada.page.locator('#history-list .version', { hasText: 'before beta' }).locator('.version-diff').click()
    const code = ada.page.locator('#history-diff .diff-type[data-type="codemirror"]')
    await expect.poll(() => code.locator('.diff-line[data-op="added"] .diff-text').allInnerTexts(), WAIT).toEqual(['<b>beta</b>'])
    expect(await code.locator('.diff-line[data-op="removed"] .diff-text').allInnerTexts()).toEqual(['gamma'])
    expect(await ada.page.locator('#history-diff b').count()).toBe(0)
    await screenshot(ada.page, 'history-diff')
    expect(ada.errors).toEqual([])
  }, 120_000)

  it('an admin restores a version after confirming; everyone gets it, and the pre-restore version is listed', async () => {
    const server = await startServer()
    const ada = await openAs(browser.get(), server.url, 'restore', 'Ada')
    const bob = await openAs(browser.get(), server.url, 'restore', 'Bob')
    await setCode(ada.page, 'the good text')
    await saveVersion(ada.page, 'good')
    await setCode(ada.page, 'VANDALISED')
    await expect.poll(async () => (await shared(bob.page)).codemirror, WAIT).toBe('VANDALISED')

    await ada.page.locator('#history-list .version', { hasText: 'good' }).locator('.version-restore').click()
    const confirm = ada.page.locator('.version-confirm')
    await confirm.waitFor()
    // Asking is all that happened so far: nothing was saved (the list is as before) or changed.
    expect(await titles(ada.page)).toEqual(['good'])
    expect((await shared(ada.page)).codemirror).toBe('VANDALISED')
    await confirm.locator('.version-restore-confirm').click()
    await expect.poll(async () => (await shared(bob.page)).codemirror, WAIT).toBe('the good text')
    await expect.poll(async () => (await shared(ada.page)).codemirror, WAIT).toBe('the good text')
    await expect.poll(() => ada.page.locator('#history-list .version').first().getAttribute('data-kind'), WAIT).toBe('pre-restore')
    expect(await titles(ada.page)).toHaveLength(2)
    expect(ada.errors).toEqual([])
    expect(bob.errors).toEqual([])
  }, 120_000)

  it('offers only what the token allows: readers look, writers save, admins restore', async () => {
    const server = await startServer(TOKEN_MODE)
    const visit = async (sub: string, role: string) => {
      const context = await browser.get().newContext({ viewport: { width: 1280, height: 900 } })
      const watched = await watchedPage(context)
      await watched.page.goto(pageUrl(server.url, 'team/plan', { token: await sign({ sub, docs: { 'team/*': role } }) }))
      await expect.poll(() => badge(watched.page), WAIT).toBe('saved')
      return { ...watched, close: () => context.close() }
    }
    const wes = await visit('wes', 'write')
    const ann = await visit('ann', 'admin')
    const rita = await visit('rita', 'read')
    try {
      await setCode(wes.page, 'plan')
      await saveVersion(wes.page, 'draft')
      expect(await wes.page.locator('.version-restore').count()).toBe(0)
      expect(await wes.page.locator('#history-role').innerText()).toContain('admin role')
      await ann.page.locator('#history-refresh').click()
      await expect.poll(() => ann.page.locator('.version-restore').count(), WAIT).toBe(1)
      await rita.page.locator('#history-refresh').click()
      await expect.poll(() => rita.page.locator('.version-diff').count(), WAIT).toBe(1)
      expect(await rita.page.locator('#history-label').isDisabled()).toBe(true)
      expect(await rita.page.locator('.version-restore').count()).toBe(0)
      for (const visitor of [wes, ann, rita]) expect(visitor.errors).toEqual([])
    } finally {
      await Promise.all([wes.close(), ann.close(), rita.close()])
    }
  }, 120_000)
})
