/**
 * Token verification: which key, which algorithms, which claims. One
 * `TokenVerifier` per server, built once at start from the configuration.
 *
 * - `JWT_SECRET`: HS256 with a shared secret (at least 32 bytes).
 * - `JWT_PUBLIC_KEY`: a PEM public key; RS256 for RSA (≥ 2048 bits), ES256 for EC P-256.
 * - `JWKS_FILE`: a local JSON Web Key Set (public RSA / EC P-256 keys), picked by `kid`/`alg`.
 *
 * The algorithm list is fixed by the key, never taken from the token, so a
 * token cannot choose `none` or turn a public key into an HMAC secret.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWSAlgorithm, type JWTVerifyGetKey } from 'jose'
import { type AccessRules, DOCS_CLAIM, parseAccessClaim } from './access.ts'

/** Who a token says the user is; stamped into their presence. */
export interface TokenUser {
  /** `sub` */
  id: string
  /** `name`, or `sub` when absent. */
  name: string
  /** `color` (`#rgb` / `#rrggbb`), or a colour derived from `sub`. */
  color: string
}

export interface VerifiedToken {
  user: TokenUser
  rules: AccessRules
  /** `exp`, in ms since the epoch. */
  expiresAt: number
}

/** Why a token was refused: `expired` (authentic, but past `exp`) or anything else. */
export type TokenProblem = 'invalid' | 'expired'

export class TokenError extends Error {
  readonly problem: TokenProblem
  constructor(problem: TokenProblem, detail: string, cause?: unknown) {
    super(detail, { cause })
    this.name = 'TokenError'
    this.problem = problem
  }
}

/** The key settings, as validated by `parseConfig`. Exactly one key source, or none (open mode). */
export interface KeySettings {
  jwtSecret?: string
  jwtPublicKey?: string
  jwksFile?: string
  jwtAudience?: string
  jwtIssuer?: string
}

/** Longest token accepted; longer ones are refused before any crypto runs. */
export const MAX_TOKEN_LENGTH = 8192
/** Shortest HS256 secret accepted (RFC 7518 §3.2: at least the hash size). */
export const MIN_SECRET_BYTES = 32

const MAX_NAME_LENGTH = 128
const MAX_SUB_LENGTH = 256
const COLOR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/
/** Colours for users whose token has none: readable on white, picked by a hash of `sub`. */
const PALETTE = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#008080', '#f032e6', '#9a6324', '#800000', '#000075', '#808000', '#469990']

/** The algorithm a PEM public key verifies. Throws with a message fit for a config error. */
export function publicKeyAlgorithm(key: KeyObject): JWSAlgorithm {
  if (key.type !== 'public') throw new Error('not a public key')
  const details = key.asymmetricKeyDetails
  if (key.asymmetricKeyType === 'rsa') {
    if ((details?.modulusLength ?? 0) < 2048) throw new Error('RSA keys must have at least 2048 bits')
    return 'RS256'
  }
  if (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') return 'ES256'
  throw new Error(`unsupported key type ${key.asymmetricKeyType ?? 'unknown'}${details?.namedCurve ? ` (${details.namedCurve})` : ''}`)
}

/** Parse a PEM public key (literal `\n` escapes allowed, as .env files write them). */
export function parsePublicKey(pem: string): KeyObject {
  return createPublicKey(pem.includes('\\n') ? pem.replaceAll('\\n', '\n') : pem)
}

/** Read and check a JWKS file: public RSA / EC P-256 signing keys only. Throws with a config-error message. */
export function loadJwks(path: string, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): JSONWebKeySet {
  let text: string
  try {
    text = read(path)
  } catch (error) {
    throw new Error(`cannot read a JSON Web Key Set from ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    // JSON.parse's message quotes the input, which may be key material: say only what is wrong.
    throw new Error(`${path} is not JSON (its content is not shown): expected a JSON Web Key Set, {"keys": [ ... ]}`)
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys
  if (!Array.isArray(keys) || keys.length === 0) throw new Error(`${path} is not a JSON Web Key Set: expected {"keys": [ ... ]} with at least one key`)
  for (const key of keys as Array<Record<string, unknown>>) {
    if (typeof key !== 'object' || key === null) throw new Error(`${path}: every key must be an object`)
    if ('d' in key) throw new Error(`${path} contains a private key (kid ${String(key.kid)}): publish only public keys to the server`)
    if (key.kty !== 'RSA' && !(key.kty === 'EC' && key.crv === 'P-256')) {
      throw new Error(`${path}: key ${String(key.kid)} is ${String(key.kty)}; only RSA and EC P-256 keys are supported`)
    }
  }
  return { keys } as JSONWebKeySet
}

/** Whether any key is configured (otherwise the server runs in open development mode). */
export function hasKey(settings: KeySettings): boolean {
  return Boolean(settings.jwtSecret || settings.jwtPublicKey || settings.jwksFile)
}

export class TokenVerifier {
  private readonly key: Uint8Array | KeyObject | JWTVerifyGetKey
  private readonly algorithms: JWSAlgorithm[]
  private readonly audience: string | undefined
  private readonly issuer: string | undefined

  /** Build from validated settings; reads `jwksFile`. Returns null when no key is configured. */
  static fromSettings(settings: KeySettings, read?: (path: string) => string): TokenVerifier | null {
    if (settings.jwtSecret) return new TokenVerifier(new TextEncoder().encode(settings.jwtSecret), ['HS256'], settings)
    if (settings.jwtPublicKey) {
      const key = parsePublicKey(settings.jwtPublicKey)
      return new TokenVerifier(key, [publicKeyAlgorithm(key)], settings)
    }
    if (settings.jwksFile) return new TokenVerifier(createLocalJWKSet(loadJwks(settings.jwksFile, read)), ['RS256', 'ES256'], settings)
    return null
  }

  constructor(key: Uint8Array | KeyObject | JWTVerifyGetKey, algorithms: JWSAlgorithm[], settings: KeySettings) {
    this.key = key
    this.algorithms = algorithms
    this.audience = settings.jwtAudience
    this.issuer = settings.jwtIssuer
  }

  /** Verify signature, `exp`, `nbf`, `aud`/`iss` when configured, and the claims we read. Throws TokenError. */
  async verify(token: string): Promise<VerifiedToken> {
    if (token.length === 0) throw new TokenError('invalid', 'no token')
    if (token.length > MAX_TOKEN_LENGTH) throw new TokenError('invalid', `token longer than ${MAX_TOKEN_LENGTH} characters`)
    let payload: Record<string, unknown>
    try {
      const options = { algorithms: this.algorithms, audience: this.audience, issuer: this.issuer, requiredClaims: ['exp', 'sub'] }
      // jwtVerify has one overload per key kind; the union needs picking.
      const result = typeof this.key === 'function' ? await jwtVerify(token, this.key, options) : await jwtVerify(token, this.key, options)
      payload = result.payload
    } catch (error) {
      const code = (error as { code?: unknown }).code
      throw new TokenError(code === 'ERR_JWT_EXPIRED' ? 'expired' : 'invalid', typeof code === 'string' ? code : String(error), error)
    }
    return readClaims(payload)
  }
}

function readClaims(payload: Record<string, unknown>): VerifiedToken {
  const { sub, name, color, exp } = payload
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUB_LENGTH) {
    throw new TokenError('invalid', `sub must be a string of 1 to ${MAX_SUB_LENGTH} characters`)
  }
  let rules: AccessRules
  try {
    rules = parseAccessClaim(payload[DOCS_CLAIM])
  } catch (error) {
    throw new TokenError('invalid', error instanceof Error ? error.message : String(error), error)
  }
  const shownName = typeof name === 'string' && name.trim() !== '' ? name.trim().slice(0, MAX_NAME_LENGTH) : sub.slice(0, MAX_NAME_LENGTH)
  return {
    user: { id: sub, name: shownName, color: typeof color === 'string' && COLOR.test(color) ? color : colorFor(sub) },
    rules,
    expiresAt: (exp as number) * 1000,
  }
}

/** A stable colour for a user id. */
export function colorFor(id: string): string {
  return PALETTE[createHash('sha256').update(id).digest()[0]! % PALETTE.length]!
}
