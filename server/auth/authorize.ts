/**
 * The one access decision, shared by every door (WebSocket, REST): a token and a
 * document name in, a user and role or a refusal code out.
 */
import { CloseCode, type CloseCodeInfo } from '../../client/protocol.ts'
import { type Role, roleFor } from './access.ts'
import { TokenError, type TokenUser, type TokenVerifier } from './jwt.ts'

/** The role everyone gets in open mode. */
export const OPEN_MODE_ROLE: Role = 'write'

export type Decision =
  | { ok: true; user: TokenUser | null; role: Role; expiresAt: number | null }
  | { ok: false; refusal: CloseCodeInfo; detail: string; user?: string }

/** `verifier` null = open mode: everyone may, with OPEN_MODE_ROLE and no identity. */
export async function authorize(verifier: TokenVerifier | null, token: string, documentName: string): Promise<Decision> {
  if (!verifier) return { ok: true, user: null, role: OPEN_MODE_ROLE, expiresAt: null }
  let verified
  try {
    verified = await verifier.verify(token)
  } catch (error) {
    const expired = error instanceof TokenError && error.problem === 'expired'
    return { ok: false, refusal: expired ? CloseCode.TokenExpired : CloseCode.Unauthorized, detail: error instanceof Error ? error.message : String(error) }
  }
  const role = roleFor(verified.rules, documentName)
  if (!role) return { ok: false, refusal: CloseCode.Forbidden, detail: 'the docs claim does not open this document', user: verified.user.id }
  return { ok: true, user: verified.user, role, expiresAt: verified.expiresAt }
}
