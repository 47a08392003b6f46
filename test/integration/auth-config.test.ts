import { spawnSync } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { connect, type AddressInfo } from 'node:net'
import { networkInterfaces } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { SignJWT } from 'jose'
import { pino } from 'pino'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { CloseCode, documentCloseReason } from '../../client/protocol.ts'
import { createCollabServer } from '../../server/app.ts'
import { ConfigError, parseConfig } from '../../server/config.ts'
import { provider, settled } from '../helpers/clients.ts'
import { startServer, tempDir } from '../helpers/server.ts'
import { AUDIENCE, ISSUER, SECRET } from '../helpers/tokens.ts'

const BASE = { PORT: '0', LOG_LEVEL: 'info' }

/** Start the server as main.ts would from `env`, logging into an array. */
async function startFromEnv(env: Record<string, string>) {
  const lines: Array<{ level: number; msg: string }> = []
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) })
  const server = createCollabServer(parseConfig({ ...BASE, DB_PATH: join(tempDir(), 'c.db'), ...env }), { logger: pino({ level: 'info' }, sink) })
  await server.listen()
  onTestFinished(() => server.close())
  const warnings = () => lines.filter((l) => l.level === 40).map((l) => l.msg)
  return { server, warnings, address: server.httpServer.address() as AddressInfo }
}

/** Resolves with the connection error code, or 'connected'. */
const tryConnect = (host: string, port: number) =>
  new Promise<string>((resolve) => {
    const s = connect({ host, port }, () => (s.destroy(), resolve('connected')))
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'))
  })

const runMain = (env: Record<string, string>) =>
  spawnSync(process.execPath, ['server/main.ts'], { env: { ...process.env, ...BASE, DB_PATH: ':memory:', ...env }, encoding: 'utf8', timeout: 30_000 })

describe('open mode', () => {
  it('binds to 127.0.0.1 by default and warns loudly; a key makes the default 0.0.0.0', async () => {
    expect(parseConfig({}).host).toBe('127.0.0.1')
    expect(parseConfig({ JWT_SECRET: SECRET }).host).toBe('0.0.0.0')
    expect(parseConfig({ JWT_SECRET: SECRET, HOST: '10.1.2.3' }).host).toBe('10.1.2.3')

    const { address, warnings } = await startFromEnv({})
    expect(address.address).toBe('127.0.0.1')
    expect(warnings()).toEqual([expect.stringContaining('OPEN MODE')])
    // Not reachable through the machine's other addresses.
    const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)
    if (external) expect(await tryConnect(external.address, address.port)).toBe('ECONNREFUSED')
    expect(await tryConnect('127.0.0.1', address.port)).toBe('connected')
  })

  it('an explicit HOST still wins, with a second warning; with a key there is none', async () => {
    const open = await startFromEnv({ HOST: '0.0.0.0' })
    expect(open.address.address).toBe('0.0.0.0')
    expect(open.warnings()).toEqual([expect.stringContaining('OPEN MODE'), expect.stringContaining('reachable from the network')])
    const keyed = await startFromEnv({ JWT_SECRET: SECRET, HOST: '127.0.0.1' })
    expect(keyed.warnings()).toEqual([])
  })
})

describe('key configuration', () => {
  it('names every bad key setting; the server exits with 2', () => {
    const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString()
    const problems = (env: Record<string, string>) => {
      try {
        parseConfig(env)
        return ''
      } catch (error) {
        return (error as ConfigError).problems.join('\n')
      }
    }
    expect(problems({ JWT_SECRET: 'too-short' })).toMatch(/^JWT_SECRET .*at least 32 bytes/)
    expect(problems({ JWT_PUBLIC_KEY: 'not a key' })).toMatch(/^JWT_PUBLIC_KEY .*PEM public key/)
    expect(problems({ JWT_PUBLIC_KEY: weakRsa })).toMatch(/^JWT_PUBLIC_KEY /)
    expect(problems({ JWT_SECRET: SECRET, JWKS_FILE: '/x.json' })).toMatch(/JWT_SECRET and JWKS_FILE are set/)
    expect(problems({ AWARENESS_MAX_RATE: '0', AWARENESS_MAX_BYTES: '10' })).toMatch(/AWARENESS_MAX_BYTES.*\n.*AWARENESS_MAX_RATE/s)

    const short = runMain({ JWT_SECRET: 'short' })
    expect(short.status).toBe(2)
    expect(short.stderr).toContain('JWT_SECRET ')
    const missing = runMain({ JWKS_FILE: join(tempDir(), 'nope.json') })
    expect(missing.status).toBe(2)
    expect(missing.stderr).toContain('JWKS_FILE=')
    const privateJwks = join(tempDir(), 'private.json')
    writeFileSync(privateJwks, JSON.stringify({ keys: [generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })] }))
    const leaked = runMain({ JWKS_FILE: privateJwks })
    expect(leaked.status).toBe(2)
    expect(leaked.stderr).toContain('private key')
  })

  it('RS256 with JWT_PUBLIC_KEY; a token signed with the public key as an HMAC secret is refused', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
    const server = await startServer({ jwtPublicKey: pem.replaceAll('\n', '\\n') })
    const claims = { sub: 'ada', docs: { 'team/*': 'write' } }
    const good = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).setExpirationTime('1h').sign(privateKey)
    const confused = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(pem))
    await settled(provider(server.url, 'team/a', { token: good }))
    const reasons: string[] = []
    provider(server.url, 'team/a', { token: confused }).on('authenticationFailed', ({ reason }: { reason: string }) => reasons.push(reason))
    await vi.waitFor(() => expect(reasons).toEqual([documentCloseReason(CloseCode.Unauthorized)]))
  })

  it('ES256 with JWKS_FILE, and npm run token signing with JWT_PRIVATE_KEY or JWT_SECRET', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const jwks = join(tempDir(), 'jwks.json')
    writeFileSync(jwks, JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' }] }))
    const mint = (env: Record<string, string>, ...args: string[]) => {
      const r = spawnSync(process.execPath, ['server/main.ts', 'token', ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 })
      expect(r.stderr).toBe('')
      expect(r.status).toBe(0)
      expect(r.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/)
      return r.stdout.trim()
    }
    const pemKey = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const keyed = { JWT_PRIVATE_KEY: pemKey, JWT_AUDIENCE: AUDIENCE, JWT_ISSUER: ISSUER }
    const server = await startServer({ jwksFile: jwks, jwtAudience: AUDIENCE, jwtIssuer: ISSUER })
    const writer = mint(keyed, '--sub', 'ada', '--name', 'Ada', '--doc', 'team/*', '--doc', 'team/board=read', '--role', 'write', '--ttl', '1h', '--kid', 'k1')
    const plan = provider(server.url, 'team/plan', { token: writer })
    const board = provider(server.url, 'team/board', { token: writer })
    await Promise.all([settled(plan), settled(board)])
    expect([plan.authorizedScope, board.authorizedScope]).toEqual(['read-write', 'readonly'])
    const reasons: string[] = []
    provider(server.url, 'other/x', { token: writer }).on('authenticationFailed', ({ reason }: { reason: string }) => reasons.push(reason))
    await vi.waitFor(() => expect(reasons).toEqual([documentCloseReason(CloseCode.Forbidden)]))

    const hs = await startServer({ jwtSecret: SECRET })
    const dev = mint({ JWT_SECRET: SECRET }, '--sub', 'bob', '--doc', '*', '--role', 'admin')
    const p = provider(hs.url, 'anything', { token: dev })
    await settled(p)
    expect(p.authorizedScope).toBe('read-write')
  })
})
