import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { packageInfo, satisfiesNode } from '../../server/package-info.ts'

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { name: string; version: string; engines: { node: string }; dependencies: Record<string, string> }

/** The lowest Node major a range allows (`>=22` → 22, `^16 || ^18 || >=20` → 16). */
function lowestMajor(range: string): number {
  return Math.min(...[...range.matchAll(/(?:>=|\^|~|=)?\s*v?(\d+)/g)].map((m) => Number(m[1])))
}

describe('package info and the Node version gate', () => {
  it('reads this package.json: name, version and the engines range', () => {
    expect(packageInfo()).toEqual({ name: pkg.name, version: pkg.version, nodeRange: pkg.engines.node })
  })

  it('compares a Node version with a lower bound', () => {
    expect(satisfiesNode('20.20.2', '>=22')).toBe(false)
    expect(satisfiesNode('21.99.0', '>=22')).toBe(false)
    expect(satisfiesNode('22.0.0', '>=22')).toBe(true)
    expect(satisfiesNode('24.21.0', '>=22')).toBe(true)
    expect(satisfiesNode('22.4.9', '>=22.5.0')).toBe(false)
    expect(satisfiesNode('22.5.0', '>= 22.5')).toBe(true)
    expect(satisfiesNode('v23.1.0', '>=22.5')).toBe(true)
  })

  it("engines claims no Node older than a runtime dependency's own engines allow", () => {
    const ours = lowestMajor(pkg.engines.node)
    const tooOld = Object.keys(pkg.dependencies).flatMap((name) => {
      const theirs = (JSON.parse(readFileSync(join('node_modules', name, 'package.json'), 'utf8')) as { engines?: { node?: string } }).engines?.node
      return theirs && lowestMajor(theirs) > ours ? [`${name} needs ${theirs}`] : []
    })
    expect(tooOld).toEqual([])
  })
})
