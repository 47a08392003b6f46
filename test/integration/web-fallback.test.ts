/**
 * The web page behind a proxy that refuses WebSocket upgrades: Debian's nginx
 * running the configuration docs/protocol.md shows (default buffering kept).
 * In headless Chromium the page falls back to HTTP by itself, says so in its
 * badge, and edits, chats and shows presence with a client on a WebSocket
 * straight to the server, both ways.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { describe, expect, it, onTestFinished } from 'vitest'
import { freePort, waitForPort } from '../../scripts/cluster/services.ts'
import { openAs, screenshot, shared, useBrowser } from '../helpers/browser.ts'
import { collabClient, roomSaved, texts } from '../helpers/collab.ts'
import { startServer, tempDir } from '../helpers/server.ts'

const WAIT = { timeout: 30_000, interval: 50 }

/** The nginx `server` block of docs/protocol.md, listening on `port` and passing to `upstream`. */
function documentedServerBlock(port: number, upstream: number): string {
  const md = readFileSync('docs/protocol.md', 'utf8')
  const block = /### Behind a proxy that refuses upgrades[\s\S]*?```nginx\n([\s\S]*?)```/.exec(md)?.[1]
  if (!block) throw new Error('docs/protocol.md shows no nginx block')
  return block.replace('listen 8080;', `listen 127.0.0.1:${port};`).replace('http://127.0.0.1:1234', `http://127.0.0.1:${upstream}`)
}

/** nginx with that block, on a free port; stopped (by its PID) when the test ends. */
async function blockingProxy(upstream: number): Promise<number> {
  const dir = tempDir('collab-nginx-')
  const port = await freePort()
  for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub))
  const conf = join(dir, 'nginx.conf')
  writeFileSync(
    conf,
    `worker_processes 1;
error_log ${join(dir, 'error.log')} warn;
pid ${join(dir, 'nginx.pid')};
${process.getuid?.() === 0 ? 'user root;' : ''}
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${documentedServerBlock(port, upstream)}
}
`,
  )
  const proc = spawn('nginx', ['-c', conf, '-p', dir, '-g', 'daemon off;'], { stdio: 'ignore' })
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve()
        proc.once('exit', () => resolve())
        proc.kill('SIGTERM')
      }),
  )
  await waitForPort(port, proc)
  return port
}

describe('web page behind a proxy that refuses WebSockets', () => {
  const browser = useBrowser()

  it('falls back to HTTP, says so, and edits, chats and shows presence with a WebSocket client both ways', async () => {
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

    await screenshot(ada.page, 'behind-upgrade-refusing-proxy')
    expect(ada.errors.filter((e) => !/WebSocket/i.test(e))).toEqual([])
  }, 120_000)
})
