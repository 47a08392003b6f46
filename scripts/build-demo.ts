/**
 * Builds the web page (client/demo, with Vite) into client/demo/dist, or into
 * `--out DIR` (`npm run build` puts it into dist/, without source maps). With `--if-stale` it builds only when the output is missing or
 * older than its sources (the page, the client library it bundles, the lock
 * file): `npm start` runs it first (`prestart`) so the README's start command
 * always serves a current page.
 *
 *   node scripts/build-demo.ts [--if-stale] [--out DIR]
 *
 * Concurrent builds of one output (two test workers) take turns through a lock
 * directory; the output is written to a temporary directory and then swapped
 * in, so a server never serves a half-written page.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
/** The page's sources. */
export const DEMO_DIR = join(ROOT, 'client', 'demo')
/** Where the page is built by default (and where the server looks for it). */
export const DEMO_DIST = join(DEMO_DIR, 'dist')

/** Newest modification time (ms) of the files the page is built from. */
function newestSource(): number {
  let newest = 0
  const visit = (path: string): void => {
    const stat = statSync(path)
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) {
        if (entry.startsWith('dist') || entry === 'node_modules' || entry.startsWith('.')) continue
        visit(join(path, entry))
      }
    } else newest = Math.max(newest, stat.mtimeMs)
  }
  visit(DEMO_DIR)
  for (const entry of readdirSync(join(ROOT, 'client'))) if (entry.endsWith('.ts')) visit(join(ROOT, 'client', entry))
  visit(join(ROOT, 'package-lock.json'))
  return newest
}

/** Whether `outDir` has no built page or one older than its sources. */
export function demoIsStale(outDir = DEMO_DIST): boolean {
  const index = join(outDir, 'index.html')
  if (!existsSync(index)) return true
  return statSync(index).mtimeMs < newestSource()
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Hold `lock` (a directory) while `fn` runs; waits for another live holder, takes over a dead one's. */
async function withLock<T>(lock: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 300_000
  for (;;) {
    try {
      mkdirSync(lock)
      writeFileSync(join(lock, 'pid'), String(process.pid))
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const pid = Number(existsSync(join(lock, 'pid')) ? readFileSync(join(lock, 'pid'), 'utf8') : NaN)
      if (Number.isInteger(pid) && !alive(pid)) rmSync(lock, { recursive: true, force: true })
      else if (Date.now() > deadline) throw new Error(`build-demo: ${lock} is held by process ${pid}`)
      else await new Promise((r) => setTimeout(r, 200))
    }
  }
  try {
    return await fn()
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}

/** Build the page into `outDir`; with `ifStale`, only when needed. Resolves with whether it built. */
export async function buildDemo(options: { outDir?: string; ifStale?: boolean; quiet?: boolean; sourcemap?: boolean } = {}): Promise<boolean> {
  const outDir = resolve(options.outDir ?? DEMO_DIST)
  if (options.ifStale && !demoIsStale(outDir)) return false
  mkdirSync(dirname(outDir), { recursive: true })
  return withLock(`${outDir}.lock`, async () => {
    // Another process may have built it while we waited.
    if (options.ifStale && !demoIsStale(outDir)) return false
    const { build } = await import('vite')
    const temp = `${outDir}.tmp-${process.pid}`
    await build({
      configFile: join(DEMO_DIR, 'vite.config.ts'),
      root: DEMO_DIR,
      logLevel: options.quiet ? 'warn' : 'info',
      build: { outDir: temp, emptyOutDir: true, ...(options.sourcemap === false ? { sourcemap: false } : {}) },
    })
    const old = `${outDir}.old-${process.pid}`
    if (existsSync(outDir)) renameSync(outDir, old)
    renameSync(temp, outDir)
    rmSync(old, { recursive: true, force: true })
    return true
  })
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const out = args.indexOf('--out')
  const outDir = out >= 0 ? args[out + 1] : undefined
  if (out >= 0 && !outDir) {
    process.stderr.write('build-demo: --out needs a directory\n')
    process.exit(2)
  }
  const ifStale = args.includes('--if-stale')
  try {
    await import('vite')
  } catch {
    // `npm install --omit=dev` has no Vite: the server still runs, without the page.
    process.stderr.write('build-demo: vite is not installed (npm install without --omit=dev), so the web page is not built; the server runs without it\n')
    process.exit(ifStale ? 0 : 1)
  }
  const built = await buildDemo({ outDir, ifStale })
  if (!built) process.stdout.write(`build-demo: ${outDir ?? 'client/demo/dist'} is up to date\n`)
}
