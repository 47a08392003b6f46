import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { ConfigError, defaultConfig, parseConfig } from '../../server/config.ts'

describe('configuration', () => {
  it('uses the documented defaults when nothing is set', () => {
    expect(parseConfig({})).toEqual(defaultConfig)
    expect(defaultConfig).toMatchObject({ port: 1234, dbPath: './data/collab.db', dbSync: 'normal', logLevel: 'info' })
  })

  it('reads every variable', () => {
    const c = parseConfig({ PORT: '8080', HOST: '127.0.0.1', DB_PATH: '/tmp/x.db', DB_SYNC: 'FULL', LOG_LEVEL: 'debug' })
    expect(c).toMatchObject({ port: 8080, host: '127.0.0.1', dbPath: '/tmp/x.db', dbSync: 'full', logLevel: 'debug' })
  })

  it('names every bad variable and what is allowed', () => {
    let error: unknown
    try {
      parseConfig({ PORT: '70000', DB_SYNC: 'sometimes', LOG_LEVEL: 'loud', MAX_MESSAGE_BYTES: '-1' })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    const problems = (error as ConfigError).problems.join('\n')
    expect(problems).toMatch(/PORT="70000".*0 to 65535/)
    expect(problems).toMatch(/DB_SYNC="sometimes".*'normal' or 'full'/)
    expect(problems).toMatch(/LOG_LEVEL="loud"/)
    expect(problems).toMatch(/MAX_MESSAGE_BYTES="-1"/)
  })

  it('PRESENCE_HEARTBEAT_MS and PRESENCE_DEAD_AFTER_MS: read, and the dead-instance window is at least two heartbeats', () => {
    expect(parseConfig({})).toMatchObject({ presenceHeartbeatMs: 1000, presenceDeadAfterMs: 3000 })
    expect(parseConfig({ PRESENCE_HEARTBEAT_MS: '500', PRESENCE_DEAD_AFTER_MS: '1000' })).toMatchObject({ presenceHeartbeatMs: 500, presenceDeadAfterMs: 1000 })
    for (const env of [{ PRESENCE_HEARTBEAT_MS: '2000' }, { PRESENCE_DEAD_AFTER_MS: '1500' }, { PRESENCE_HEARTBEAT_MS: '50' }]) {
      expect(() => parseConfig(env)).toThrow(ConfigError)
      try {
        parseConfig(env)
      } catch (error) {
        expect((error as ConfigError).problems[0]).toMatch(/^PRESENCE_/)
      }
    }
  })

  it('a bad value stops start-up with exit code 2 and a message naming the variable', () => {
    const r = spawnSync(process.execPath, ['server/main.ts'], {
      env: { ...process.env, PORT: 'abc' },
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('PORT="abc" is not valid')
  })

  // That every variable is documented (docs/configuration.md, .env.example): test/unit/docs-configuration.test.ts.
})
