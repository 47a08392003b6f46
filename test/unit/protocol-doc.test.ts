import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CloseCode } from '../../client/protocol.ts'

/** Rows of the close-code table in docs/protocol.md: code, reason, scope, retry. */
function documentedCodes(): Array<{ code: number; reason: string; scope: string; retry: boolean }> {
  const md = readFileSync('docs/protocol.md', 'utf8')
  const section = md.slice(md.indexOf('## Close codes'))
  return [...section.matchAll(/^\| (\d{4}) \| ([a-z-]+) \| (socket|document) \| (yes|no) \|/gm)].map((m) => ({
    code: Number(m[1]),
    reason: m[2]!,
    scope: m[3]!,
    retry: m[4] === 'yes',
  }))
}

describe('docs/protocol.md', () => {
  it('documents exactly the close codes client/protocol.ts defines', () => {
    const inCode = Object.values(CloseCode)
      .map(({ code, reason, scope, retry }) => ({ code, reason, scope, retry }))
      .sort((a, b) => a.code - b.code)
    expect(documentedCodes().sort((a, b) => a.code - b.code)).toEqual(inCode)
  })

  it('uses each code number once', () => {
    const codes = Object.values(CloseCode).map((c) => c.code)
    expect(new Set(codes).size).toBe(codes.length)
  })
})
