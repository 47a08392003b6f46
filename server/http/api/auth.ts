import type { IncomingMessage } from 'node:http'
import { type AccessRules, type Role, atLeast, roleFor } from '../../auth/access.ts'
import { TokenError, type TokenVerifier } from '../../auth/jwt.ts'
import { ApiError, ApiErrorCode } from './errors.ts'

/** Who is calling: the token's user and what its `docs` claim opens (everything, as admin, in open mode). */
export interface Caller {
  /** `sub` of the token; null in open mode. */
  readonly user: string | null
  /** The role on `documentName`, or null when the token does not open it. */
  roleOn(documentName: string): Role | null
}

const OPEN_MODE: Caller = { user: null, roleOn: () => 'admin' }

const CHALLENGE = 'Bearer realm="collab"'

/**
 * The REST API's authentication: the same JWT as the socket, as a Bearer
 * token, checked by the same verifier (key, algorithms, exp/nbf, aud/iss,
 * claims), and the same `docs` claim → role resolution. Without a key (open
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
    const header = req.headers.authorization ?? ''
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)
    if (!match) {
      throw new ApiError(401, ApiErrorCode.Unauthorized, 'send the token as "Authorization: Bearer <token>"', { 'www-authenticate': CHALLENGE })
    }
    let rules: AccessRules
    let user: string
    try {
      const verified = await this.verifier.verify(match[1]!)
      rules = verified.rules
      user = verified.user.id
    } catch (error) {
      const expired = error instanceof TokenError && error.problem === 'expired'
      throw new ApiError(401, expired ? ApiErrorCode.TokenExpired : ApiErrorCode.Unauthorized, expired ? 'the token has expired' : 'the token is not valid', {
        'www-authenticate': `${CHALLENGE}, error="invalid_token"`,
      })
    }
    return { user, roleOn: (documentName) => roleFor(rules, documentName) }
  }

  /** Verify the token and require at least `min` on `documentName`. Throws 401/403. */
  async require(req: IncomingMessage, documentName: string, min: Role): Promise<{ user: string | null; role: Role }> {
    const caller = await this.caller(req)
    const role = caller.roleOn(documentName)
    if (!role) throw new ApiError(403, ApiErrorCode.Forbidden, `the token does not open ${JSON.stringify(documentName)}`)
    if (!atLeast(role, min)) throw new ApiError(403, ApiErrorCode.Forbidden, `this needs the ${min} role; the token gives ${role}`)
    return { user: caller.user, role }
  }
}
