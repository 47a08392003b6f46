import { describe, expect, it } from 'vitest'
import { AccessClaimError, atLeast, parseAccessClaim, roleFor } from '../../server/auth/access.ts'

const role = (claim: unknown, documentName: string) => roleFor(parseAccessClaim(claim), documentName)

describe('the docs claim: which documents a token opens, with which role', () => {
  it('an exact name opens that document only', () => {
    const claim = { 'team/plan': 'write' }
    expect(role(claim, 'team/plan')).toBe('write')
    expect(role(claim, 'team/plan2')).toBeNull()
    expect(role(claim, 'team/plan/sub')).toBeNull()
    expect(role(claim, 'team')).toBeNull()
    expect(role(claim, 'Team/plan')).toBeNull()
  })

  it('prefix/* opens every document under the prefix, at any depth, but not the prefix itself', () => {
    const claim = { 'team/*': 'read' }
    expect(role(claim, 'team/a')).toBe('read')
    expect(role(claim, 'team/a/b')).toBe('read')
    expect(role(claim, 'team')).toBeNull()
    expect(role(claim, 'team/')).toBeNull()
    expect(role(claim, 'teammate/a')).toBeNull()
    expect(role(claim, 'other/a')).toBeNull()
  })

  it('* alone opens every document', () => {
    expect(role({ '*': 'read' }, 'anything')).toBe('read')
    expect(role({ '*': 'read' }, 'a/b/c')).toBe('read')
  })

  it('the most specific match wins, whether it grants more or less', () => {
    const claim = { '*': 'read', 'team/*': 'write', 'team/secret/*': 'read', 'team/secret/mine': 'admin', 'team/board': 'read' }
    expect(role(claim, 'elsewhere')).toBe('read')
    expect(role(claim, 'team/notes')).toBe('write')
    expect(role(claim, 'team/board')).toBe('read')
    expect(role(claim, 'team/secret/x')).toBe('read')
    expect(role(claim, 'team/secret/mine')).toBe('admin')
  })

  it('an absent or empty claim opens nothing', () => {
    expect(role(undefined, 'x')).toBeNull()
    expect(role({}, 'x')).toBeNull()
  })

  it('refuses a malformed claim instead of guessing', () => {
    const bad: unknown[] = [
      'team/*',
      ['team/*'],
      null,
      42,
      { 'team/*': 'owner' },
      { 'team/*': 'WRITE' },
      { 'team/*': true },
      { '': 'read' },
      { 'team*': 'read' },
      { 'team/*/x': 'read' },
      { '*/x': 'read' },
      { ['x'.repeat(1025)]: 'read' },
      Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`d${i}`, 'read'])),
    ]
    for (const claim of bad) expect(() => parseAccessClaim(claim), JSON.stringify(claim)?.slice(0, 60)).toThrow(AccessClaimError)
  })

  it('orders the roles read < write < admin', () => {
    expect(atLeast('admin', 'write')).toBe(true)
    expect(atLeast('write', 'write')).toBe(true)
    expect(atLeast('read', 'write')).toBe(false)
    expect(atLeast('write', 'admin')).toBe(false)
  })
})
