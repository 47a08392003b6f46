import type { HocuspocusProvider } from '@hocuspocus/provider'
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'
import { MessageType } from '../../client/protocol.ts'
import type { CollabServer } from '../../server/app.ts'
import { foldState } from '../../server/storage/merge.ts'
import { readFrame } from './raw.ts'

/** Every SyncStatus the server sends `p` from now on (true = applied and stored). */
export function acks(p: HocuspocusProvider): boolean[] {
  const seen: boolean[] = []
  p.on('message', ({ event }: { event: MessageEvent }) => {
    const { type, decoder } = readFrame(new Uint8Array(event.data as ArrayBuffer))
    if (type === MessageType.SyncStatus) seen.push(decoding.readVarUint(decoder) === 1)
  })
  return seen
}

/** Document Close messages `p` receives from now on, with when they came. */
export function closes(p: HocuspocusProvider): Array<{ reason: string; at: number }> {
  const seen: Array<{ reason: string; at: number }> = []
  p.on('close', ({ event }: { event: { reason?: string } }) => seen.push({ reason: event.reason ?? '', at: Date.now() }))
  return seen
}

/** A text of the document as storage holds it. */
export async function storedText(server: CollabServer, name: string, field = 'text'): Promise<string> {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, foldState(await server.storage.load(name)))
  return doc.getText(field).toString()
}
