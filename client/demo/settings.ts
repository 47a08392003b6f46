/**
 * Who and where: the room (from `?room=`, `#name` or the last one used), the
 * person's name (picked on the page, kept in localStorage) with a colour
 * derived from it, a stable user id, and the token (`?token=`, the settings
 * field, or `dev` for a server in open mode). A JWT's `sub` and `name` win:
 * with tokens the server stamps them on everything this user writes.
 */

const KEY = { name: 'collab-demo:name', id: 'collab-demo:id', token: 'collab-demo:token', room: 'collab-demo:room' } as const

/** The token used when none is given: any token opens a server in open mode. */
export const DEV_TOKEN = 'dev'
/** The room opened when none is named. */
export const DEFAULT_ROOM = 'welcome'

export interface Settings {
  room: string
  token: string
  user: { id: string; name: string; color: string }
  /** The name comes from the token and cannot be changed here. */
  nameFromToken: boolean
}

/** A readable, stable colour for a name (#rrggbb: the editors append alpha digits to it). */
export function colorFor(name: string): string {
  let hash = 2166136261
  for (const ch of name) hash = Math.imul(hash ^ (ch.codePointAt(0) ?? 0), 16777619)
  const hue = (hash >>> 0) % 360
  return hslToHex(hue, 0.62, 0.42)
}

function hslToHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l)
  const channel = (n: number) => {
    const k = (n + h / 30) % 12
    const v = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))
    return Math.round(v * 255)
      .toString(16)
      .padStart(2, '0')
  }
  return `#${channel(0)}${channel(8)}${channel(4)}`
}

/** The claims of a JWT (not verified: the server does that), or null if `token` is not one. */
export function jwtClaims(token: string): Record<string, unknown> | null {
  const part = token.split('.')[1]
  if (token.split('.').length !== 3 || !part) return null
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='))
    const claims: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))))
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : null
  } catch (error) {
    console.warn('page: the token looks like a JWT but its claims cannot be read', error)
    return null
  }
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8))
  return `u-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`
}

/** The room named by the URL (`?room=` first, then `#name`), else the last one used, else `welcome`. */
export function roomFromUrl(url: URL): string {
  const named = url.searchParams.get('room') ?? decodeURIComponent(url.hash.slice(1))
  return named.trim() || localStorage.getItem(KEY.room) || DEFAULT_ROOM
}

/** Read the settings; a `?token=` is moved out of the address bar into this tab's storage. */
export function loadSettings(location: Location, history: History): Settings {
  const url = new URL(location.href)
  const fromUrl = url.searchParams.get('token')
  if (fromUrl !== null) {
    sessionStorage.setItem(KEY.token, fromUrl)
    url.searchParams.delete('token')
    history.replaceState(null, '', url)
  }
  const token = sessionStorage.getItem(KEY.token) || DEV_TOKEN
  const room = roomFromUrl(url)
  localStorage.setItem(KEY.room, room)

  let id = localStorage.getItem(KEY.id)
  if (!id) {
    id = randomId()
    localStorage.setItem(KEY.id, id)
  }
  let name = localStorage.getItem(KEY.name)
  if (!name) {
    name = `Guest ${id.slice(2, 6).toUpperCase()}`
    localStorage.setItem(KEY.name, name)
  }
  const claims = jwtClaims(token)
  const sub = typeof claims?.sub === 'string' && claims.sub ? claims.sub : undefined
  const tokenName = typeof claims?.name === 'string' && claims.name ? claims.name : undefined
  const finalName = tokenName ?? name
  const color = typeof claims?.color === 'string' && /^#[0-9a-f]{6}$/i.test(claims.color) ? claims.color : colorFor(finalName)
  return { room, token, user: { id: sub ?? id, name: finalName, color }, nameFromToken: tokenName !== undefined }
}

/** Keep a new name (the page reloads to use it). */
export function saveName(name: string): void {
  localStorage.setItem(KEY.name, name.trim().slice(0, 60))
}

/** Keep a token for this tab ('' goes back to the dev token). */
export function saveToken(token: string): void {
  if (token.trim()) sessionStorage.setItem(KEY.token, token.trim())
  else sessionStorage.removeItem(KEY.token)
}

/** The page's address for `room` (the token is never put in the address). */
export function roomUrl(location: Location, room: string): string {
  const url = new URL(location.href)
  url.search = ''
  url.hash = ''
  url.searchParams.set('room', room)
  return url.toString()
}
