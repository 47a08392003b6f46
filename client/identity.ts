/**
 * Who the local user is when the server checks tokens. With a JWT the server
 * takes the user from the token — `sub` is the id it stamps on presence and
 * requires as the author of chat messages, `name` (or `sub`) the name others
 * see — so the client takes the same identity from the token, and refuses a
 * `user.id` that disagrees with it at once instead of having its first chat
 * message refused by the server (`4422 policy-violation`).
 *
 * The token's claims are read without verifying the signature: that is the
 * server's job. They only say who the server will take this client for.
 */

/** The claims of a JWT, not verified; null when `token` is not a JWT (e.g. a development token in open mode). */
export function tokenClaims(token: string): Record<string, unknown> | null {
  const parts = token.split('.')
  const payload = parts[1]
  if (parts.length !== 3 || !payload) return null
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '=')
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes))
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims) ? (claims as Record<string, unknown>) : null
  } catch {
    return null // not base64url JSON: not a JWT, so no identity to take from it
  }
}

/** The identity a token gives (as the server reads it), or null when it is not a JWT with a `sub`. */
export interface TokenIdentity {
  /** `sub` */
  id: string
  /** `name`, when the token has one. */
  name?: string
  /** `color` (`#rgb` / `#rrggbb`), when the token has one. */
  color?: string
}

const COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i

/** The identity in `token` (unverified), or null. */
export function tokenIdentity(token: string): TokenIdentity | null {
  const claims = tokenClaims(token)
  const sub = claims?.sub
  if (typeof sub !== 'string' || sub === '') return null
  const name = typeof claims?.name === 'string' && claims.name.trim() !== '' ? claims.name.trim() : undefined
  const color = typeof claims?.color === 'string' && COLOR.test(claims.color) ? claims.color : undefined
  return { id: sub, ...(name ? { name } : {}), ...(color ? { color } : {}) }
}

/** A `user.id` that is not the token's `sub`: the server would refuse this user's chat messages. */
export class IdentityMismatchError extends Error {
  /** Stable, unlike the message text. */
  readonly code = 'identity-mismatch'
  /** The `user.id` the app gave. */
  readonly userId: string
  /** The `sub` of the token. */
  readonly tokenSub: string
  constructor(userId: string, tokenSub: string) {
    super(`the token is for user "${tokenSub}", but the client was given user.id "${userId}": leave user.id out to take the token's, or pass the token's sub`)
    this.name = 'IdentityMismatchError'
    this.userId = userId
    this.tokenSub = tokenSub
  }
}

/** What `new CollabClient({ user })` takes: everything may come from a JWT. */
export interface UserOptions {
  /** The user id (chat `author`). Optional with a JWT (its `sub`); if given it must equal the `sub`. */
  id?: string
  /** Display name. A JWT's `name` wins (the server shows that one); else this; else the id. */
  name?: string
  /** CSS colour. A JWT's `color` wins. @default '#3366cc' */
  color?: string
}

/** Throw `IdentityMismatchError` when `token` is a JWT for another user than `userId`. */
export function checkTokenIdentity(userId: string, token: string): void {
  const identity = tokenIdentity(token)
  if (identity && identity.id !== userId) throw new IdentityMismatchError(userId, identity.id)
}

/**
 * The local user: from a string JWT's claims when it has a `sub`, else from
 * `user`. Throws `IdentityMismatchError` when `user.id` disagrees with the
 * token, and a TypeError when no id can be had (no `user.id` and no JWT string).
 */
export function resolveUser(user: UserOptions | undefined, token: unknown): { id: string; name: string; color: string } {
  const identity = typeof token === 'string' ? tokenIdentity(token) : null
  if (identity && user?.id !== undefined && user.id !== identity.id) throw new IdentityMismatchError(user.id, identity.id)
  const id = identity?.id ?? user?.id
  if (!id) throw new TypeError('collab client: user.id is required unless the token is a JWT (a string) with a sub')
  return { id, name: identity?.name ?? user?.name ?? id, color: identity?.color ?? user?.color ?? '#3366cc' }
}
