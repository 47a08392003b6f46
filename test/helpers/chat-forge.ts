/**
 * Helpers for the chat guard tests: a hostile writer is a plain Y.Doc synced
 * from the server through a real provider (so its updates are exactly what a
 * Yjs program would send), or a raw socket for updates no Yjs API produces.
 */
import type { HocuspocusProvider } from '@hocuspocus/provider'
import * as decoding from 'lib0/decoding'
import { expect, vi } from 'vitest'
import * as Y from 'yjs'
import { CloseCode, MessageType, SyncStep, documentCloseReason } from '../../client/protocol.ts'
import type { Room } from '../../client/index.ts'
import type { CollabServer } from '../../server/app.ts'
import { foldState } from '../../server/storage/merge.ts'
import { closes } from './auth.ts'
import { provider, settled } from './clients.ts'
import { authFrame, authReply, rawClient, readFrame, type RawClient } from './raw.ts'

/** The Close reason of a refused update. */
export const POLICY_VIOLATION = documentCloseReason(CloseCode.PolicyViolation)

/** A plain Yjs writer on `name`, synced and settled. */
export async function plainWriter(server: CollabServer, name: string, token: string) {
  const doc = new Y.Doc()
  const p = provider(server.url, name, { token, doc })
  const closed = closes(p)
  await settled(p)
  return { doc, provider: p, closed }
}

/** Wait until the server closed `name` for this writer with 4422, and check it was not acknowledged. */
export async function expectRefused(w: { provider: HocuspocusProvider; closed: Array<{ reason: string }> }): Promise<void> {
  await vi.waitFor(() => expect(w.closed.map((c) => c.reason)).toContain(POLICY_VIOLATION))
}

/** The chat as plain JSON: the `chat` array and the `chat-reads` map. */
export function chatState(doc: Y.Doc): unknown {
  return { chat: doc.getArray('chat').toJSON(), reads: doc.getMap('chat-reads').toJSON() }
}

/** The stored document, folded from storage. */
export async function storedDoc(server: CollabServer, name: string): Promise<Y.Doc> {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, foldState(await server.storage.load(name)))
  return doc
}

/** The message map with `id` in a document's chat. */
export function messageMap(doc: Y.Doc, id: string): Y.Map<unknown> {
  const found = doc.getArray<unknown>('chat').toArray().find((m) => m instanceof Y.Map && m.get('id') === id)
  if (!(found instanceof Y.Map)) throw new Error(`no message ${id}`)
  return found as Y.Map<unknown>
}

/** A version-1 message map as docs/chat-data-model.md §4.1 builds it. */
export function newMessage(fields: { id: string; author: string; text: string; name?: string }): Y.Map<unknown> {
  const m = new Y.Map<unknown>()
  m.set('v', 1)
  m.set('id', fields.id)
  m.set('author', fields.author)
  m.set('name', fields.name ?? fields.author)
  m.set('text', fields.text)
  m.set('createdAt', Date.now())
  m.set('reactions', new Y.Map())
  return m
}

/**
 * The chat is the same in server memory, in storage and at every client as
 * `expected`. A non-chat round trip through `via` first, so anything the
 * server broadcast before has reached the clients.
 */
export async function expectChatEverywhere(server: CollabServer, name: string, expected: unknown, via: Room, clients: Room[]): Promise<void> {
  const marker = `ping-${Math.random()}`
  via.codemirror.insert(0, marker)
  await vi.waitFor(() => {
    for (const room of clients) expect(room.codemirror.toString()).toContain(marker)
  })
  expect(chatState(server.hocuspocus.documents.get(name)!)).toEqual(expected)
  expect(chatState(await storedDoc(server, name))).toEqual(expected)
  for (const room of clients) expect(chatState(room.doc)).toEqual(expected)
}

/** A raw socket authenticated on `name` with `token`. */
export async function rawWriter(server: CollabServer, name: string, token: string): Promise<RawClient> {
  const c = await rawClient(server.url)
  c.send(authFrame(name, token))
  await vi.waitFor(() => expect(c.received.map((d) => authReply(d)).some((r) => r !== null && 'scope' in r)).toBe(true))
  return c
}

/** The SyncStatus answers a raw socket received (true = applied and stored). */
export function rawAcks(c: RawClient): boolean[] {
  return c.received.flatMap((d) => {
    const { type, decoder } = readFrame(d)
    return type === MessageType.SyncStatus ? [decoding.readVarInt(decoder) === 1] : []
  })
}

/** How many SyncStep1 requests ("send me what I lack") a raw socket received. */
export function rawStep1s(c: RawClient): number {
  return c.received.filter((d) => {
    const { type, decoder } = readFrame(d)
    return (type === MessageType.Sync || type === MessageType.SyncReply) && decoding.readVarUint(decoder) === SyncStep.Step1
  }).length
}

/** Reasons of the document Close messages a raw socket received. */
export function rawCloses(c: RawClient): string[] {
  return c.received.flatMap((d) => {
    const { type, decoder } = readFrame(d)
    return type === MessageType.Close ? [decoding.readVarString(decoder)] : []
  })
}
