/**
 * The web page's chat and presence in headless Chromium, two people in one
 * room: a message sent with Enter, a reaction, the typing indicator and a
 * read receipt reach the other side; own messages can be edited and deleted
 * (others' cannot); older messages load on scrolling up; presence shows
 * online, away and leaving; everything works from the keyboard alone.
 */
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { CollabClient } from '../../client/index.ts'
import { openAs, screenshot, useBrowser } from '../helpers/browser.ts'
import { startServer } from '../helpers/server.ts'

const WAIT = { timeout: 30_000, interval: 50 }

/** The message on `page` whose text is `text`. */
const message = (page: Page, text: string) => page.locator('.msg', { has: page.locator('.msg-text', { hasText: text }) })

describe('web page: chat and presence', () => {
  const browser = useBrowser()

  it('a message (Enter sends), a reaction, the typing indicator and a read receipt reach the other side', async () => {
    const server = await startServer()
    const ada = await openAs(browser.get(), server.url, 'chat', 'Ada')
    const bob = await openAs(browser.get(), server.url, 'chat', 'Bob')

    await ada.page.locator('#chat-input').click()
    await ada.page.keyboard.type('Hi Bob!')
    await expect.poll(() => bob.page.locator('#typing').innerText(), WAIT).toBe('Ada is typing…')
    await ada.page.keyboard.press('Enter')
    await expect.poll(() => ada.page.locator('#chat-input').inputValue(), WAIT).toBe('')

    const atBob = message(bob.page, 'Hi Bob!')
    await expect.poll(() => atBob.locator('.msg-name').innerText(), WAIT).toBe('Ada')
    await expect.poll(() => bob.page.locator('#typing').innerText(), WAIT).toBe('')
    const atAda = message(ada.page, 'Hi Bob!')
    await expect.poll(() => atAda.locator('.msg-status').getAttribute('data-status'), WAIT).toBe('saved')
    // Bob's page showed it at the bottom of the list: Ada sees that he has read it.
    await expect.poll(() => atAda.locator('.msg-read').innerText(), WAIT).toBe('Seen by Bob')

    await atBob.hover()
    await atBob.locator('.react-btn[data-emoji="🎉"]').click()
    const reaction = atAda.locator('.reaction[data-emoji="🎉"]')
    await expect.poll(() => reaction.locator('.count').innerText(), WAIT).toBe('1')
    expect(await reaction.getAttribute('aria-pressed')).toBe('false')
    expect(await atBob.locator('.reaction[data-emoji="🎉"]').getAttribute('aria-pressed')).toBe('true')
    // Ada joins in, then Bob takes his back.
    await reaction.click()
    await expect.poll(() => atBob.locator('.reaction[data-emoji="🎉"] .count').innerText(), WAIT).toBe('2')
    await atBob.locator('.reaction[data-emoji="🎉"]').click()
    await expect.poll(() => reaction.locator('.count').innerText(), WAIT).toBe('1')
    expect(await reaction.getAttribute('aria-pressed')).toBe('true')

    await screenshot(ada.page, 'chat-reaction-receipt')
    expect(ada.errors).toEqual([])
    expect(bob.errors).toEqual([])
  }, 120_000)

  it('the author edits and deletes their own message; the other side follows and cannot do either', async () => {
    const server = await startServer()
    const ada = await openAs(browser.get(), server.url, 'chat', 'Ada')
    const bob = await openAs(browser.get(), server.url, 'chat', 'Bob')
    await ada.page.locator('#chat-input').fill('Teh meeting is at 3')
    await ada.page.locator('#chat-input').press('Enter')
    await expect.poll(() => message(bob.page, 'Teh meeting').count(), WAIT).toBe(1)
    expect(await message(bob.page, 'Teh meeting').locator('.msg-edit, .msg-delete').count()).toBe(0)

    const mine = message(ada.page, 'Teh meeting')
    await mine.hover()
    await mine.locator('.msg-edit').click()
    const editor = ada.page.locator('.edit-input')
    await expect.poll(() => editor.evaluate((el) => el === document.activeElement), WAIT).toBe(true)
    await editor.fill('The meeting is at 3')
    await editor.press('Enter')
    const edited = message(bob.page, 'The meeting is at 3')
    await expect.poll(() => edited.locator('.msg-edited').count(), WAIT).toBe(1)

    await message(ada.page, 'The meeting is at 3').hover()
    await message(ada.page, 'The meeting is at 3').locator('.msg-delete').click()
    await expect.poll(() => bob.page.locator('.msg').count(), WAIT).toBe(0)
    expect(await ada.page.locator('.msg').count()).toBe(0)
    expect(ada.errors).toEqual([])
    expect(bob.errors).toEqual([])
  }, 120_000)

  it('shows the latest messages first and older ones on scrolling up, in room order', async () => {
    const server = await startServer()
    // 75 messages written by another program through the client library.
    const seeder = new CollabClient({ url: server.url, token: 'dev', user: { id: 'seed', name: 'Seeder' }, offline: false })
    const seeded = seeder.room('history')
    await seeded.synced
    for (let i = 1; i <= 75; i++) seeded.chat.send(`message ${i}`)
    await expect.poll(() => seeded.unsaved, WAIT).toBe(false)
    seeder.close()

    const ada = await openAs(browser.get(), server.url, 'history', 'Ada')
    const texts = () => ada.page.locator('.msg-text').allInnerTexts()
    await expect.poll(async () => (await texts()).length, WAIT).toBe(30)
    expect((await texts())[0]).toBe('message 46')
    expect((await texts())[29]).toBe('message 75')

    const scrollUp = () => ada.page.locator('#chat-scroll').evaluate((el) => el.scrollTo({ top: 0 }))
    await scrollUp()
    await expect.poll(async () => (await texts()).length, WAIT).toBe(60)
    await scrollUp()
    await expect.poll(async () => (await texts()).length, WAIT).toBe(75)
    expect(await texts()).toEqual(Array.from({ length: 75 }, (_, i) => `message ${i + 1}`))
    expect(await ada.page.locator('#chat-more').isHidden()).toBe(true)
    expect(ada.errors).toEqual([])
  }, 120_000)

  it('presence lists who is here, online or away, and drops those who leave', async () => {
    const server = await startServer()
    const ada = await openAs(browser.get(), server.url, 'people', 'Ada')
    const bob = await openAs(browser.get(), server.url, 'people', 'Bob')
    const adaAtBob = bob.page.locator('.person', { hasText: 'Ada' })
    await expect.poll(() => adaAtBob.getAttribute('data-status'), WAIT).toBe('online')
    expect(await bob.page.locator('.person[data-self] .person-name').innerText()).toBe('Bob')

    await ada.page.getByRole('button', { name: 'Set away' }).click()
    await expect.poll(() => adaAtBob.getAttribute('data-status'), WAIT).toBe('away')
    expect(await ada.page.locator('#away-toggle').getAttribute('aria-pressed')).toBe('true')
    await ada.page.getByRole('button', { name: 'Set online' }).click()
    await expect.poll(() => adaAtBob.getAttribute('data-status'), WAIT).toBe('online')

    await ada.page.close()
    await expect.poll(() => adaAtBob.count(), WAIT).toBe(0)
    expect(ada.errors).toEqual([])
    expect(bob.errors).toEqual([])
  }, 120_000)

  it('works from the keyboard alone: Tab to the chat, Enter sends, Tab to a reaction, Enter reacts', async () => {
    const server = await startServer()
    const ada = await openAs(browser.get(), server.url, 'keys', 'Ada')
    const bob = await openAs(browser.get(), server.url, 'keys', 'Bob')
    const focusedId = (page: Page) => page.evaluate(() => document.activeElement?.id ?? '')

    // From the top of the page, Tab reaches the chat box (through the header, the toolbar and both editors).
    for (let i = 0; i < 60 && (await focusedId(ada.page)) !== 'chat-input'; i++) await ada.page.keyboard.press('Tab')
    expect(await focusedId(ada.page)).toBe('chat-input')
    await ada.page.keyboard.type('Typed without a mouse')
    await ada.page.keyboard.press('Enter')
    await expect.poll(() => message(bob.page, 'Typed without a mouse').count(), WAIT).toBe(1)

    // Bob goes back from his chat box to the message's reaction buttons.
    await bob.page.locator('#chat-input').focus()
    const onThumbsUp = () => bob.page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.emoji === '👍')
    for (let i = 0; i < 20 && !(await onThumbsUp()); i++) await bob.page.keyboard.press('Shift+Tab')
    expect(await onThumbsUp()).toBe(true)
    await bob.page.keyboard.press('Enter')
    await expect.poll(() => message(ada.page, 'Typed without a mouse').locator('.reaction[data-emoji="👍"] .count').innerText(), WAIT).toBe('1')
    expect(ada.errors).toEqual([])
    expect(bob.errors).toEqual([])
  }, 120_000)
})
