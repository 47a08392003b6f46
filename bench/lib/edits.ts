/**
 * What a bench edit carries and how a receiver reads it back.
 *
 * Every edit embeds its sender, a per-sender sequence number and the send time
 * on the machine's monotonic clock (shared by all processes on the host), so a
 * receiver in any process can compute edit-to-peer latency and count what it
 * got. Text edits append `sender.seq.time|` to the Y.Text `t`; chat edits push
 * a message onto the Y.Array `chat` as docs/chat-data-model.md defines it (a
 * `Y.Map` with v, id, author, name, text, createdAt and an empty `reactions`
 * map), its `id` being `sender.seq.time` — what our client library sends, and
 * what this server's chat guard accepts in open mode.
 */
import * as Y from 'yjs'

export type EditKind = 'text' | 'chat'

export const TEXT_NAME = 't'
export const CHAT_NAME = 'chat'

/** Microseconds on CLOCK_MONOTONIC: comparable across processes on this host. */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n)
}

export interface Edit {
  sender: number
  seq: number
  /** Send time, µs (see nowUs). */
  t: number
}

/** Keys of a chat message (chat-data-model.md §3.1) other than `id`: not edits, not noise. */
const CHAT_KEYS = new Set(['v', 'author', 'name', 'text', 'createdAt'])

/** Make one edit on `doc` as `sender`; the caller captures the resulting update. */
export function makeEdit(doc: Y.Doc, kind: EditKind, edit: Edit): void {
  if (kind === 'text') {
    const text = doc.getText(TEXT_NAME)
    text.insert(text.length, `${edit.sender}.${edit.seq}.${edit.t}|`)
  } else {
    const message = new Y.Map<unknown>()
    message.set('v', 1)
    message.set('id', `${edit.sender}.${edit.seq}.${edit.t}`)
    message.set('author', `user-${edit.sender}`)
    message.set('name', `User ${edit.sender}`)
    message.set('text', `message ${edit.seq} from user ${edit.sender}`)
    message.set('createdAt', Date.now())
    message.set('reactions', new Y.Map())
    doc.getArray<Y.Map<unknown>>(CHAT_NAME).push([message])
  }
}

function parseMarkers(str: string, out: Edit[]): number {
  let bad = 0
  for (const piece of str.split('|')) {
    if (piece === '') continue
    const parts = piece.split('.')
    const sender = Number(parts[0])
    const seq = Number(parts[1])
    const t = Number(parts[2])
    if (parts.length !== 3 || !Number.isInteger(sender) || !Number.isInteger(seq) || !Number.isFinite(t)) bad++
    else out.push({ sender, seq, t })
  }
  return bad
}


/**
 * The edits inside one Yjs update (v1). Updates the servers merge or relay
 * carry whole markers, since every edit inserts at an item boundary.
 * Returns how many pieces of content were not bench edits.
 */
export function readEdits(update: Uint8Array, out: Edit[]): number {
  let bad = 0
  for (const struct of Y.decodeUpdate(update).structs) {
    if (!(struct instanceof Y.Item) || struct.deleted) continue
    const content = struct.content
    if (content instanceof Y.ContentString) bad += parseMarkers(content.str, out)
    else if (content instanceof Y.ContentAny) {
      // A chat message's keys: its id is the marker, the rest is its body.
      if (struct.parentSub === 'id' && typeof content.arr[0] === 'string') bad += parseMarkers(content.arr[0], out)
      else if (struct.parentSub === null || !CHAT_KEYS.has(struct.parentSub)) bad += content.arr.length
    }
  }
  return bad
}

/** Every edit held by a whole document (for the final convergence check). */
export function editsInDoc(doc: Y.Doc): { edits: Edit[]; bad: number } {
  const edits: Edit[] = []
  let bad = parseMarkers(doc.getText(TEXT_NAME).toString(), edits)
  for (const value of doc.getArray<unknown>(CHAT_NAME).toArray()) {
    const id = value instanceof Y.Map ? value.get('id') : undefined
    if (typeof id === 'string') bad += parseMarkers(id, edits)
    else bad++
  }
  return { edits, bad }
}
