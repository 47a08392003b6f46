import { SignJWT } from 'jose'
import type { CollabConfig } from '../../server/config.ts'

/** The HS256 secret, audience and issuer the auth tests' servers use. */
export const SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz'
export const AUDIENCE = 'collab-test'
export const ISSUER = 'https://issuer.test'

/** Server config for token mode (merge into startServer's config). */
export const TOKEN_MODE: Partial<CollabConfig> = { jwtSecret: SECRET, jwtAudience: AUDIENCE, jwtIssuer: ISSUER }

export interface TokenClaims {
  sub?: string
  name?: string
  color?: string
  docs?: Record<string, string>
  [claim: string]: unknown
}

export interface TokenOptions {
  /** Seconds from now until `exp`; negative for an expired token. @default 3600 */
  ttl?: number
  /** `nbf`, seconds from now. */
  notBefore?: number
  secret?: string
  audience?: string | null
  issuer?: string | null
}

/** Sign an HS256 test token: sub, name, docs, aud and iss as the test server expects unless overridden. */
export async function sign(claims: TokenClaims, options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const jwt = new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt(now - 5)
    .setExpirationTime(now + (options.ttl ?? 3600))
  if (options.notBefore !== undefined) jwt.setNotBefore(now + options.notBefore)
  if (options.audience !== null) jwt.setAudience(options.audience ?? AUDIENCE)
  if (options.issuer !== null) jwt.setIssuer(options.issuer ?? ISSUER)
  return jwt.sign(new TextEncoder().encode(options.secret ?? SECRET))
}

/** A token for `sub` (name capitalised) opening `docs`. */
export function tokenFor(sub: string, docs: Record<string, string>, options: TokenOptions = {}): Promise<string> {
  return sign({ sub, name: sub.charAt(0).toUpperCase() + sub.slice(1), docs }, options)
}
