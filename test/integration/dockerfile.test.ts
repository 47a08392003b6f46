import { execFileSync, spawn } from 'node:child_process'
import { cpSync, existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { freePort } from '../helpers/process.ts'
import { tempDir } from '../helpers/server.ts'

// No Docker engine runs here: check what the Dockerfile relies on instead —
// the build output it copies exists, and the production install starts on Node 24.
describe('Dockerfile', () => {
  const dockerfile = readFileSync('Dockerfile', 'utf8')

  it('is multi-stage on node:24-slim, non-root, with a /data volume, a health check, the port exposed and JSON logs', () => {
    expect(dockerfile.match(/^FROM node:24-slim AS \w+$/gm)?.length).toBe(2)
    expect(dockerfile).toMatch(/^USER node$/m)
    expect(dockerfile).toMatch(/^VOLUME \["\/data"\]$/m)
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/healthz/m)
    expect(dockerfile).toMatch(/^EXPOSE 1234$/m)
    // Logs for machines in the container, even under `docker run -t`.
    expect(dockerfile).toMatch(/^\s+LOG_FORMAT=json$/m)
  })

  it('the production install (npm ci --omit=dev) of the build output starts on Node 24, answers /healthz and serves the web page', async () => {
    const app = tempDir('collab-docker-')
    // Stage "build": compile to dist/ as the Dockerfile does.
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', join(app, 'build')], { stdio: 'pipe' })
    // …and builds the web page next to the compiled client, as its RUN line says.
    expect(dockerfile).toMatch(/^RUN .*node scripts\/build-demo\.ts --out dist\/client\/demo\/dist$/m)
    execFileSync(process.execPath, ['scripts/build-demo.ts', '--out', join(app, 'build', 'client', 'demo', 'dist')], { stdio: 'pipe' })
    for (const [, from, to] of dockerfile.matchAll(/^COPY --from=build \/app\/(\S+) \.\/(\S+)$/gm)) {
      const source = join(app, 'build', from!.replace(/^dist\//, ''))
      expect(existsSync(source), `${from} (named by the Dockerfile) is built`).toBe(true)
      cpSync(source, join(app, to!), { recursive: true })
    }
    // Stage "runtime": the production install.
    cpSync('package.json', join(app, 'package.json'))
    cpSync('package-lock.json', join(app, 'package-lock.json'))
    execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, stdio: 'pipe', timeout: 240_000 })
    expect(existsSync(join(app, 'node_modules', 'node'))).toBe(false) // dev-only Node 24 is not in the image

    const cmd = dockerfile.match(/^CMD \["node", "(\S+)"\]$/m)?.[1]
    expect(cmd).toBe('dist/server/main.js')
    const port = await freePort()
    const proc = spawn(process.execPath, [cmd!], {
      cwd: app,
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DB_PATH: join(app, 'data', 'collab.db') },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    onTestFinished(() => {
      proc.kill('SIGKILL')
    })
    await new Promise<void>((resolve, reject) => {
      proc.stdout!.on('data', (d: Buffer) => d.toString().includes('collab server listening') && resolve())
      proc.once('exit', (code) => reject(new Error(`exited ${code}`)))
    })
    const res = await fetch(`http://127.0.0.1:${port}/healthz`)
    expect(res.status).toBe(200)
    expect((await res.json()).version).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version)
    // The image serves the web page at / (and its assets).
    const page = await fetch(`http://127.0.0.1:${port}/`)
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('id="prosemirror"')
    const script = /<script[^>]+src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1]
    expect((await fetch(`http://127.0.0.1:${port}/${script}`)).status).toBe(200)
  }, 300_000)
})
