/**
 * The web page: one room of the collab server with a rich-text editor
 * (ProseMirror), a code editor (CodeMirror 6), chat, presence and a
 * connection badge — built only on the public client API
 * (`yjs-collab-server/client`) and the documented data model
 * (docs/chat-data-model.md). It connects to `/ws` on the host that served it.
 *
 * For the browser console: `collab.client`, `collab.room` (e.g.
 * `collab.room.doc.toJSON()`).
 */
import { CollabClient } from '../index.ts'
import { mountAccess } from './access.ts'
import { mountChat } from './chat-panel.ts'
import { mountCodeMirror } from './codemirror.ts'
import { mountHeader } from './header.ts'
import { HistoryApi } from './history-api.ts'
import { mountHistory } from './history-panel.ts'
import { mountPresence } from './presence-list.ts'
import { mountProseMirror } from './prosemirror.ts'
import { loadSettings, roomUrl } from './settings.ts'

/** `ws(s)://<this host>/ws`, next to the page (also under a path prefix). */
function socketUrl(): string {
  const url = new URL('ws', location.href)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  url.search = ''
  url.hash = ''
  return url.toString()
}

function transportParam(): 'auto' | 'websocket' | 'http' {
  const asked = new URLSearchParams(location.search).get('transport')
  return asked === 'http' || asked === 'websocket' ? asked : 'auto'
}

const settings = loadSettings(location, history)
document.title = `${settings.room} · Collab`

const client = new CollabClient({
  url: socketUrl(),
  token: settings.token,
  // With a JWT the client takes the id from the token (as the server does); else the page's own id.
  user: settings.idFromToken ? { name: settings.user.name, color: settings.user.color } : settings.user,
  // Away after two idle minutes (the default is five).
  awayAfterMs: 120_000,
  // `?transport=http|websocket` pins one; by default a WebSocket, and the HTTP fallback where it is blocked.
  transport: transportParam(),
})
// Problems the client works around (e.g. no IndexedDB in a private window): worth a warning, not an error.
client.on('error', ({ error, context }) => console.warn(`collab: ${context}`, error))
const room = client.room(settings.room)

mountHeader(client, room, settings)
mountPresence(room)
const notes = mountProseMirror(room)
const code = mountCodeMirror(room)
const chat = mountChat(room, client.user)
mountAccess(room, [notes, code, chat])
const versions = mountHistory(room, new HistoryApi(room.name, settings.token, location.href))

// The browser knows first when the network goes: show "offline" at once, and reconnect as soon as it is back.
addEventListener('offline', () => client.pause())
addEventListener('online', () => {
  if (!client.stopped) client.resume()
})
// Leaving the page: tell the others at once instead of after the awareness timeout.
addEventListener('pagehide', () => client.close())
// Back from the browser's page cache the client is closed: start afresh.
addEventListener('pageshow', (event) => {
  if (event.persisted) location.reload()
})
// Opening another room by editing the address's #name.
addEventListener('hashchange', () => {
  const name = decodeURIComponent(location.hash.slice(1)).trim()
  if (name && name !== settings.room) location.assign(roomUrl(location, name))
})

Object.assign(globalThis, { collab: { client, room, versions } })
