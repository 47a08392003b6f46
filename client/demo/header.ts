/**
 * The header: open a room by name, pick your name, paste a token, and the
 * connection badge — connecting, syncing, saving (a change is not yet stored
 * by the server), saved, offline, or refused — from `client.status`,
 * `room.isSynced` and `room.unsaved`; and `client.transport` (over HTTP, it says so).
 */
import { CloseCode, type CollabClient, type Room, tokenClaims } from '../index.ts'
import { type Advice, adviceFor, identityAdvice } from './advice.ts'
import { byId } from './dom.ts'
import { roomUrl, saveName, saveToken, type Settings } from './settings.ts'

/** What the badge shows: `data-state` (for styles and tests) and the words. */
export type BadgeState = 'connecting' | 'syncing' | 'saving' | 'saved' | 'offline' | 'refused'

export function badgeState(client: CollabClient, room: Room, refusal: Advice | null): [BadgeState, string] {
  if (refusal) return ['refused', refusal.badge]
  if (client.stopped) return ['refused', `Refused: ${client.stopped.reason}`]
  if (client.status === 'offline') return ['offline', room.unsaved ? 'Offline · changes kept on this device' : 'Offline']
  if (client.status === 'connecting') return ['connecting', 'Connecting…']
  // Over the HTTP fallback (a proxy blocks WebSockets), the badge says so.
  const connected = client.transport === 'http' ? 'Connected over HTTP' : 'Connected'
  if (!room.isSynced) return ['syncing', `${connected} · syncing…`]
  if (room.unsaved) return ['saving', `${connected} · saving…`]
  return ['saved', `${connected} · saved`]
}

/** Wire the header to the client and room; returns a function that removes its listeners. */
export function mountHeader(client: CollabClient, room: Room, settings: Settings): () => void {
  const badge = byId('badge')
  const notice = byId('notice')
  let refusal: Advice | null = null
  /** Show the advice for a refusal (or hide the notice); `data-code` names the refusal. */
  const refuse = (advice: Advice | null) => {
    refusal = advice
    notice.hidden = advice === null
    notice.textContent = advice?.text ?? ''
    if (advice) notice.dataset.code = advice.code
    else delete notice.dataset.code
    update()
  }
  const update = () => {
    const [state, label] = badgeState(client, room, refusal)
    badge.dataset.state = state
    badge.textContent = label
    badge.dataset.transport = client.transport ?? ''
    badge.title =
      (state === 'saved' ? 'Every change is stored on the server' : label) +
      (client.transport === 'http' ? ' (WebSockets are blocked on this network: using the HTTP fallback)' : '')
  }
  const offs = [
    client.on('status', update),
    client.on('transport', update),
    client.on('stopped', ({ kind, reason, code, error }) => {
      if (kind === 'identity' && error) refuse(identityAdvice(error.tokenSub, error.userId))
      else {
        // A refused token whose reason carries no close code is an unauthorized one.
        const number = code ?? Number(/^(\d{4})\b/.exec(reason)?.[1])
        refuse(adviceFor(Number.isFinite(number) ? number : kind === 'auth' ? CloseCode.Unauthorized.code : reason, room.name))
      }
    }),
    room.on('unsaved', update),
    room.on('synced', update),
    room.on('denied', ({ reason }) => refuse(adviceFor(reason, room.name))),
    room.on('closed', ({ code, reason, retry }) => {
      if (!retry) refuse(adviceFor(code ?? reason, room.name))
      else update()
    }),
  ]
  update()

  // Room picker: a new room is a new page (and a new address to share).
  const roomInput = byId<HTMLInputElement>('room-input')
  roomInput.value = settings.room
  byId<HTMLFormElement>('room-form').addEventListener('submit', (event) => {
    event.preventDefault()
    const name = roomInput.value.trim()
    if (name && name !== settings.room) location.assign(roomUrl(location, name))
  })

  // Name: kept in localStorage; the page reloads to publish it everywhere.
  const nameInput = byId<HTMLInputElement>('name-input')
  nameInput.value = settings.user.name
  byId('me-swatch').style.background = settings.user.color
  if (settings.nameFromToken) {
    nameInput.readOnly = true
    nameInput.title = 'Your name comes from your token'
  }
  byId<HTMLFormElement>('name-form').addEventListener('submit', (event) => {
    event.preventDefault()
    const name = nameInput.value.trim()
    if (!name || name === settings.user.name || settings.nameFromToken) return
    saveName(name)
    location.reload()
  })

  // Token: for servers with JWT authentication (`npm run token -- --sub ada --name Ada --doc 'team/*'`).
  const tokenInput = byId<HTMLInputElement>('token-input')
  const claims = tokenClaims(settings.token)
  byId('token-info').textContent = claims
    ? `Using a token for ${String(claims.name ?? claims.sub ?? 'someone')}${typeof claims.exp === 'number' ? `, valid until ${new Date(claims.exp * 1000).toLocaleTimeString()}` : ''}.`
    : `Using “${settings.token}”: fine for a server in open mode.`
  byId<HTMLFormElement>('token-form').addEventListener('submit', (event) => {
    event.preventDefault()
    saveToken(tokenInput.value)
    location.reload()
  })

  return () => offs.forEach((off) => off())
}
