/**
 * A secret in the configuration is named, never printed: at start-up
 * validation (exit 2) and in run-time logs (a Redis or PostgreSQL error).
 * Each case runs the real server process and reads all it wrote.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startRedis } from '../../scripts/cluster/services.ts'
import { freePort, spawnMain } from '../helpers/process.ts'
import { tempDir } from '../helpers/server.ts'

/** The exit code of a configuration error (docs/configuration.md). */
const CONFIG_ERROR_EXIT = 2

async function refusedStart(env: Record<string, string>, secret: string, variable: string): Promise<void> {
  const server = await spawnMain(env)
  expect(await server.exited).toBe(CONFIG_ERROR_EXIT)
  const out = server.output()
  expect(out).toContain(variable)
  expect(out).not.toContain(secret)
}

describe('start-up validation names a bad secret without printing it', () => {
  it('JWT_SECRET one byte too short', async () => {
    const secret = `Sh0rt-${'k'.repeat(25)}` // 31 bytes
    await refusedStart({ JWT_SECRET: secret }, secret, 'JWT_SECRET')
  })

  it('METRICS_TOKEN too short', async () => {
    await refusedStart({ METRICS_TOKEN: 'Metrics-Tok-5' }, 'Metrics-Tok-5', 'METRICS_TOKEN')
  })

  it('DATABASE_URL that does not parse, with a password in it', async () => {
    await refusedStart({ DATABASE_URL: 'postgres://alice:Pg-Passw0rd-1@127.0.0.1:99999/db' }, 'Pg-Passw0rd-1', 'DATABASE_URL')
  })

  it('REDIS_URL that does not parse, with a password in it', async () => {
    await refusedStart({ REDIS_URL: 'redis//:Redis-Passw0rd-2@127.0.0.1:6379' }, 'Redis-Passw0rd-2', 'REDIS_URL')
  })

  it('JWT_PUBLIC_KEY holding a private key', async () => {
    const body = 'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgPrivateKeyMaterial'
    await refusedStart({ JWT_PUBLIC_KEY: `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n` }, body, 'JWT_PUBLIC_KEY')
  })

  it('JWKS_FILE whose content is not JSON', async () => {
    const path = join(tempDir(), 'jwks.json')
    // e.g. a key pasted as it came, not as a JSON Web Key Set (JSON.parse quotes short input whole)
    writeFileSync(path, 'TopSecretKeyMaterial')
    await refusedStart({ JWKS_FILE: path }, 'SecretKey', 'JWKS_FILE')
  })
})

describe('run-time errors name the setting without printing its secret', () => {
  it('a Redis that refuses REDIS_URL\'s password', async () => {
    const redis = await startRedis({ password: 'the-real-password' })
    const server = await spawnMain({ REDIS_URL: `redis://:Wrong-Redis-Pw-3@127.0.0.1:${redis.port}` })
    try {
      await server.waitFor('collab server listening')
      await server.waitFor('WRONGPASS')
      server.proc.kill('SIGTERM')
      expect(await server.exited).toBe(0)
      expect(server.output()).toContain('REDIS_URL')
      expect(server.output()).not.toContain('Wrong-Redis-Pw-3')
    } finally {
      await redis.stop()
    }
  })

  it('a PostgreSQL that cannot be reached at DATABASE_URL', async () => {
    const port = await freePort() // nothing listens there
    const server = await spawnMain({ DATABASE_URL: `postgres://alice:Pg-Passw0rd-4@127.0.0.1:${port}/db` })
    await server.waitFor('collab server listening')
    // A REST read needs storage: the connection error is logged (and answered 500).
    expect((await fetch(`${server.http}/api/documents/x`)).status).toBe(500)
    await server.waitFor('ECONNREFUSED')
    server.proc.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    expect(server.output()).not.toContain('Pg-Passw0rd-4')
  })
})
