/**
 * The token a bench client signs in with: in token mode (`collab-tokens`) a
 * user of its own (`sub` user-<client id>, as the chat edits name their author; write on every document), so the
 * server checks roles and client-id ownership as for real users; otherwise a
 * placeholder the open-mode targets ignore.
 */
import { SignJWT } from 'jose'
import type { TargetAddress } from '../loadgen/messages.ts'

export async function benchToken(target: TargetAddress, clientId: number): Promise<string> {
  const jwt = target.jwt
  if (!jwt) return 'bench'
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ sub: `user-${clientId}`, name: `User ${clientId}`, docs: { '*': 'write' } })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt(now - 5)
    .setExpirationTime(now + 24 * 3600)
    .setAudience(jwt.audience)
    .setIssuer(jwt.issuer)
    .sign(new TextEncoder().encode(jwt.secret))
}
