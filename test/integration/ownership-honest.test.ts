/**
 * The ownership rule never refuses honest clients (issue 16, item 2): the
 * same user on another tab or connection, a token refresh, deletions of
 * others' content, undo re-inserting another user's deleted text; and in open
 * mode (no users) the check is off.
 */
import type { HocuspocusProvider } from '@hocuspocus/provider'
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { acks, storedText } from '../helpers/auth.ts'
import { offline, provider, settled } from '../helpers/clients.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

const DOC = 'team/honest'
const ACCESS = { 'team/*': 'write' }
const text = (p: HocuspocusProvider | Y.Doc) => ('document' in p ? p.document : p).getText('text').toString()
const serverText = (server: Awaited<ReturnType<typeof startServer>>) => server.hocuspocus.documents.get(DOC)!.getText('text').toString()

describe('honest clients are never refused', () => {
  it('the same user on two tabs: one tab sends what the other wrote offline (shared locally), and both are acknowledged', async () => {
    const server = await startServer(TOKEN_MODE)
    const one = provider(server.url, DOC, { token: await tokenFor('ada', ACCESS) })
    const two = provider(server.url, DOC, { token: await tokenFor('ada', ACCESS) })
    await Promise.all([settled(one), settled(two)])
    two.document.getText('text').insert(0, 'T2a;')
    await settled(two)
    const twoSocket = two.configuration.websocketProvider
    await offline(twoSocket)
    // Offline, tab two writes on; the tabs share state locally (as a BroadcastChannel would): tab one sends it first.
    const before = Y.encodeStateVector(two.document)
    two.document.getText('text').insert(4, 'T2b;')
    const oneAcks = acks(one)
    Y.applyUpdate(one.document, Y.encodeStateAsUpdate(two.document, before))
    await settled(one)
    expect(oneAcks).not.toContain(false)
    twoSocket.connect()
    await settled(two)
    one.document.getText('text').insert(0, 'T1;')
    await settled(one)
    expect(serverText(server)).toBe('T1;T2a;T2b;')
    expect(await storedText(server, DOC)).toBe('T1;T2a;T2b;')
  })

  it('a token refresh, and a new connection with a new token for the same document: the user’s id stays theirs', async () => {
    const server = await startServer(TOKEN_MODE)
    const ada = provider(server.url, DOC, { token: () => tokenFor('ada', ACCESS) })
    const adaAcks = acks(ada)
    await settled(ada)
    ada.document.getText('text').insert(0, 'one;')
    await settled(ada)
    await ada.sendToken()
    ada.document.getText('text').insert(4, 'two;')
    await settled(ada)
    // Her socket goes; the same document comes back on a new one, with a new token.
    const doc = ada.document
    ada.configuration.websocketProvider.disconnect()
    doc.getText('text').insert(8, 'three;')
    const again = provider(server.url, DOC, { token: await tokenFor('ada', ACCESS, { ttl: 7200 }), doc })
    const againAcks = acks(again)
    await settled(again)
    expect([...adaAcks, ...againAcks]).not.toContain(false)
    expect(await storedText(server, DOC)).toBe('one;two;three;')
  })

  it('deleting another user’s text, and undo putting it back (new items under the undoer’s own id), are acknowledged and stored', async () => {
    const server = await startServer(TOKEN_MODE)
    const ada = provider(server.url, DOC, { token: await tokenFor('ada', ACCESS) })
    const bob = provider(server.url, DOC, { token: await tokenFor('bob', ACCESS) })
    await Promise.all([settled(ada), settled(bob)])
    ada.document.getText('text').insert(0, 'Ada wrote this.')
    await settled(ada)
    await vi.waitFor(() => expect(text(bob)).toBe('Ada wrote this.'))
    const undo = new Y.UndoManager(bob.document.getText('text'))
    const bobAcks = acks(bob)
    bob.document.getText('text').delete(0, 4)
    await settled(bob)
    expect(await storedText(server, DOC)).toBe('wrote this.')
    undo.undo()
    await settled(bob)
    expect(bobAcks).not.toContain(false)
    await vi.waitFor(() => expect(text(ada)).toBe('Ada wrote this.'))
    expect(await storedText(server, DOC)).toBe('Ada wrote this.')
    // Ada's id got no clocks from Bob: what undo put back is Bob's.
    const doc = server.hocuspocus.documents.get(DOC)!
    expect(Y.getState(doc.store, ada.document.clientID)).toBe('Ada wrote this.'.length)
  })

  it('open mode has no users: the check is off (any client id is accepted, as before)', async () => {
    const server = await startServer()
    const ada = provider(server.url, DOC)
    const bob = provider(server.url, DOC)
    await Promise.all([settled(ada), settled(bob)])
    ada.document.getText('text').insert(0, 'A1;')
    await settled(ada)
    await vi.waitFor(() => expect(text(bob)).toBe('A1;'))
    bob.document.clientID = ada.document.clientID
    bob.document.getText('text').insert(3, 'B;')
    await settled(bob)
    expect(await storedText(server, DOC)).toBe('A1;B;')
  })
})
