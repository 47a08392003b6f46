/**
 * The package as people install it: `npm pack` (prepack builds it), the tarball
 * installed into a fresh project, then the installed CLI, server, client and
 * types used the way the README and docs/ say — on the project's Node 24, on the
 * machine's Node 20 (the client; the CLI must refuse there), in a Vite app in
 * Chromium, and under `tsc`.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { cpSync, existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { CloseCode } from '../../client/protocol.ts'
import { ENV_VARS } from '../../server/config.ts'
import { ApiErrorCode } from '../../server/http/api/errors.ts'
import { launchBrowser, watchedPage } from '../helpers/browser.ts'
import { collabClient, texts } from '../helpers/collab.ts'
import { PACKAGE, PATH_NODE_24, ROOT, packAndInstall, systemOldNode, type InstalledPackage } from '../helpers/package.ts'
import { freePort, spawnServer, type ServerProcess } from '../helpers/process.ts'
import { tempDirOutsideTest } from '../helpers/server.ts'

/** The tarball's budget: 646 KiB packed with the change feed (2026-12-03; 498 KiB before it), 2.27 MiB unpacked with it (the web page's bundle is 0.9 MiB of it), plus ~10–30 %. */
const MAX_TARBALL_BYTES = 720 * 1024
const MAX_UNPACKED_BYTES = 2.6 * 1024 * 1024

const oldNode = systemOldNode()
const env24 = { ...process.env, PATH: PATH_NODE_24 }

describe('the installed package', () => {
  let installed: InstalledPackage
  let server: ServerProcess

  // Measured on this 2-core machine: pack 10-17 s (prepack: tsc and the page's Vite
  // build), install 7 s from npm's cache, server start < 1 s; up to 3x that while
  // another test file runs, hence more than the 60 s default.
  beforeAll(async () => {
    const dir = tempDirOutsideTest('collab-package-')
    installed = packAndInstall(dir, { ws: PACKAGE.dependencies.ws!, '@types/node': PACKAGE.devDependencies['@types/node']! })
    cpSync(join(ROOT, 'test', 'fixtures', 'consumer'), installed.dir, { recursive: true })
    // The bin's `#!/usr/bin/env node` finds the project's Node 24 first on PATH.
    server = await spawnServer({ DB_PATH: join(dir, 'data', 'collab.db'), PATH: PATH_NODE_24 }, { command: { command: installed.bin, cwd: installed.dir }, ownCleanup: true })
  }, 180_000)
  afterAll(() => {
    server?.proc.kill('SIGKILL')
  })

  it('ships the compiled library, its types, the CLI and the web page, and nothing else, within its budget', () => {
    const paths = installed.pack.files.map((f) => f.path)
    for (const path of paths) {
      expect(path).toMatch(/^(package\.json|README\.md|LICENSE|CHANGELOG\.md|dist\/(server|client)\/.+\.(js|d\.ts|js\.map)|dist\/client\/demo\/dist\/.+)$/)
      expect(path).not.toMatch(/^dist\/client\/demo\/dist\/.*\.map$/) // the page ships without its 4 MB source map
    }
    for (const entry of ['dist/server/bin.js', 'dist/server/index.js', 'dist/server/index.d.ts', 'dist/client/index.js', 'dist/client/index.d.ts', 'dist/client/demo/dist/index.html']) {
      expect(paths).toContain(entry)
    }
    expect(installed.pack.size).toBeLessThan(MAX_TARBALL_BYTES)
    expect(installed.pack.unpackedSize).toBeLessThan(MAX_UNPACKED_BYTES)
    // The dev-only Node 24 is not installed for users.
    expect(existsSync(join(installed.dir, 'node_modules', 'node'))).toBe(false)
  })

  it('npm publish --dry-run passes (on the build the pack made)', () => {
    const out = execFileSync('npm', ['publish', '--dry-run', '--ignore-scripts'], { cwd: ROOT, env: env24, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 })
    expect(out).toContain(`+ ${PACKAGE.name}@${PACKAGE.version}`)
  })

  it('npx yjs-collab-server: --version, --help listing every variable, and the token sub command', () => {
    const npx = (...args: string[]) => execFileSync('npx', [PACKAGE.name, ...args], { cwd: installed.dir, env: env24, encoding: 'utf8', timeout: 60_000 })
    expect(npx('--version').trim()).toBe(PACKAGE.version)
    const help = npx('--help')
    for (const name of Object.keys(ENV_VARS)) expect(help).toMatch(new RegExp(`^\\s+${name}\\b`, 'm'))
    expect(help).toMatch(/^\s+yjs-collab-server token\b/m)
    const token = execFileSync(installed.bin, ['token', '--sub', 'ada', '--doc', 'team/*'], {
      env: { ...env24, JWT_SECRET: 'x'.repeat(32) },
      encoding: 'utf8',
    })
    expect(token.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/)
  })

  it('the installed bin starts the server on Node 24: /healthz answers with the package version and / serves the web page', async () => {
    const health = await fetch(`${server.http}/healthz`)
    expect(health.status).toBe(200)
    expect((await health.json()).version).toBe(PACKAGE.version)
    const page = await fetch(`${server.http}/`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('id="prosemirror"')
  })

  it.runIf(oldNode)(`on the machine's old Node (${oldNode?.version}) the bin refuses in one plain sentence naming the Node it needs`, () => {
    const r = spawnSync(oldNode!.path, [installed.bin, '--help'], { encoding: 'utf8', timeout: 30_000 })
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    const lines = r.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(PACKAGE.engines.node)
    expect(lines[0]).toContain(oldNode!.version)
  })

  it.runIf(oldNode)(`on the machine's old Node (${oldNode?.version}) the installed client chats with a peer through the server`, async () => {
    const proc = spawn(oldNode!.path, ['chat-node20.mjs', server.url, 'node20'], { cwd: installed.dir, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()))
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve))
    try {
      const peer = collabClient(server.url, 'peer').room('node20')
      await vi.waitFor(() => expect(texts(peer)).toEqual([`hello from Node ${oldNode!.version.slice(1)}`]), { timeout: 30_000 })
      await vi.waitFor(() => expect(out).toContain('saved\n'), { timeout: 15_000 })
      peer.chat.send('hello from Node 24')
      expect(await exited, err).toBe(0)
      expect(out.split('\n')).toEqual(['without-websocket: TypeError', 'saved', 'received: hello from Node 24', ''])
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL')
    }
  })

  it('a Vite app that imports the installed client runs in Chromium and chats through the server', async () => {
    const { build, preview } = await import('vite')
    const root = join(installed.dir, 'web')
    const outDir = join(root, 'dist')
    await build({ root, configFile: false, logLevel: 'warn', build: { outDir, emptyOutDir: true } })
    const port = await freePort()
    const site = await preview({ root, configFile: false, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port, strictPort: true } })
    const browser = await launchBrowser()
    try {
      const { page, errors } = await watchedPage(await browser.newContext())
      const peer = collabClient(server.url, 'peer').room('vite')
      await page.goto(`http://127.0.0.1:${port}/?${new URLSearchParams({ ws: server.url, room: 'vite' })}`)
      await page.locator('body[data-saved="yes"]').waitFor()
      await vi.waitFor(() => expect(texts(peer)).toEqual(['hello from a Vite app']), { timeout: 15_000 })
      peer.chat.send('hello from Node')
      await page.locator('#messages li', { hasText: 'hello from Node' }).waitFor()
      expect(errors).toEqual([])
    } finally {
      await browser.close()
      await site.close()
      rmSync(outDir, { recursive: true, force: true })
    }
  })

  it('a TypeScript consumer embedding the server and using the client type-checks against the installed types (tsc --noEmit) and runs', () => {
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: installed.dir, encoding: 'utf8', timeout: 60_000 })
    expect(tsc.stdout + tsc.stderr).toBe('')
    expect(tsc.status).toBe(0)
    const run = spawnSync(process.execPath, ['typed.ts'], { cwd: installed.dir, encoding: 'utf8', timeout: 60_000 })
    expect(run.stderr).toBe('')
    expect(JSON.parse(run.stdout)).toEqual({ saved: 'typed', documents: [expect.stringMatching(/^typed-\d+$/)], refused: CloseCode.Forbidden.code, notFound: ApiErrorCode.NotFound })
  })
})
