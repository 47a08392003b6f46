/**
 * Who and where: the room (from `?room=`, `#name` or the last one used), the
 * person's name (picked on the page, kept in localStorage) with a colour
 * derived from it, a stable user id, and the token (`?token=`, the settings
 * field, or `dev` for a server in open mode). A JWT's `sub` and `name` win:
 * with tokens the server stamps them on everything this user writes.
 */
import { tokenIdentity } from '../index.ts'

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
  /** The token is a JWT: the client takes the user id from it. */
  idFromToken: boolean
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
  // With a JWT the client takes the id (and name, colour) from the token, as the server does.
  const identity = tokenIdentity(token)
  const finalName = identity?.name ?? name
  const color = identity?.color && /^#[0-9a-f]{6}$/i.test(identity.color) ? identity.color : colorFor(finalName)
  return { room, token, user: { id: identity?.id ?? id, name: finalName, color }, nameFromToken: identity?.name !== undefined, idFromToken: identity !== null }
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
