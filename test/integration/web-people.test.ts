/**
 * People are shown by name in the page, also once they have left: a guest who
 * read a message and went is "Seen by" the name they had, not their user id —
 * after a reload too.
 */
import { describe, expect, it } from 'vitest'
import { openAs, useBrowser } from '../helpers/browser.ts'
import { startServer } from '../helpers/server.ts'

const WAIT = { timeout: 30_000, interval: 50 }

describe('web page: people by name', () => {
  const browser = useBrowser()

  it('a guest who read a message and left is still shown by name', async () => {
    const server = await startServer()
    const ada = await openAs(browser.get(), server.url, 'names', 'Ada')
    const guest = await openAs(browser.get(), server.url, 'names', 'Guest Gus')
    await ada.page.locator('#chat-input').fill('Anyone here?')
    await ada.page.locator('#chat-input').press('Enter')
    const receipt = ada.page.locator('.msg', { hasText: 'Anyone here?' }).locator('.msg-read')
    await expect.poll(() => receipt.innerText(), WAIT).toBe('Seen by Guest Gus')

    await guest.page.close()
    // Barrier: the guest is gone from Ada's presence list.
    await expect.poll(() => ada.page.locator('.person', { hasText: 'Guest Gus' }).count(), WAIT).toBe(0)
    expect(await receipt.innerText()).toBe('Seen by Guest Gus')
    await ada.page.reload()
    await expect.poll(() => ada.page.locator('.msg', { hasText: 'Anyone here?' }).locator('.msg-read').innerText(), WAIT).toBe('Seen by Guest Gus')
    expect(ada.errors).toEqual([])
    expect(guest.errors).toEqual([])
  }, 120_000)
})
