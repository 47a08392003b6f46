import type { IncomingMessage } from 'node:http'
import { CloseCode, Errors } from '../../../client/protocol.ts'
import { type AccessRules, type Role, atLeast, coversPattern, roleFor } from '../../auth/access.ts'
import { authorize } from '../../auth/authorize.ts'
import { TokenError, type TokenVerifier } from '../../auth/jwt.ts'
import { ApiError } from './errors.ts'

/** Who is calling: the token's user and what its `docs` claim opens (everything, as admin, in open mode). */
export interface Caller {
  /** `sub` of the token; null in open mode. */
  readonly user: string | null
  /** The role on `documentName`, or null when the token does not open it. */
  roleOn(documentName: string): Role | null
  /** Whether the token gives at least `min` on every document a pattern (`team/*`) names. */
  covers(pattern: string, min: Role): boolean
  /** When the token expires (ms since the epoch); null in open mode. */
  readonly expiresAt: number | null
}

/** Open mode (no key): every request may do everything, as on the socket — admin actions included. */
const OPEN_MODE: Caller = { user: null, roleOn: () => 'admin', covers: () => true, expiresAt: null }

const CHALLENGE = 'Bearer realm="collab"'

/** The Bearer token of a request. Throws 401 when there is none. */
function bearer(req: IncomingMessage): string {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '')
  if (!match) throw new ApiError(Errors.Unauthorized, 'send the token as "Authorization: Bearer <token>"', { 'www-authenticate': CHALLENGE })
  return match[1]!
}

function invalidToken(expired: boolean): ApiError {
  return new ApiError(expired ? Errors.TokenExpired : Errors.Unauthorized, expired ? 'the token has expired' : 'the token is not valid', {
    'www-authenticate': `${CHALLENGE}, error="invalid_token"`,
  })
}

/**
 * The REST API's authentication: the same JWT as the socket, as a Bearer
 * token, decided by the socket's own `authorize` (same verifier: key,
 * algorithms, exp/nbf, aud/iss, claims; same `docs` claim → role). Without a key (open
 * development mode) every request may do everything, as on the socket.
 */
export class ApiAuth {
  private readonly verifier: TokenVerifier | null

  constructor(verifier: TokenVerifier | null) {
    this.verifier = verifier
  }

  /** Verify the request's Bearer token. Throws 401 (`unauthorized`, `token-expired`). */
  async caller(req: IncomingMessage): Promise<Caller> {
    if (!this.verifier) return OPEN_MODE
    return this.callerOf(bearer(req))
  }

  /** Verify a token given some other way than the Authorization header. */
  async callerOf(token: string): Promise<Caller> {
    if (!this.verifier) return OPEN_MODE
    let rules: AccessRules
    let user: string
    let expiresAt: number
    try {
      const verified = await this.verifier.verify(token)
      rules = verified.rules
      user = verified.user.id
      expiresAt = verified.expiresAt
    } catch (error) {
      throw invalidToken(error instanceof TokenError && error.problem === 'expired')
    }
    return { user, roleOn: (documentName) => roleFor(rules, documentName), covers: (pattern, min) => coversPattern(rules, pattern, min), expiresAt }
  }

  /** Verify the token and require at least `min` on `documentName` (the socket's access decision, `authorize`). Throws 401/403. */
  async require(req: IncomingMessage, documentName: string, min: Role): Promise<{ user: string | null; role: Role }> {
    if (!this.verifier) return { user: null, role: 'admin' }
    const decision = await authorize(this.verifier, bearer(req), documentName)
    if (!decision.ok) {
      if (decision.refusal === CloseCode.Forbidden) throw new ApiError(Errors.Forbidden, `the token does not open ${JSON.stringify(documentName)}`)
      throw invalidToken(decision.refusal === CloseCode.TokenExpired)
    }
    if (!atLeast(decision.role, min)) throw new ApiError(Errors.Forbidden, `this needs the ${min} role; the token gives ${decision.role}`)
    return { user: decision.user?.id ?? null, role: decision.role }
  }
}
