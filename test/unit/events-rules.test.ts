/**
 * The change feed's pure rules: which addresses a webhook may reach, the
 * retry schedule, which patterns an admin may configure, and the filters.
 */
import { describe, expect, it } from 'vitest'
import { coversPattern, parseAccessClaim } from '../../server/auth/access.ts'
import { documentFilter, envelope, typeFilter } from '../../server/events/envelope.ts'
import { WebhookConfigError, loadWebhooksFile, newSecret } from '../../server/events/webhook-config.ts'
import { MAX_BACKOFF_MS, backoff } from '../../server/events/webhooks.ts'
import { UrlRefused, isPublicAddress, resolveTarget } from '../../server/events/webhook-send.ts'

describe('webhook addresses (SSRF)', () => {
  it('refuses loopback, private, link-local, metadata, unique-local, shared, multicast and IPv4-mapped forms of them', () => {
    for (const a of ['127.0.0.1', '127.8.9.1', '10.0.0.1', '172.16.5.5', '172.31.255.255', '192.168.0.1', '169.254.169.254', '100.64.0.1', '100.100.100.200', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fd00:ec2::254', 'fc00::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '64:ff9b::a00:1']) {
      expect([a, isPublicAddress(a)]).toEqual([a, false])
    }
  })

  it('allows public addresses', () => {
    for (const a of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) expect([a, isPublicAddress(a)]).toEqual([a, true])
  })

  it('only http(s), no credentials; with WEBHOOK_ALLOW_PRIVATE loopback is fine', async () => {
    await expect(resolveTarget('ftp://8.8.8.8/x', false)).rejects.toThrow(UrlRefused)
    await expect(resolveTarget('file:///etc/passwd', true)).rejects.toThrow(UrlRefused)
    await expect(resolveTarget('http://user:pw@8.8.8.8/', false)).rejects.toThrow(/credentials/)
    await expect(resolveTarget('http://127.0.0.1:9/', false)).rejects.toThrow(/loopback, private/)
    await expect(resolveTarget('http://[::1]:9/', false)).rejects.toThrow(UrlRefused)
    expect((await resolveTarget('http://127.0.0.1:9/', true)).address).toBe('127.0.0.1')
    expect((await resolveTarget('https://8.8.8.8/hook', false)).address).toBe('8.8.8.8')
  })
})

describe('retries', () => {
  it('exponential from the base, jittered within its upper half, capped at 10 minutes', () => {
    expect(backoff(1, 1000, () => 0)).toBe(500)
    expect(backoff(1, 1000, () => 1)).toBe(1000)
    expect(backoff(4, 1000, () => 1)).toBe(8000)
    expect(backoff(30, 1000, () => 1)).toBe(MAX_BACKOFF_MS)
    const spread = new Set(Array.from({ length: 50 }, () => backoff(3, 1000)))
    expect(spread.size).toBeGreaterThan(10)
    for (const d of spread) expect(d >= 2000 && d <= 4000).toBe(true)
  })
})

describe('who may configure a pattern', () => {
  const rules = parseAccessClaim({ 'team/*': 'admin', 'team/hr/*': 'read', 'team/notes': 'write', 'ops/deploy': 'admin' })
  it('admin over every document the pattern names, no narrower rule giving less', () => {
    expect(coversPattern(rules, 'team/eng/*', 'admin')).toBe(true)
    expect(coversPattern(rules, 'team/eng', 'admin')).toBe(true)
    expect(coversPattern(rules, 'ops/deploy', 'admin')).toBe(true)
    expect(coversPattern(rules, 'team/*', 'admin')).toBe(false)
    expect(coversPattern(rules, 'team/hr/*', 'admin')).toBe(false)
    expect(coversPattern(rules, 'team/notes', 'admin')).toBe(false)
    expect(coversPattern(rules, '*', 'admin')).toBe(false)
    expect(coversPattern(rules, 'ops/*', 'admin')).toBe(false)
    expect(coversPattern(parseAccessClaim({ '*': 'admin' }), '*', 'admin')).toBe(true)
    expect(coversPattern(rules, 'team/*', 'read')).toBe(true)
  })
})

describe('filters and the envelope', () => {
  it('types: exact or prefix.*; documents: docs-claim patterns', () => {
    const t = typeFilter(['chat.*', 'document.deleted'])
    expect(['chat.message.created', 'document.deleted', 'document.updated', 'chatter'].map(t)).toEqual([true, true, false, false])
    expect(() => typeFilter(['chat*'])).toThrow()
    const d = documentFilter(['team/*', 'notes'])
    expect(['team/a', 'notes', 'team', 'other'].map(d)).toEqual([true, true, false, false])
    expect(() => documentFilter(['a*b'])).toThrow()
  })

  it('the envelope: v 1, the id as a string, the time as ISO 8601', () => {
    expect(envelope({ id: 42, type: 'document.deleted', document: 'd', time: 0, actor: 'ann', data: {} })).toEqual({
      v: 1, id: '42', type: 'document.deleted', document: 'd', time: '1970-01-01T00:00:00.000Z', actor: 'ann', data: {},
    })
  })

  it('WEBHOOKS_FILE: an array of endpoints, each checked; a clear sentence for what is wrong', () => {
    const secret = newSecret()
    const ok = loadWebhooksFile('f', () => JSON.stringify([{ id: 'search', url: 'https://search.example/hook', secret, types: ['document.*'], documents: ['team/*'] }]))
    expect(ok).toEqual([{ id: 'search', url: 'https://search.example/hook', secret, types: ['document.*'], documents: ['team/*'], source: 'config', createdBy: null }])
    expect(() => loadWebhooksFile('f', () => '{}')).toThrow(WebhookConfigError)
    expect(() => loadWebhooksFile('f', () => JSON.stringify([{ id: 'x', url: 'gopher://x', secret }]))).toThrow(/http or https/)
    expect(() => loadWebhooksFile('f', () => JSON.stringify([{ id: 'x', url: 'https://x', secret: 'short' }]))).toThrow(/secret/)
    expect(() => loadWebhooksFile('f', () => JSON.stringify([{ id: 'x', url: 'https://x', secret }, { id: 'x', url: 'https://y', secret }]))).toThrow(/same id/)
  })
})
