/**
 * Nothing typed is lost on reload, in headless Chromium: twenty times in a row
 * Ada types into ProseMirror and CodeMirror, sends a chat message and reloads
 * the page at once — without waiting for anything to be saved. After each
 * reload, as soon as the page has loaded its local copy (`room.loaded`), every
 * keystroke and message is there, exactly once. With the server in reach, and
 * with the server out of reach (then it all reaches the server once it is back).
 */
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import type { Room } from '../../client/index.ts'
import { badge, openAs, shared, useBrowser, type Visitor } from '../helpers/browser.ts'
import { startServer } from '../helpers/server.ts'

const WAIT = { timeout: 45_000, interval: 100 }
const ROUNDS = 20

/** The room as the page holds it once its local copy (IndexedDB and the reload journal) is loaded. */
function whenLoaded(page: Page): Promise<{ prosemirror: string; codemirror: string; chat: string[] }> {
  return page.evaluate(async () => {
    const { room } = (globalThis as unknown as { collab: { room: Room } }).collab
    await room.loaded
    return { prosemirror: room.prosemirror.toString(), codemirror: room.codemirror.toString(), chat: room.chat.messages().map((m) => m.text) }
  })
}

/** The reload journals in the page's localStorage (client/journal.ts). */
function journalKeys(page: Page): Promise<string[]> {
  return page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('yjs-collab-journal:')))
}

/** Type one round into both editors and the chat; resolves once the keystrokes are dispatched, not saved. */
async function typeRound(page: Page, round: number): Promise<void> {
  await page.locator('.ProseMirror').click()
  await page.keyboard.press('Control+End')
  await page.keyboard.type(`p${round}.`)
  await page.locator('.cm-content').click()
  await page.keyboard.press('Control+End')
  await page.keyboard.type(`c${round};`)
  await page.locator('#chat-input').fill(`m${round}`)
  await page.locator('#chat-input').press('Enter')
}

/** What the page must hold after `rounds` rounds. */
function expected(rounds: number) {
  const range = Array.from({ length: rounds }, (_, i) => i)
  return {
    prosemirror: `<paragraph>${range.map((i) => `p${i}.`).join('')}</paragraph>`,
    codemirror: range.map((i) => `c${i};`).join(''),
    chat: range.map((i) => `m${i}`),
  }
}

/** Twenty rounds of type-and-reload-at-once; after each reload the local copy holds everything so far. */
async function typeAndReload(ada: Visitor): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    await typeRound(ada.page, round)
    await ada.page.reload()
    expect(await whenLoaded(ada.page), `after reload ${round + 1}`).toEqual(expected(round + 1))
  }
  // Once IndexedDB has stored what the journals held, they are gone.
  await expect.poll(() => journalKeys(ada.page), WAIT).toEqual([])
}

describe('web page: nothing typed is lost on reload', () => {
  const browser = useBrowser()

  it('keystrokes and messages survive twenty immediate reloads, with the server in reach', async () => {
    const server = await startServer()
    const ada = await openAs(browser.get(), server.url, 'reloads', 'Ada')
    await typeAndReload(ada)

    await expect.poll(() => badge(ada.page), WAIT).toBe('saved')
    const bob = await openAs(browser.get(), server.url, 'reloads', 'Bob')
    await expect.poll(() => shared(bob.page), WAIT).toEqual(expected(ROUNDS))
    expect(ada.errors).toEqual([])
    expect(bob.errors).toEqual([])
  }, 300_000)

  it('keystrokes and messages survive twenty immediate reloads with the server out of reach, and reach it once it is back', async () => {
    const server = await startServer()
    // Ada's sockets pass through a switch: the server can be put out of her reach while her page still loads.
    let reachable = true
    const ada = await openAs(browser.get(), server.url, 'reloads-offline', 'Ada', {
      setup: async (context) => {
        await context.routeWebSocket(/\/ws$/, (ws) => {
          if (reachable) ws.connectToServer()
          else void ws.close({ code: 1013, reason: 'test: server out of reach' })
        })
        // The HTTP fallback reaches the same server: out of reach with it.
        await context.route(/\/ws\/fallback/, (route) => (reachable ? route.continue() : route.abort('connectionrefused')))
      },
    })
    const bob = await openAs(browser.get(), server.url, 'reloads-offline', 'Bob')
    reachable = false
    // Drop the open socket; every new one is refused.
    await ada.context.setOffline(true)
    await expect.poll(() => badge(ada.page), WAIT).toBe('offline')
    await ada.context.setOffline(false)

    await typeAndReload(ada)
    expect(await badge(ada.page)).not.toBe('saved')
    expect((await shared(bob.page)).chat).toEqual([])

    reachable = true
    await expect.poll(() => badge(ada.page), WAIT).toBe('saved')
    await expect.poll(() => shared(bob.page), WAIT).toEqual(expected(ROUNDS))
    // The browser logs each fallback request refused while the server is out of reach; nothing else may show.
    expect(ada.errors.filter((e) => !e.includes('net::ERR_CONNECTION_REFUSED'))).toEqual([])
    expect(bob.errors).toEqual([])
  }, 300_000)
})
