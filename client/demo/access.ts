/**
 * What the person may do, as the server says it (`room.readOnly`, from the
 * join's answer, again when a fresh token changes it): with the `read` role
 * the editors and the chat box are read-only, each says so with a
 * "read-only" tag, and a line under the header says why.
 */
import type { Room } from '../index.ts'
import { byId } from './dom.ts'

/** A part of the page that can be made read-only. */
export interface ReadOnlyPart {
  setReadOnly(readOnly: boolean, why: string): void
}

/** Why the page is read-only, in words. */
export function readOnlyReason(room: string): string {
  return `Read-only: your token gives you the read role for “${room}”. You can follow along, but not edit or chat.`
}

/** Keep `parts` and the read-only marks in step with the room's access; returns the unsubscribe function. */
export function mountAccess(room: Room, parts: readonly ReadOnlyPart[]): () => void {
  const mark = byId('readonly-mark')
  const apply = (readOnly: boolean) => {
    const why = readOnlyReason(room.name)
    mark.hidden = !readOnly
    mark.textContent = readOnly ? why : ''
    document.body.dataset.readonly = String(readOnly)
    for (const tag of document.querySelectorAll<HTMLElement>('.ro-tag')) {
      tag.hidden = !readOnly
      tag.title = why
    }
    for (const part of parts) part.setReadOnly(readOnly, why)
  }
  if (room.readOnly !== null) apply(room.readOnly)
  return room.on('access', ({ readOnly }) => apply(readOnly))
}
