/**
 * docs/rest.md's examples are what the server really answers: `npm run
 * docs:rest` runs them against a fresh server and writes their output; here
 * it writes into a temporary file, which must equal the committed one.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../helpers/markdown.ts'
import { tempDir } from '../helpers/server.ts'

function run(command: string, args: string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    child.on('error', fail)
    child.on('close', (status) => done({ status, output }))
  })
}

describe('docs/rest.md', () => {
  it('is what `npm run docs:rest` writes now (run it when this fails)', async () => {
    const out = join(tempDir('docs-rest-'), 'rest.md')
    const r = await run(process.execPath, ['scripts/docs-rest.ts', '--out', out])
    expect(r.status, r.output).toBe(0)
    const generated = readFileSync(out, 'utf8')
    expect(generated).toContain('"error":"policy-violation"') // the examples ran, refusals included
    expect(generated).toBe(readFileSync(join(ROOT, 'docs', 'rest.md'), 'utf8'))
  })
})
