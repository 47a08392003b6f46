/**
 * The chat panel on `room.chat`: the latest messages, older ones on scrolling
 * up (or with the "Load earlier messages" button), live updates, your own
 * edits and deletes, reactions, the typing indicator, and read receipts — a
 * message counts as read once it has been on screen at the bottom of the list
 * while the page was visible. Enter sends; Shift+Enter starts a new line.
 */
import { ChatError, type ChatMessage, type PresenceUser, type Room } from '../index.ts'
import { type MessageActions, drawMessage, signature } from './chat-message.ts'
import { byId, coalesce, h } from './dom.ts'
import { People } from './people.ts'

/** Messages loaded at first, and added by each step back in history. */
const PAGE = 30
/** Distance from the bottom (px) that still counts as "at the bottom". */
const STICK_PX = 48

function typingText(names: string[]): string {
  if (names.length === 0) return ''
  if (names.length === 1) return `${names[0]} is typing…`
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`
  return `${names.length} people are typing…`
}

/** The mounted chat panel. */
export interface ChatPanel {
  /** Read-only (the server's `read` role): no composer, no reactions, edits or read marks; `why` is shown in the box. */
  setReadOnly(readOnly: boolean, why: string): void
  /** Remove the panel's listeners. */
  destroy(): void
}

/** Mount the chat panel. */
export function mountChat(room: Room, me: PresenceUser): ChatPanel {
  const chat = room.chat
  const scroller = byId('chat-scroll')
  const list = byId('chat-messages')
  const more = byId<HTMLButtonElement>('chat-more')
  const input = byId<HTMLTextAreaElement>('chat-input')
  const error = byId('chat-error')
  byId('chat-room').textContent = `#${room.name}`

  let shown = PAGE
  let editing: string | null = null
  let lastMarked: string | undefined
  let readOnly = false
  const people = new People(room)
  const form = byId<HTMLFormElement>('chat-form')
  const placeholder = input.placeholder
  const items = new Map<string, { li: HTMLLIElement; sig: string }>()

  const atBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < STICK_PX
  const showError = (text: string | null) => {
    error.hidden = text === null
    error.textContent = text ?? ''
  }
  /** Run a chat call; a refusal (ChatError) is shown to the user, anything else is a bug and rethrown. */
  const attempt = (fn: () => void) => {
    try {
      fn()
      showError(null)
    } catch (e) {
      if (!(e instanceof ChatError)) throw e
      showError(e.code === 'empty' ? 'A message cannot be empty.' : e.code === 'too-long' ? 'That message is too long.' : `Not possible: ${e.message}`)
    }
  }

  /** Who has read up to which message: each reader is shown once (by name), at the newest message they have read. */
  function receipts(messages: ChatMessage[]): Map<string, string[]> {
    const placed = new Set<string>([me.id])
    const out = new Map<string, string[]>()
    for (let i = messages.length - 1; i >= 0 && placed.size <= chat.reads.size; i--) {
      const m = messages[i]!
      const readers = chat.readBy(m.id).filter((user) => !placed.has(user))
      readers.forEach((user) => placed.add(user))
      const shownReaders = readers.filter((user) => user !== m.author)
      if (shownReaders.length) out.set(m.id, shownReaders.map((user) => people.lookup(user, messages).name))
    }
    return out
  }

  function markRead(messages: ChatMessage[]): void {
    const last = messages[messages.length - 1]
    // A read-only connection's read mark would never be stored (and the page would stay "saving…").
    if (readOnly || !last || last.id === lastMarked || document.visibilityState !== 'visible' || !atBottom()) return
    lastMarked = last.id
    chat.markRead(last.id)
  }

  const actions: MessageActions = {
    react: (id, emoji) => attempt(() => chat.react(id, emoji)),
    startEdit: (id) => {
      editing = id
      render()
    },
    saveEdit: (id, text) => {
      const current = chat.get(id)
      if (current && text.trim() !== current.text) attempt(() => chat.edit(id, text.trim()))
      if (error.hidden) editing = null
      render()
    },
    cancelEdit: () => {
      editing = null
      render()
      input.focus()
    },
    remove: (id) => {
      attempt(() => chat.delete(id))
      input.focus()
    },
  }

  function draw(): void {
    const stick = atBottom()
    const page = chat.history({ limit: shown + 1 })
    const messages = page.length > shown ? page.slice(1) : page
    more.hidden = page.length <= shown
    const seen = receipts(messages)

    const ids = new Set(messages.map((m) => m.id))
    for (const [id, item] of items) {
      if (ids.has(id)) continue
      item.li.remove()
      items.delete(id)
    }
    let previous: Element | null = null
    for (const m of messages) {
      let item = items.get(m.id)
      if (!item) items.set(m.id, (item = { li: h('li'), sig: '' }))
      const view = { me: me.id, seenBy: seen.get(m.id) ?? [], editing: editing === m.id && !readOnly, color: people.lookup(m.author).color, readOnly }
      const sig = signature(m, view)
      if (sig !== item.sig) {
        drawMessage(item.li, m, view, actions)
        item.sig = sig
      }
      const expected: Element | null = previous ? previous.nextElementSibling : list.firstElementChild
      if (expected !== item.li) list.insertBefore(item.li, expected)
      previous = item.li
    }
    if (editing && !ids.has(editing)) editing = null
    if (stick) scroller.scrollTop = scroller.scrollHeight
    markRead(messages)
  }
  const render = coalesce(draw)

  /** Show `PAGE` more older messages, keeping the ones on screen where they are. */
  function loadEarlier(): void {
    if (more.hidden) return
    shown += PAGE
    const fromBottom = scroller.scrollHeight - scroller.scrollTop
    draw()
    scroller.scrollTop = scroller.scrollHeight - fromBottom
  }

  function send(): void {
    const text = input.value.trim()
    if (!text || readOnly) return
    attempt(() => {
      chat.send(text)
      input.value = ''
      room.typing.stop()
      // Your own message always scrolls into view.
      scroller.scrollTop = scroller.scrollHeight
    })
  }

  more.addEventListener('click', loadEarlier)
  scroller.addEventListener('scroll', () => {
    if (scroller.scrollTop < 40) loadEarlier()
    else if (atBottom()) render()
  })
  document.addEventListener('visibilitychange', render)
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault()
      send()
    }
  })
  input.addEventListener('input', () => (input.value ? room.typing.start() : room.typing.stop()))
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    send()
  })

  const typing = byId('typing')
  const offs = [
    chat.on('message', () => {
      // Reading older messages: keep them on screen as new ones arrive below.
      if (!atBottom()) shown++
      render()
    }),
    chat.on('change', render),
    chat.on('remove', render),
    chat.on('read', render),
    room.presence.onChange(() => {
      people.remember()
      render()
    }),
    room.typing.onChange((who) => (typing.textContent = typingText(who.map((p) => p.user.name)))),
  ]
  people.remember()
  render()
  return {
    setReadOnly(value, why) {
      readOnly = value
      input.disabled = value
      input.placeholder = value ? why : placeholder
      for (const button of form.querySelectorAll('button')) button.disabled = value
      form.dataset.readonly = String(value)
      if (value) editing = null
      // Redraw every message: the actions go or come back.
      for (const item of items.values()) item.sig = ''
      render()
    },
    destroy: () => offs.forEach((off) => off()),
  }
}
