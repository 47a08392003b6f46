/**
 * Makes docs/screenshot.png and docs/screenshot-history.png, the pictures of
 * the web page in README.md and docs/web-page.md: starts the server in-process
 * on a free loopback port (SQLite in a temp dir), opens the page in headless
 * Chromium contexts (Ada, Bob, Grace), writes a little together and takes Ada's view; then Ada
 * saves a version, Bob edits, and Ada compares the version with now (the
 * History panel). Rerun it after changing how the page looks:
 *
 *   node scripts/build-demo-screenshot.ts [--out docs/screenshot.png] [--history-out docs/screenshot-history.png]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { pino } from 'pino'
import { createCollabServer } from '../server/app.ts'
import { buildDemo } from './build-demo.ts'

const args = process.argv.slice(2)
const out = args.includes('--out') ? args[args.indexOf('--out') + 1]! : 'docs/screenshot.png'
const historyOut = args.includes('--history-out') ? args[args.indexOf('--history-out') + 1]! : 'docs/screenshot-history.png'

await buildDemo({ ifStale: true, quiet: true })
const dir = mkdtempSync(join(tmpdir(), 'collab-shot-'))
const server = createCollabServer({ port: 0, host: '127.0.0.1', dbPath: join(dir, 'collab.db'), logLevel: 'silent' }, { logger: pino({ level: 'silent' }) })
await server.listen()
const base = server.url.replace(/^ws/, 'http').replace(/\/ws$/, '/')
let browser: Browser | undefined

async function open(name: string): Promise<Page> {
  const context = await browser!.newContext({ viewport: { width: 1360, height: 820 }, deviceScaleFactor: 1 })
  await context.addInitScript((n) => localStorage.setItem('collab-demo:name', n), name)
  const page = await context.newPage()
  page.on('pageerror', (error) => console.error(`${name}: ${error.message}`))
  await page.goto(`${base}?room=team/launch-plan`)
  await page.locator('#badge[data-state="saved"]').waitFor()
  return page
}

async function say(page: Page, text: string): Promise<void> {
  await page.locator('#chat-input').fill(text)
  await page.locator('#chat-input').press('Enter')
}

try {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  })
  const ada = await open('Ada Lovelace')
  const bob = await open('Bob Kahn')

  await ada.locator('.ProseMirror').click()
  await ada.keyboard.type('# Launch plan\nWhat ships on ')
  await ada.keyboard.press('Control+b')
  await ada.keyboard.type('Friday')
  await ada.keyboard.press('Control+b')
  await ada.keyboard.type(', and who does what.\n* Ada: release notes and the blog post\nBob: the migration script\nGrace: the review')

  await bob.locator('.cm-content').click()
  await bob.keyboard.type('// migrate.ts: move every room to the new storage\nfor (const room of await listRooms()) {\nawait copy(room, { verify: true, keepOld: days(7) ')

  await say(bob, 'Morning! I pushed a first draft of the migration.')
  await say(ada, 'Great, reading it now. Can we keep the old tables for a week?')
  const question = bob.locator('.msg', { hasText: 'old tables' })
  await question.hover()
  await question.locator('.react-btn[data-emoji="👍"]').click()
  await say(bob, 'Yes: keepOld is in, see the code.')
  const answer = ada.locator('.msg', { hasText: 'keepOld is in' })
  await answer.hover()
  await answer.locator('.react-btn[data-emoji="🎉"]').click()

  // Bob selects a line of the notes; Grace arrives and starts typing.
  const grace = await open('Grace Hopper')
  await bob.locator('.ProseMirror li', { hasText: 'migration script' }).click()
  await bob.keyboard.press('End')
  await bob.keyboard.press('Shift+Home')
  await grace.locator('#chat-input').click()
  await grace.keyboard.type('I can review on Thursday')
  await ada.locator('#typing').filter({ hasText: 'Grace Hopper is typing' }).waitFor()
  await ada.locator('.ProseMirror-yjs-selection').first().waitFor()
  await ada.locator('#badge[data-state="saved"]').waitFor()
  // Nothing hovered or focused in Ada's chat: its action bars stay hidden.
  await ada.locator('.cm-content').click()
  await ada.mouse.move(0, 0)
  await ada.screenshot({ path: out, animations: 'disabled' })
  console.log(`wrote ${out}`)

  // History: a named version, a change since, and the comparison in the panel.
  await ada.setViewportSize({ width: 1360, height: 1100 })
  await ada.locator('#history-label').fill('Plan before the review')
  await ada.locator('#history-save button[type="submit"]').click()
  await ada.locator('#history-list .version', { hasText: 'Plan before the review' }).waitFor()
  await bob.locator('.cm-content').click()
  await bob.keyboard.press('Control+End')
  await bob.keyboard.type('\nawait dropOld({ after: days(7) })')
  await bob.locator('.ProseMirror li', { hasText: 'the review' }).click()
  await bob.keyboard.press('End')
  await bob.keyboard.type(' (Thursday)')
  await ada.locator('#badge[data-state="saved"]').waitFor()
  await bob.locator('#badge[data-state="saved"]').waitFor()
  await ada.locator('#history-list .version', { hasText: 'Plan before the review' }).locator('.version-diff').click()
  await ada.locator('#history-diff .diff-line').first().waitFor()
  await ada.mouse.move(0, 0)
  await ada.screenshot({ path: historyOut, animations: 'disabled' })
  console.log(`wrote ${historyOut}`)
} finally {
  await browser?.close()
  await server.close()
  rmSync(dir, { recursive: true, force: true })
}
