/**
 * The web page offline, in headless Chromium: a person whose network goes
 * (`context.setOffline`) keeps editing and chatting, the badge says so, and on
 * reconnecting both sides converge; edits made offline survive a reload of the
 * page (IndexedDB) and reach the server once the socket is back.
 */
import { describe, expect, it } from 'vitest'
import { badge, openAs, screenshot, shared, useBrowser } from '../helpers/browser.ts'
import { startServer } from '../helpers/server.ts'

const WAIT = { timeout: 45_000, interval: 100 }

describe('web page: offline', () => {
  const browser = useBrowser()

  it('edits and messages made offline reach the other side on reconnect, and both converge', async () => {
    const server = await startServer()
    const ada = await openAs(browser.get(), server.url, 'trip', 'Ada')
    const bob = await openAs(browser.get(), server.url, 'trip', 'Bob')
    await ada.page.locator('.ProseMirror').click()
    await ada.page.keyboard.type('Plan: ')
    await expect.poll(async () => (await shared(bob.page)).prosemirror, WAIT).toContain('Plan: ')

    await ada.context.setOffline(true)
    await expect.poll(() => badge(ada.page), WAIT).toBe('offline')
    await ada.page.keyboard.type('train at 9')
    await ada.page.locator('.cm-content').click()
    await ada.page.keyboard.type('tickets = 2')
    await ada.page.locator('#chat-input').fill('Written on the train, no network')
    await ada.page.locator('#chat-input').press('Enter')
    await expect.poll(() => ada.page.locator('#badge').innerText(), WAIT).toBe('Offline · changes kept on this device')
    expect(await ada.page.locator('.msg-status').first().getAttribute('data-status')).toBe('pending')
    await screenshot(ada.page, 'offline-pending')

    // Meanwhile Bob edits too.
    await bob.page.locator('.ProseMirror').click()
    await bob.page.keyboard.press('Control+End')
    await bob.page.keyboard.press('Enter')
    await bob.page.keyboard.type('Bob: bring snacks')
    await expect.poll(() => badge(bob.page), WAIT).toBe('saved')
    expect((await shared(bob.page)).prosemirror).not.toContain('train at 9')

    await ada.context.setOffline(false)
    await expect.poll(() => badge(ada.page), WAIT).toBe('saved')
    await expect.poll(() => ada.page.locator('.msg-status').first().getAttribute('data-status'), WAIT).toBe('saved')
    await expect.poll(() => bob.page.locator('.msg-text').allInnerTexts(), WAIT).toEqual(['Written on the train, no network'])
    await expect.poll(async () => (await shared(bob.page)).codemirror, WAIT).toBe('tickets = 2')
    const both = async () => [await shared(ada.page), await shared(bob.page)]
    await expect.poll(async () => {
      const [a, b] = await both()
      return a!.prosemirror === b!.prosemirror && a!.prosemirror.includes('train at 9') && a!.prosemirror.includes('Bob: bring snacks')
    }, WAIT).toBe(true)
    expect(await bob.page.locator('.ProseMirror').innerText()).toContain('Plan: train at 9')
    expect(ada.errors).toEqual([])
    expect(bob.errors).toEqual([])
  }, 180_000)

  it('edits made offline survive a reload of the page (IndexedDB) and reach the server once it can be reached', async () => {
    const server = await startServer()
    // Ada's sockets pass through a switch: the server can be put out of her reach while her page still loads.
    let reachable = true
    const ada = await openAs(browser.get(), server.url, 'drafts', 'Ada', {
      setup: async (context) => {
        await context.routeWebSocket(/\/ws$/, (ws) => {
          if (reachable) ws.connectToServer()
          else void ws.close({ code: 1013, reason: 'test: server out of reach' })
        })
        // The HTTP fallback reaches the same server: out of reach with it.
        await context.route(/\/ws\/fallback/, (route) => (reachable ? route.continue() : route.abort('connectionrefused')))
      },
    })
    const bob = await openAs(browser.get(), server.url, 'drafts', 'Bob')

    await ada.context.setOffline(true)
    await expect.poll(() => badge(ada.page), WAIT).toBe('offline')
    await ada.page.locator('.ProseMirror').click()
    await ada.page.keyboard.type('Kept on this device')
    // The editor hands its changes to the Y.Doc (and so to IndexedDB) after the keystrokes: wait for that, not for the DOM.
    await expect.poll(async () => (await shared(ada.page)).prosemirror, WAIT).toContain('Kept on this device')
    await ada.page.locator('#chat-input').fill('Sent while offline')
    await ada.page.locator('#chat-input').press('Enter')

    await expect.poll(() => ada.page.locator('.msg-text').allInnerTexts(), WAIT).toEqual(['Sent while offline'])
    // No wait for anything to be stored: the page reloads at once (the reload journal keeps what IndexedDB has not committed).

    // The server stays out of reach (its socket is refused) while the page itself reloads.
    reachable = false
    await ada.context.setOffline(false)
    await ada.page.reload()
    await expect.poll(() => ada.page.locator('.ProseMirror').innerText(), WAIT).toContain('Kept on this device')
    await expect.poll(() => ada.page.locator('.msg-text').allInnerTexts(), WAIT).toEqual(['Sent while offline'])
    expect(await badge(ada.page)).not.toBe('saved')
    expect((await shared(bob.page)).prosemirror).not.toContain('Kept on this device')

    reachable = true
    await expect.poll(() => badge(ada.page), WAIT).toBe('saved')
    await expect.poll(async () => (await shared(bob.page)).prosemirror, WAIT).toContain('Kept on this device')
    await expect.poll(() => bob.page.locator('.msg-text').allInnerTexts(), WAIT).toEqual(['Sent while offline'])
    // The browser logs each fallback request refused while the server is out of reach; nothing else may show.
    expect(ada.errors.filter((e) => !e.includes('net::ERR_CONNECTION_REFUSED'))).toEqual([])
    expect(bob.errors).toEqual([])
  }, 180_000)
})
