/**
 * One chat message as a list item: avatar, name, time, text (or an inline
 * editor while the author edits it), reactions with counts, the author's
 * edit/delete buttons, delivery status and read receipts ("Seen by …").
 * Every action is a real <button>, reachable with Tab.
 */
import type { ChatMessage } from '../index.ts'
import { h } from './dom.ts'
import { avatar } from './presence-list.ts'
import { colorFor } from './settings.ts'

/** The reactions offered on every message. */
export const REACTIONS = ['👍', '❤️', '😂', '🎉', '👀'] as const

/** What the list knows when it draws a message. */
export interface MessageView {
  me: string
  /** Names of the users who have read up to this message (the author and me excluded). */
  seenBy: string[]
  editing: boolean
  /** Colour of the author (from presence when online, else from their name). */
  color?: string
  /** Read-only: reactions are shown, not offered; no edit or delete. */
  readOnly: boolean
}

export interface MessageActions {
  react(id: string, emoji: string): void
  startEdit(id: string): void
  saveEdit(id: string, text: string): void
  cancelEdit(): void
  remove(id: string): void
}

/** A string that changes whenever the drawing of the message would. */
export function signature(m: ChatMessage, view: MessageView): string {
  return JSON.stringify([m.text, m.editedAt, m.reactions, m.status, m.deleted, view.seenBy, view.editing, view.color, view.readOnly])
}

const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' })

function reactionButtons(m: ChatMessage, me: string, readOnly: boolean, actions: MessageActions): HTMLElement {
  const shown = Object.entries(m.reactions).filter(([, users]) => users.length > 0)
  return h(
    'div',
    { class: 'reactions' },
    ...shown.map(([emoji, users]) =>
      h(
        'button',
        {
          type: 'button',
          class: 'reaction',
          'data-emoji': emoji,
          'data-key': `reaction:${emoji}`,
          'aria-pressed': String(users.includes(me)),
          'aria-label': readOnly ? `${emoji} ${users.length}` : `${emoji} ${users.length}, toggle your reaction`,
          disabled: readOnly,
          onclick: () => actions.react(m.id, emoji),
        },
        emoji,
        h('span', { class: 'count' }, users.length),
      ),
    ),
  )
}

function actionBar(m: ChatMessage, me: string, actions: MessageActions): HTMLElement {
  const own = m.author === me
  return h(
    'div',
    { class: 'msg-actions' },
    ...REACTIONS.map((emoji) =>
      h('button', { type: 'button', class: 'react-btn', 'data-emoji': emoji, 'data-key': `react:${emoji}`, 'aria-label': `React with ${emoji}`, onclick: () => actions.react(m.id, emoji) }, emoji),
    ),
    own ? h('button', { type: 'button', class: 'msg-edit', 'data-key': 'edit', onclick: () => actions.startEdit(m.id) }, 'Edit') : null,
    own ? h('button', { type: 'button', class: 'msg-delete', 'data-key': 'delete', onclick: () => actions.remove(m.id) }, 'Delete') : null,
  )
}

function editor(m: ChatMessage, draft: string | undefined, actions: MessageActions): HTMLElement {
  const input = h('textarea', { class: 'edit-input', 'aria-label': 'Edit your message', rows: 2, 'data-key': 'edit-input' })
  input.value = draft ?? m.text
  input.addEventListener('keydown', (event: KeyboardEvent) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault()
      actions.saveEdit(m.id, input.value)
    } else if (event.key === 'Escape') {
      event.preventDefault()
      actions.cancelEdit()
    }
  })
  return h(
    'div',
    { class: 'edit' },
    input,
    h('div', { class: 'edit-buttons' },
      h('button', { type: 'button', class: 'small primary', onclick: () => actions.saveEdit(m.id, input.value) }, 'Save'),
      h('button', { type: 'button', class: 'small', onclick: () => actions.cancelEdit() }, 'Cancel'),
      h('span', { class: 'hint' }, 'Enter saves · Esc cancels'),
    ),
  )
}

/** Fill `li` with message `m` (its element is kept across redraws; focus stays on the same control). */
export function drawMessage(li: HTMLElement, m: ChatMessage, view: MessageView, actions: MessageActions): void {
  const focusedKey = li.contains(document.activeElement) ? (document.activeElement as HTMLElement).dataset.key : undefined
  // An edit in progress survives redraws (someone reacting meanwhile).
  const draft = li.querySelector<HTMLTextAreaElement>('.edit-input')?.value
  const own = m.author === view.me
  li.className = `msg${own ? ' own' : ''}${m.status === 'pending' ? ' pending' : ''}`
  li.dataset.id = m.id
  li.dataset.author = m.author
  li.replaceChildren(
    avatar(m.name || m.author, view.color ?? colorFor(m.name || m.author)),
    h(
      'div',
      { class: 'msg-body' },
      h(
        'div',
        { class: 'msg-head' },
        h('span', { class: 'msg-name' }, m.name || m.author),
        h('time', { datetime: new Date(m.createdAt).toISOString() }, time.format(m.createdAt)),
        m.editedAt ? h('span', { class: 'msg-edited' }, '(edited)') : null,
        own ? h('span', { class: 'msg-status', 'data-status': m.status, title: m.status === 'saved' ? 'Stored on the server' : 'Not yet stored on the server' }, m.status === 'saved' ? '✓ saved' : 'not saved yet') : null,
      ),
      view.editing ? editor(m, draft, actions) : h('div', { class: 'msg-text' }, m.text),
      reactionButtons(m, view.me, view.readOnly, actions),
      view.editing || view.readOnly ? null : actionBar(m, view.me, actions),
      view.seenBy.length ? h('div', { class: 'msg-read' }, `Seen by ${view.seenBy.join(', ')}`) : null,
    ),
  )
  const find = (key: string) => li.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`)
  if (view.editing && draft === undefined) find('edit-input')?.focus()
  else if (focusedKey) (find(focusedKey) ?? find('edit'))?.focus()
}
