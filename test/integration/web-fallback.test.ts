/**
 * The web page behind a proxy that refuses WebSocket upgrades: Debian's nginx
 * running the configuration docs/protocol.md shows (default buffering kept).
 * In headless Chromium the page falls back to HTTP by itself, says so in its
 * badge, and edits (code and rich text), chats and shows presence with a
 * client on a WebSocket straight to the server, both ways; its History panel
 * (REST through the same proxy) saves a version.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { openAs, screenshot, shared, useBrowser } from '../helpers/browser.ts'
import { collabClient, roomSaved, texts } from '../helpers/collab.ts'
import { blockingProxy } from '../helpers/nginx-blocking.ts'
import { call, docPath, httpBase } from '../helpers/rest.ts'
import { startServer } from '../helpers/server.ts'

const WAIT = { timeout: 30_000, interval: 50 }

describe('web page behind a proxy that refuses WebSockets', () => {
  const browser = useBrowser()

  it('falls back to HTTP, says so, and edits code and rich text, chats, shows presence and saves a version, with a WebSocket client both ways', async () => {
    const server = await startServer()
    const serverPort = new URL(server.url).port
    const proxyPort = await blockingProxy(Number(serverPort))
    const viaProxy = `ws://127.0.0.1:${proxyPort}/ws`

    const ada = await openAs(browser.get(), viaProxy, 'behind-proxy', 'Ada')
    await expect.poll(() => ada.page.locator('#badge').innerText(), WAIT).toBe('Connected over HTTP · saved')
    expect(await ada.page.evaluate(() => (globalThis as unknown as { collab: { client: { transport: string } } }).collab.client.transport)).toBe('http')

    const bobClient = collabClient(server.url, 'bob')
    const bob = bobClient.room('behind-proxy')
    await bob.synced
    expect(bobClient.transport).toBe('websocket')

    // Edits, both ways.
    await ada.page.locator('.cm-content').click()
    await ada.page.keyboard.type('typed behind nginx')
    await expect.poll(() => bob.codemirror.toString(), WAIT).toBe('typed behind nginx')
    bob.codemirror.insert(bob.codemirror.length, ' + from bob')
    await roomSaved(bob)
    await expect.poll(async () => (await shared(ada.page)).codemirror, WAIT).toBe('typed behind nginx + from bob')

    // Rich text: typed with formatting behind the proxy, read on the socket; and back.
    await ada.page.locator('.ProseMirror').click()
    await ada.page.keyboard.type('Rich, ')
    await ada.page.keyboard.press('Control+b')
    await ada.page.keyboard.type('in bold')
    await expect.poll(() => bob.prosemirror.toString(), WAIT).toBe('<paragraph>Rich, <strong>in bold</strong></paragraph>')
    const paragraph = new Y.XmlElement('paragraph')
    paragraph.insert(0, [new Y.XmlText('a paragraph from bob')])
    bob.prosemirror.push([paragraph])
    await expect.poll(() => ada.page.locator('.ProseMirror p').last().innerText(), WAIT).toBe('a paragraph from bob')
    await expect.poll(() => ada.page.locator('.ProseMirror strong').first().innerText(), WAIT).toBe('in bold')

    // Chat, both ways.
    await ada.page.locator('#chat-input').click()
    await ada.page.keyboard.type('hello from the proxy side')
    await ada.page.keyboard.press('Enter')
    await expect.poll(() => texts(bob), WAIT).toContain('hello from the proxy side')
    bob.chat.send('hello from the socket side')
    await expect.poll(async () => (await shared(ada.page)).chat, WAIT).toContain('hello from the socket side')

    // Presence, both ways.
    await expect.poll(() => bob.presence.others().map((e) => e.user.name), WAIT).toContain('Ada')
    await expect.poll(() => ada.page.locator('#presence').innerText(), WAIT).toContain('Bob')
    await expect.poll(() => ada.page.locator('#badge').getAttribute('data-state'), WAIT).toBe('saved')

    // History (REST, through the same proxy): a named version saved from the panel is stored on the server.
    await ada.page.locator('#history-label').fill('behind the proxy')
    await ada.page.locator('#history-save button[type="submit"]').click()
    await expect.poll(() => ada.page.locator('#history-list .version .version-title').first().innerText(), WAIT).toBe('behind the proxy')
    const listed = (await call(httpBase(server.url), 'GET', docPath('behind-proxy', '/versions'))).json.versions as Array<{ label: string }>
    expect(listed.map((v) => v.label)).toContain('behind the proxy')

    await screenshot(ada.page, 'behind-upgrade-refusing-proxy')
    expect(ada.errors.filter((e) => !/WebSocket/i.test(e))).toEqual([])
  }, 120_000)
})
