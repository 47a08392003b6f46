/**
 * Who is here: the local user first, then everyone else in the room, each
 * with their colour, online/away status and a "typing" hint, from
 * `room.presence` (awareness). The toggle sets the local user away by hand.
 */
import type { PresenceEntry, Room } from '../index.ts'
import { byId, coalesce, h } from './dom.ts'

function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean)
  return ((words[0]?.[0] ?? '?') + (words.length > 1 ? (words[words.length - 1]?.[0] ?? '') : '')).toUpperCase()
}

/** A round badge with a person's initials in their colour. */
export function avatar(name: string, color: string): HTMLElement {
  return h('span', { class: 'avatar', style: `background:${color}`, 'aria-hidden': 'true' }, initials(name))
}

function row(entry: PresenceEntry, self: boolean): HTMLElement {
  const status = entry.status === 'away' ? 'away' : 'online'
  return h(
    'li',
    { class: 'person', 'data-status': status, 'data-client': entry.clientId, 'data-self': self },
    avatar(entry.user.name, entry.user.color),
    h('span', { class: 'person-name' }, entry.user.name),
    self ? h('span', { class: 'you' }, '(you)') : null,
    entry.typing ? h('span', { class: 'person-typing' }, 'typing…') : null,
    h('span', { class: 'status', title: status }, h('span', { class: 'dot', 'aria-hidden': 'true' }), status),
  )
}

/** Render the presence list and keep it current; returns the unsubscribe function. */
export function mountPresence(room: Room): () => void {
  const list = byId('presence')
  const toggle = byId<HTMLButtonElement>('away-toggle')
  const render = coalesce(() => {
    const me = room.presence.me()
    const others = room.presence.others().sort((a, b) => a.user.name.localeCompare(b.user.name) || a.clientId - b.clientId)
    list.replaceChildren(row(me, true), ...others.map((entry) => row(entry, false)))
    const away = me.status === 'away'
    toggle.setAttribute('aria-pressed', String(away))
    toggle.textContent = away ? 'Set online' : 'Set away'
  })
  toggle.addEventListener('click', () => {
    room.presence.set({ status: room.presence.me().status === 'away' ? 'online' : 'away' })
    render()
  })
  // Fires for our own state too (status, typing), not only for the others'.
  const off = room.presence.onChange(render)
  render()
  return off
}
