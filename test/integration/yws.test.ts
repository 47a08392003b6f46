import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { CloseCode } from '../../client/protocol.ts'
import { storedText } from '../helpers/auth.ts'
import { provider, settled } from '../helpers/clients.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

/** A real, unchanged y-websocket client on /yws/<name>. */
function ywsClient(serverUrl: string, name: string, token: string) {
  const doc = new Y.Doc()
  const base = serverUrl.replace(/\/ws$/, '/yws')
  const p = new WebsocketProvider(base, name, doc, { params: { token }, disableBc: true })
  onTestFinished(() => p.destroy())
  return { doc, provider: p }
}

describe('y-websocket compatible endpoint /yws/<document>', () => {
  it('the real y-websocket client and a real Hocuspocus provider converge on one document, with awareness both ways', async () => {
    const server = await startServer(TOKEN_MODE)
    const token = await tokenFor('ada', { 'team/*': 'write' })
    const hp = provider(server.url, 'team/notes', { token: await tokenFor('bob', { 'team/*': 'write' }) })
    const yws = ywsClient(server.url, 'team/notes', token)
    await settled(hp)
    await vi.waitFor(() => expect(yws.provider.synced).toBe(true), { timeout: 10_000 })

    yws.doc.getText('text').insert(0, 'from y-websocket. ')
    hp.document.getText('text').insert(0, 'from hocuspocus. ')
    await vi.waitFor(() => {
      expect(yws.doc.getText('text').toString()).toBe(hp.document.getText('text').toString())
      expect(hp.document.getText('text').length).toBe('from y-websocket. from hocuspocus. '.length)
    })

    yws.provider.awareness.setLocalStateField('cursor', { anchor: 1, head: 2 })
    hp.setAwarenessField('cursor', { anchor: 3, head: 4 })
    await vi.waitFor(() => {
      expect(hp.awareness!.getStates().get(yws.doc.clientID)).toMatchObject({ cursor: { anchor: 1, head: 2 } })
      expect(yws.provider.awareness.getStates().get(hp.document.clientID)).toMatchObject({ cursor: { anchor: 3, head: 4 } })
    })
    // Stored before acknowledged, whatever the door: the y-websocket edit is on disk.
    await settled(hp)
    await vi.waitFor(async () => expect(await storedText(server, 'team/notes')).toContain('from y-websocket. '))
  })

  it('a reader on /yws cannot write; a token for another document is refused with its code', async () => {
    const server = await startServer(TOKEN_MODE)
    const writer = provider(server.url, 'team/plan', { token: await tokenFor('ada', { 'team/*': 'write' }) })
    await settled(writer)
    writer.document.getText('text').insert(0, 'original')
    await settled(writer)

    const reader = ywsClient(server.url, 'team/plan', await tokenFor('bob', { 'team/*': 'read' }))
    await vi.waitFor(() => expect(reader.doc.getText('text').toString()).toBe('original'), { timeout: 10_000 })
    reader.doc.getText('text').insert(0, 'HACKED ')
    // A round trip through the writer: a broadcast of the reader's edit would have come first.
    writer.document.getText('text').insert(8, '!')
    await settled(writer)
    await vi.waitFor(() => expect(reader.doc.getText('text').toString()).toContain('!'))
    expect(writer.document.getText('text').toString()).toBe('original!')
    expect(await storedText(server, 'team/plan')).toBe('original!')

    const codes: number[] = []
    const stranger = ywsClient(server.url, 'team/plan', await tokenFor('eve', { 'other/*': 'write' }))
    stranger.provider.on('connection-close', (event: CloseEvent | null) => {
      if (event) codes.push(event.code)
    })
    await vi.waitFor(() => expect(codes).toContain(CloseCode.Forbidden.code), { timeout: 10_000 })
    expect(stranger.doc.getText('text').toString()).toBe('')
  })
})
