/**
 * The web page's editors in headless Chromium, two people in one room:
 * ProseMirror text and formatting reach the other browser with the typist's
 * cursor under their name and colour; CodeMirror edits sync both ways; what
 * was typed is stored by the server and comes back on a reload and after a
 * server restart. No page logs an error.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { colorFor } from '../../client/demo/settings.ts'
import { badge, openAs, screenshot, shared, useBrowser } from '../helpers/browser.ts'
import { startServer, tempDir } from '../helpers/server.ts'

const WAIT = { timeout: 30_000, interval: 50 }

describe('web page: editors', () => {
  const browser = useBrowser()

  it('text typed in ProseMirror appears in the other browser, formatted, with the typist’s cursor in their name and colour', async () => {
    const server = await startServer()
    const ada = await openAs(browser.get(), server.url, 'team/notes', 'Ada')
    const bob = await openAs(browser.get(), server.url, 'team/notes', 'Bob')

    await ada.page.locator('.ProseMirror').click()
    await ada.page.keyboard.type('Hello from Ada, ')
    await ada.page.keyboard.press('Control+b')
    await ada.page.keyboard.type('in bold')

    await expect.poll(() => bob.page.locator('.ProseMirror p').first().innerText(), WAIT).toContain('Hello from Ada, in bold')
    await expect.poll(() => bob.page.locator('.ProseMirror strong').first().innerText(), WAIT).toContain('in bold')
    const cursor = bob.page.locator('.ProseMirror-yjs-cursor')
    await expect.poll(() => cursor.innerText(), WAIT).toContain('Ada')
    expect(await cursor.getAttribute('style')).toContain(`border-color: ${colorFor('Ada')}`)
    // The toolbar is a row of real buttons: Bold shows as pressed where the text is bold.
    expect(await ada.page.getByRole('button', { name: 'Bold (Ctrl+B)' }).getAttribute('aria-pressed')).toBe('true')
    // Both pages hold the same document.
    await expect.poll(async () => (await shared(bob.page)).prosemirror, WAIT).toBe((await shared(ada.page)).prosemirror)

    await screenshot(bob.page, 'editors-remote-cursor')
    expect(ada.errors).toEqual([])
    expect(bob.errors).toEqual([])
  }, 120_000)

  it('the formatting toolbar is one Tab stop: arrows move along it, Enter applies, the other side sees it', async () => {
    const server = await startServer()
    const ada = await openAs(browser.get(), server.url, 'team/format', 'Ada')
    const bob = await openAs(browser.get(), server.url, 'team/format', 'Bob')
    await ada.page.locator('.ProseMirror').click()
    await ada.page.keyboard.type('A heading')
    const focused = () => ada.page.evaluate(() => document.activeElement?.getAttribute('title') ?? document.activeElement?.className ?? '')
    // Shift+Tab from the editor lands on the toolbar (one stop), on its first button.
    await ada.page.keyboard.press('Shift+Tab')
    expect(await focused()).toBe('Bold (Ctrl+B)')
    await ada.page.keyboard.press('ArrowRight')
    expect(await focused()).toBe('Italic (Ctrl+I)')
    for (let i = 0; i < 10 && (await focused()) !== 'Heading 1 (Ctrl+Shift+1)'; i++) await ada.page.keyboard.press('ArrowRight')
    await ada.page.keyboard.press('Enter')
    await expect.poll(() => bob.page.locator('.ProseMirror h1').count(), WAIT).toBe(1)
    expect(await bob.page.locator('.ProseMirror h1').innerText()).toContain('A heading')
    // Applying a format returns to the text; from the toolbar, Tab goes on into the editor, not through every button.
    expect(await focused()).toContain('ProseMirror')
    await ada.page.keyboard.press('Shift+Tab')
    // (Heading 1 is now disabled, being applied: the toolbar's stop moved to the first enabled button.)
    expect(await focused()).toBe('Bold (Ctrl+B)')
    await ada.page.keyboard.press('Tab')
    expect(await focused()).toContain('ProseMirror')
    expect(ada.errors).toEqual([])
    expect(bob.errors).toEqual([])
  }, 120_000)

  it('CodeMirror edits sync both ways and converge, with the other’s cursor labelled', async () => {
    const server = await startServer()
    const ada = await openAs(browser.get(), server.url, 'team/code', 'Ada')
    const bob = await openAs(browser.get(), server.url, 'team/code', 'Bob')

    await bob.page.locator('.cm-content').click()
    await bob.page.keyboard.type('const answer = 42')
    await expect.poll(async () => (await shared(ada.page)).codemirror, WAIT).toBe('const answer = 42')
    await expect.poll(() => ada.page.locator('.cm-content').innerText(), WAIT).toContain('const answer = 42')

    // Both type at once, at opposite ends.
    await ada.page.locator('.cm-content').click()
    await ada.page.keyboard.press('Control+Home')
    await Promise.all([ada.page.keyboard.type('// by Ada\n'), bob.page.keyboard.type(' // by Bob')])
    const expected = '// by Ada\nconst answer = 42 // by Bob'
    await expect.poll(async () => (await shared(ada.page)).codemirror, WAIT).toBe(expected)
    await expect.poll(async () => (await shared(bob.page)).codemirror, WAIT).toBe(expected)
    await expect.poll(() => ada.page.locator('.cm-ySelectionInfo').innerText(), WAIT).toBe('Bob')

    expect(ada.errors).toEqual([])
    expect(bob.errors).toEqual([])
  }, 120_000)

  it('a reload, a new visitor, and a restarted server all show the stored content', async () => {
    const dbPath = join(tempDir(), 'collab.db')
    const first = await startServer({ dbPath })
    const ada = await openAs(browser.get(), first.url, 'team/kept', 'Ada')
    await ada.page.locator('.ProseMirror').click()
    await ada.page.keyboard.type('Stored on the server')
    await ada.page.locator('.cm-content').click()
    await ada.page.keyboard.type('let stored = true')
    await ada.page.locator('#chat-input').fill('A stored message')
    await ada.page.locator('#chat-input').press('Enter')
    // "saved" means the server acknowledged every change, which it does only once they are on disk.
    await expect.poll(() => badge(ada.page), WAIT).toBe('saved')
    await expect.poll(() => ada.page.locator('.msg-status').first().getAttribute('data-status'), WAIT).toBe('saved')

    await ada.page.reload()
    await ada.page.locator('#badge[data-state="saved"]').waitFor()
    expect(await ada.page.locator('.ProseMirror').innerText()).toContain('Stored on the server')

    expect(ada.errors).toEqual([])
    await ada.context.close()

    // A new visitor has nothing locally: all of it comes from the server, even after a restart.
    await first.close()
    const second = await startServer({ dbPath })
    const cleo = await openAs(browser.get(), second.url, 'team/kept', 'Cleo')
    await expect.poll(() => cleo.page.locator('.ProseMirror').innerText(), WAIT).toContain('Stored on the server')
    await expect.poll(() => cleo.page.locator('.cm-content').innerText(), WAIT).toContain('let stored = true')
    await expect.poll(() => cleo.page.locator('.msg-text').allInnerTexts(), WAIT).toEqual(['A stored message'])

    expect(cleo.errors).toEqual([])
  }, 120_000)
})
