/**
 * `yjs-collab-server token`: mint a development token from the configured key
 * and return it (the CLI prints it, and nothing else):
 *
 *   yjs-collab-server token --sub ada --name Ada --doc 'team/*' --role write --ttl 1h
 *
 * Key: JWT_SECRET (HS256), or JWT_PRIVATE_KEY (PEM: RSA → RS256, EC P-256 →
 * ES256; the server then holds the matching JWT_PUBLIC_KEY or JWKS_FILE).
 * JWT_AUDIENCE and JWT_ISSUER are set as `aud` / `iss` when present.
 * `--doc` may repeat; `--doc 'team/board=read'` gives that pattern its own role.
 * The environment is passed in by the entry point (server/main.ts).
 */
import { createPrivateKey, type KeyObject } from 'node:crypto'
import { parseArgs } from 'node:util'
import { SignJWT } from 'jose'
import { AccessClaimError, DOCS_CLAIM, ROLES, parseAccessClaim } from '../auth/access.ts'
import { MIN_SECRET_BYTES } from '../auth/jwt.ts'

export const TOKEN_USAGE = `yjs-collab-server token --sub ID --doc PATTERN[=ROLE]... [--name NAME] [--color #rrggbb] [--role ${ROLES.join('|')}] [--ttl 1h] [--kid KID]
key from JWT_SECRET (HS256) or JWT_PRIVATE_KEY (PEM, RS256/ES256); JWT_AUDIENCE / JWT_ISSUER are added when set`

/** A bad command line or key: the CLI prints the message with the usage and exits with 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

function fail(message: string): never {
  throw new UsageError(message)
}

/** `90`, `90s`, `30m`, `1h`, `7d` → seconds. */
function seconds(ttl: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(ttl.trim())
  if (!match) fail(`--ttl ${JSON.stringify(ttl)}: expected a number of seconds or e.g. 30m, 1h, 7d`)
  const n = Number(match[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd']
  if (n <= 0) fail('--ttl must be positive')
  return n
}

function signingKey(env: Record<string, string | undefined>): { key: Uint8Array | KeyObject; alg: string } {
  if (env.JWT_SECRET && env.JWT_PRIVATE_KEY) fail('set JWT_SECRET or JWT_PRIVATE_KEY, not both')
  if (env.JWT_SECRET) {
    if (Buffer.byteLength(env.JWT_SECRET) < MIN_SECRET_BYTES) fail(`JWT_SECRET must have at least ${MIN_SECRET_BYTES} bytes (the server refuses shorter ones)`)
    return { key: new TextEncoder().encode(env.JWT_SECRET), alg: 'HS256' }
  }
  if (!env.JWT_PRIVATE_KEY) fail('no key: set JWT_SECRET (HS256) or JWT_PRIVATE_KEY (PEM)')
  let key: KeyObject
  try {
    key = createPrivateKey(env.JWT_PRIVATE_KEY.replaceAll('\\n', '\n'))
  } catch (error) {
    fail(`JWT_PRIVATE_KEY is not a PEM private key: ${error instanceof Error ? error.message : String(error)}`)
  }
  if (key.asymmetricKeyType === 'rsa') return { key, alg: 'RS256' }
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return { key, alg: 'ES256' }
  fail(`JWT_PRIVATE_KEY: unsupported key type ${key.asymmetricKeyType ?? 'unknown'} (RSA or EC P-256)`)
}

/** The token for these arguments (after `token`), or the usage for `--help`. Throws UsageError. */
export async function tokenCommand(args: string[], env: Record<string, string | undefined>): Promise<string> {
  let values
  try {
    values = parseArgs({
      args,
      options: {
        sub: { type: 'string' },
        name: { type: 'string' },
        color: { type: 'string' },
        doc: { type: 'string', multiple: true },
        role: { type: 'string', default: 'write' },
        ttl: { type: 'string', default: '1h' },
        kid: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error))
  }
  if (values.help) return TOKEN_USAGE
  if (!values.sub) fail('--sub is required')
  if (!values.doc?.length) fail('at least one --doc is required (a name, prefix/* or *)')

  const docs: Record<string, string> = {}
  for (const entry of values.doc) {
    const at = entry.lastIndexOf('=')
    docs[at === -1 ? entry : entry.slice(0, at)] = at === -1 ? values.role : entry.slice(at + 1)
  }
  try {
    parseAccessClaim(docs)
  } catch (error) {
    if (error instanceof AccessClaimError) fail(error.message)
    throw error
  }

  const { key, alg } = signingKey(env)
  const claims: Record<string, unknown> = { [DOCS_CLAIM]: docs }
  if (values.name) claims.name = values.name
  if (values.color) claims.color = values.color
  const jwt = new SignJWT(claims)
    .setProtectedHeader(values.kid ? { alg, kid: values.kid } : { alg })
    .setSubject(values.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + seconds(values.ttl))
  if (env.JWT_AUDIENCE) jwt.setAudience(env.JWT_AUDIENCE)
  if (env.JWT_ISSUER) jwt.setIssuer(env.JWT_ISSUER)
  return jwt.sign(key)
}
