/**
 * The web page against a server with JWT authentication, in headless
 * Chromium: a `?token=` opens the room (and leaves the address bar), the
 * token's identity is who you are on the page and to the others; a page
 * without a valid token, or with one that does not open the room, says so.
 */
import { describe, expect, it } from 'vitest'
import { badge, pageUrl, watchedPage, useBrowser } from '../helpers/browser.ts'
import { startServer } from '../helpers/server.ts'
import { sign, TOKEN_MODE } from '../helpers/tokens.ts'

const WAIT = { timeout: 30_000, interval: 50 }

describe('web page: tokens', () => {
  const browser = useBrowser()

  /** A fresh context with the page at `room`, with `token` in the address (if any). */
  async function visit(url: string, room: string, token?: string) {
    const context = await browser.get().newContext()
    const watched = await watchedPage(context)
    await watched.page.goto(pageUrl(url, room, token ? { token } : {}))
    return { ...watched, context, close: () => context.close() }
  }

  it('a token from the address opens the room, and its name is who you are to everyone', async () => {
    const server = await startServer(TOKEN_MODE)
    const ada = await visit(server.url, 'team/notes', await sign({ sub: 'ada', name: 'Ada L.', color: '#0f766e', docs: { 'team/*': 'write' } }))
    const bob = await visit(server.url, 'team/notes', await sign({ sub: 'bob', name: 'Bob', docs: { 'team/*': 'write' } }))
    try {
      await expect.poll(() => badge(ada.page), WAIT).toBe('saved')
      expect(new URL(ada.page.url()).searchParams.has('token')).toBe(false)
      expect(await ada.page.locator('#name-input').inputValue()).toBe('Ada L.')
      expect(await ada.page.locator('#name-input').getAttribute('readonly')).not.toBeNull()

      await ada.page.locator('#chat-input').fill('Signed in with a token')
      await ada.page.locator('#chat-input').press('Enter')
      const atBob = bob.page.locator('.msg', { hasText: 'Signed in with a token' })
      await expect.poll(() => atBob.getAttribute('data-author'), WAIT).toBe('ada')
      expect(await atBob.locator('.msg-name').innerText()).toBe('Ada L.')
      await expect.poll(() => bob.page.locator('.person:not([data-self]) .person-name').allInnerTexts(), WAIT).toEqual(['Ada L.'])
      // The token stays for the tab: a reload is still signed in.
      await ada.page.reload()
      await expect.poll(() => badge(ada.page), WAIT).toBe('saved')
      expect(ada.errors).toEqual([])
      expect(bob.errors).toEqual([])
    } finally {
      await ada.close()
      await bob.close()
    }
  }, 120_000)

  it('without a valid token, or with one for other rooms, the page says it was refused', async () => {
    const server = await startServer(TOKEN_MODE)
    const anonymous = await visit(server.url, 'team/notes')
    const outsider = await visit(server.url, 'team/notes', await sign({ sub: 'eve', name: 'Eve', docs: { 'other/*': 'write' } }))
    try {
      await expect.poll(() => badge(anonymous.page), WAIT).toBe('refused')
      await expect.poll(() => anonymous.page.locator('#notice').isVisible(), WAIT).toBe(true)
      expect(await anonymous.page.locator('#notice').innerText()).toContain('Token')
      await expect.poll(() => badge(outsider.page), WAIT).toBe('refused')
      expect(await outsider.page.locator('#badge').innerText()).toBe('No access to this room')
      expect(anonymous.errors).toEqual([])
      expect(outsider.errors).toEqual([])
    } finally {
      await anonymous.close()
      await outsider.close()
    }
  }, 120_000)
})
