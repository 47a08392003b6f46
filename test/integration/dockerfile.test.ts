import { execFileSync, spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs'
import { basename, join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { PATH_NODE_24 } from '../helpers/package.ts'
import { freePort } from '../helpers/process.ts'
import { tempDir } from '../helpers/server.ts'

/** The lines of one stage (`FROM … AS name` up to the next FROM). */
function stage(dockerfile: string, name: string): string[] {
  const lines = dockerfile.split('\n')
  const start = lines.findIndex((l) => l.startsWith('FROM ') && l.endsWith(` AS ${name}`))
  const end = lines.findIndex((l, i) => i > start && l.startsWith('FROM '))
  return lines.slice(start + 1, end === -1 ? undefined : end)
}

/** Do what the stage's plain `COPY src… dest` lines do, from this checkout into `dir`. */
function copyAsDocker(lines: string[], dir: string): void {
  for (const line of lines) {
    const match = /^COPY (?!--)(.+)$/.exec(line)
    if (!match) continue
    const parts = match[1]!.split(' ')
    const dest = join(dir, parts.pop()!)
    for (const source of parts) {
      const target = parts.length > 1 || dest.endsWith('/') ? join(dest, basename(source)) : dest
      mkdirSync(join(target, '..'), { recursive: true })
      cpSync(source, target, { recursive: true })
    }
  }
}

// No Docker engine runs here: run what the Dockerfile says instead — its build
// stage from only the files it copies, then the production install on Node 24.
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

  it('builds the package with `npm run build` from the files it copies; the production install of that dist/ starts on Node 24, answers /healthz and serves the web page', async () => {
    const root = tempDir('collab-docker-')
    // Stage "build": the files it copies, the dev install (this checkout's), then its RUN lines.
    const build = join(root, 'build')
    const buildStage = stage(dockerfile, 'build')
    copyAsDocker(buildStage, build)
    expect(buildStage.filter((l) => l.startsWith('RUN '))).toEqual(['RUN npm ci --no-audit --no-fund', 'RUN npm run build'])
    symlinkSync(join(process.cwd(), 'node_modules'), join(build, 'node_modules'), 'dir')
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: build, env: { ...process.env, PATH: PATH_NODE_24 }, stdio: 'pipe', timeout: 240_000 })

    // Stage "runtime": the production install, then what it copies from the build.
    const app = join(root, 'app')
    const runtime = stage(dockerfile, 'runtime')
    copyAsDocker(runtime, app)
    execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, stdio: 'pipe', timeout: 240_000 })
    expect(existsSync(join(app, 'node_modules', 'node'))).toBe(false) // dev-only Node 24 is not in the image
    const fromBuild = runtime.map((l) => /^COPY --from=build \/app\/(\S+) \.\/(\S+)$/.exec(l)).filter((m) => m !== null)
    expect(fromBuild.map((m) => m[1])).toEqual(['dist'])
    for (const [, from, to] of fromBuild) cpSync(join(build, from!), join(app, to!), { recursive: true })

    const cmd = dockerfile.match(/^CMD \["node", "(\S+)"\]$/m)?.[1]
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string; bin: Record<string, string> }
    expect(cmd).toBe(Object.values(pkg.bin)[0]) // the package's own command
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
    expect((await res.json()).version).toBe(pkg.version)
    // The image serves the web page at / (and its assets).
    const page = await fetch(`http://127.0.0.1:${port}/`)
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('id="prosemirror"')
    const script = /<script[^>]+src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1]
    expect((await fetch(`http://127.0.0.1:${port}/${script}`)).status).toBe(200)
  }, 300_000)
})
