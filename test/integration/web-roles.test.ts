/**
 * The page tells the truth about roles and refusals, in headless Chromium: a
 * reader (a token with the read role) sees both editors and the chat box
 * read-only, marked so and told why, and cannot change anything; each refusal
 * shows the advice that fits its close code (a bad room name is not a token problem).
 */
import { describe, expect, it } from 'vitest'
import { CloseCode } from '../../client/protocol.ts'
import { badge, pageUrl, screenshot, shared, useBrowser, watchedPage } from '../helpers/browser.ts'
import { startServer } from '../helpers/server.ts'
import { sign, TOKEN_MODE } from '../helpers/tokens.ts'

const WAIT = { timeout: 30_000, interval: 50 }

describe('web page: roles and refusals', () => {
  const browser = useBrowser()

  async function visit(url: string, room: string, token?: string) {
    const context = await browser.get().newContext({ viewport: { width: 1280, height: 800 } })
    const watched = await watchedPage(context)
    await watched.page.goto(pageUrl(url, room, token ? { token } : {}))
    return { ...watched, close: () => context.close() }
  }

  it('a reader sees read-only editors and chat, marked and explained, and cannot type into them', async () => {
    const server = await startServer(TOKEN_MODE)
    const rita = await visit(server.url, 'team/notes', await sign({ sub: 'rita', name: 'Rita', docs: { 'team/*': 'read' } }))
    const wes = await visit(server.url, 'team/notes', await sign({ sub: 'wes', name: 'Wes', docs: { 'team/*': 'write' } }))
    try {
      await expect.poll(() => badge(rita.page), WAIT).toBe('saved')
      await expect.poll(() => rita.page.locator('#readonly-mark').isVisible(), WAIT).toBe(true)
      expect(await rita.page.locator('#readonly-mark').innerText()).toContain('read role')
      expect(await rita.page.locator('.ro-tag:visible').count()).toBe(3)
      expect(await rita.page.locator('#prosemirror .ProseMirror').getAttribute('contenteditable')).toBe('false')
      expect(await rita.page.locator('#codemirror .cm-content').getAttribute('contenteditable')).toBe('false')
      expect(await rita.page.locator('#chat-input').isDisabled()).toBe(true)
      expect(await wes.page.locator('#readonly-mark').isHidden()).toBe(true)

      // Rita tries all three.
      await rita.page.locator('#prosemirror .ProseMirror').click()
      await rita.page.keyboard.type('rita was here')
      await rita.page.locator('#codemirror .cm-content').click()
      await rita.page.keyboard.type('rita code')
      await rita.page.locator('#chat-input').click({ force: true })
      await rita.page.keyboard.type('rita says hi')
      await rita.page.keyboard.press('Enter')
      // Barrier: a later edit by Wes reaches Rita; nothing of hers is anywhere.
      await wes.page.locator('#codemirror .cm-content').click()
      await wes.page.keyboard.type('wes code')
      await expect.poll(async () => (await shared(rita.page)).codemirror, WAIT).toBe('wes code')
      expect(await shared(rita.page)).toMatchObject({ prosemirror: expect.not.stringContaining('rita'), chat: [] })
      expect(await shared(wes.page)).toMatchObject({ codemirror: 'wes code', prosemirror: expect.not.stringContaining('rita'), chat: [] })
      expect(await badge(rita.page)).toBe('saved')
      await screenshot(rita.page, 'read-only')
      expect(rita.errors).toEqual([])
      expect(wes.errors).toEqual([])
    } finally {
      await rita.close()
      await wes.close()
    }
  }, 120_000)

  it('a bad room name gets the advice for an invalid name, not a token problem; a missing token the token advice', async () => {
    const server = await startServer(TOKEN_MODE)
    const badName = await visit(server.url, 'a/../b', await sign({ sub: 'ada', docs: { '*': 'write' } }))
    const noToken = await visit(server.url, 'team/notes')
    try {
      await expect.poll(() => badge(badName.page), WAIT).toBe('refused')
      await expect.poll(() => badName.page.locator('#notice').getAttribute('data-code'), WAIT).toBe(CloseCode.InvalidDocumentName.reason)
      expect(await badName.page.locator('#notice').innerText()).not.toContain('Token')
      await expect.poll(() => noToken.page.locator('#notice').getAttribute('data-code'), WAIT).toBe(CloseCode.Unauthorized.reason)
      expect(badName.errors).toEqual([])
      expect(noToken.errors).toEqual([])
    } finally {
      await badName.close()
      await noToken.close()
    }
  }, 120_000)
})
