import { describe, expect, it } from 'vitest'
import { REDACTED, scrubber, secretsOf } from '../../server/secrets.ts'

describe('secrets', () => {
  it('finds JWT_SECRET, METRICS_TOKEN and the URL passwords, as written and decoded', () => {
    const secrets = secretsOf({ jwtSecret: 'jwt-secret-value', metricsToken: 'metrics-token', databaseUrl: 'postgres://u:p%40ss-word@db/x', redisUrl: 'redis://127.0.0.1:6379' })
    expect(secrets.sort()).toEqual(['jwt-secret-value', 'metrics-token', 'p%40ss-word', 'p@ss-word'].sort())
  })

  it('finds a password given as a query parameter (ioredis and pg read ?password=)', () => {
    const secrets = secretsOf({ redisUrl: 'redis://127.0.0.1:6379?password=query-pass%21', databaseUrl: 'postgres://db/x?password=pg-query-pass' })
    expect(secrets).toEqual(expect.arrayContaining(['query-pass!', 'query-pass%21', 'pg-query-pass']))
    expect(scrubber(secrets)('ERR AUTH query-pass! refused')).toBe(`ERR AUTH ${REDACTED} refused`)
  })

  it('scrubs plain and JSON-escaped forms, the longer secret whole', () => {
    const scrub = scrubber(['pa"ss\\word', 'secret', 'secret-longer'])
    const line = JSON.stringify({ msg: 'auth pa"ss\\word failed', a: 'secret-longer', b: 'a secret' })
    const out = scrub(line)
    expect(JSON.parse(out)).toEqual({ msg: `auth ${REDACTED} failed`, a: REDACTED, b: `a ${REDACTED}` })
  })
})
