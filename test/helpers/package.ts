/**
 * The package as a user gets it: `npm pack` of this checkout (which runs
 * `prepack`, i.e. the build), installed into a fresh project in a temporary
 * directory with its dependencies from the registry (npm's cache keeps that
 * fast), plus the Node runtimes to run it on.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { delimiter, dirname, join, resolve } from 'node:path'

export const ROOT = resolve(import.meta.dirname, '..', '..')
export const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string
  version: string
  engines: { node: string }
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
}

/** PATH with the project's Node 24 first (what npm scripts get). */
export const PATH_NODE_24 = [dirname(process.execPath), join(ROOT, 'node_modules', '.bin'), process.env.PATH].join(delimiter)

/** What `npm pack --json` says about the tarball. */
export interface PackInfo {
  filename: string
  size: number
  unpackedSize: number
  files: { path: string; size: number }[]
}

export interface InstalledPackage {
  /** The consumer project: package.json, node_modules/yjs-collab-server, node_modules/.bin. */
  dir: string
  tarball: string
  pack: PackInfo
  /** node_modules/.bin/yjs-collab-server in the consumer project. */
  bin: string
}

function run(command: string, args: string[], cwd: string, timeout: number): string {
  return execFileSync(command, args, { cwd, env: { ...process.env, PATH: PATH_NODE_24 }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout })
}

/** Pack this checkout into `dir`, install the tarball into `dir`/consumer with `extra` dependencies; returns where. */
export function packAndInstall(dir: string, extra: Record<string, string> = {}): InstalledPackage {
  const [pack] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir, '--loglevel=error'], ROOT, 180_000)) as PackInfo[]
  const tarball = join(dir, pack!.filename)
  const consumer = join(dir, 'consumer')
  mkdirSync(consumer)
  writeFileSync(
    join(consumer, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { [PACKAGE.name]: `file:${tarball}`, ...extra } }, null, 2),
  )
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], consumer, 240_000)
  return { dir: consumer, tarball, pack: pack!, bin: join(consumer, 'node_modules', '.bin', PACKAGE.name) }
}

/** The machine's own Node older than the package's `engines` (Node 20 here), found on PATH past the project's; or undefined. */
export function systemOldNode(): { path: string; version: string } | undefined {
  const minimum = Number(/^>=\s*(\d+)/.exec(PACKAGE.engines.node)?.[1])
  const found = spawnSync('which', ['-a', 'node'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)
  for (const path of [...found, '/usr/bin/node']) {
    const version = spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout?.trim()
    if (version && Number(/^v(\d+)/.exec(version)?.[1]) < minimum) return { path, version }
  }
  return undefined
}
