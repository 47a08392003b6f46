/**
 * This package's own package.json (name, version, engines), found by walking
 * up from this file: `server/` when run from source, `dist/server/` in the
 * build and in an installed package. Imports nothing but node:fs and
 * node:path, so the CLI's version gate (server/bin.ts) can use it before
 * anything native is loaded.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const PACKAGE_NAME = 'yjs-collab-server'

export interface PackageInfo {
  name: string
  version: string
  /** `engines.node`, e.g. `>=22`. */
  nodeRange: string
}

let cached: PackageInfo | undefined

/** The nearest package.json above this file whose name is this package's. */
export function packageInfo(): PackageInfo {
  if (cached) return cached
  // Not import.meta.dirname (Node 20.11+): the version gate must also run on older Node.
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++) {
    let pkg: { name?: string; version?: string; engines?: { node?: string } } | undefined
    try {
      pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as typeof pkg
    } catch {
      pkg = undefined // no package.json at this level; look one level up
    }
    if (pkg?.name === PACKAGE_NAME && pkg.version) {
      cached = { name: pkg.name, version: pkg.version, nodeRange: pkg.engines?.node ?? '*' }
      return cached
    }
    dir = dirname(dir)
  }
  cached = { name: PACKAGE_NAME, version: '0.0.0-unknown', nodeRange: '*' }
  return cached
}

/**
 * Whether Node `version` (e.g. `20.20.2`) satisfies `range`. The package's
 * range is a lower bound (`>=22`, `>=22.5.0`); anything else is not checked.
 */
export function satisfiesNode(version: string, range: string): boolean {
  const bound = /^>=\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim())
  if (!bound) return true
  const have = version.replace(/^v/, '').split('.').map(Number)
  for (let i = 0; i < 3; i++) {
    const need = Number(bound[i + 1] ?? 0)
    const got = have[i] ?? 0
    if (got !== need) return got > need
  }
  return true
}
