/**
 * The write pipeline and the guards hold at the HTTP fallback door as at the
 * socket: a rule in the pipeline's list, the chat guard, the awareness guard
 * (the user stamped from the token, another's presence untouchable). The
 * offenders here are the stock provider over `HttpSocket`.
 */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import * as Y from 'yjs'
import { httpSocketClass } from '../../client/http-socket.ts'
import { CloseCode, documentCloseReason } from '../../client/protocol.ts'
import { Refusal, type WriteCheck } from '../../server/pipeline/write.ts'
import { acks, closes, storedText } from '../helpers/auth.ts'
import { newMessage } from '../helpers/chat-forge.ts'
import { provider, settled } from '../helpers/clients.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, sign, tokenFor } from '../helpers/tokens.ts'

const DOC = 'team/guarded'
const WRITE = { 'team/*': 'write' }

/** A stock provider on `name` whose socket is an HTTP fallback session. */
function overHttp(url: string, name: string, token: string, doc = new Y.Doc()): HocuspocusProvider {
  const websocketProvider = new HocuspocusProviderWebsocket({ url, WebSocketPolyfill: httpSocketClass({ token: () => token }), delay: 50, minDelay: 50, maxDelay: 500 })
  const p = new HocuspocusProvider({ websocketProvider, name, token, document: doc })
  p.attach()
  onTestFinished(() => {
    p.destroy()
    websocketProvider.destroy()
  })
  return p
}

describe('the pipeline and the guards at the HTTP fallback door', () => {
  it('a rule in the write pipeline refuses a fallback write: the document closed with its code, nothing stored or broadcast', async () => {
    const doors: string[] = []
    const rule: WriteCheck = {
      name: 'forbid-word',
      check(write) {
        for (const w of write.effects().writes) {
          if (w.item.content instanceof Y.ContentString && w.item.content.str.includes('FORBIDDEN')) {
            doors.push(write.door)
            return new Refusal(CloseCode.PolicyViolation, 'forbidden word')
          }
        }
        return undefined
      },
    }
    const server = await startServer(TOKEN_MODE, { writeChecks: [rule] })
    const observer = provider(server.url, DOC, { token: await tokenFor('obs', { 'team/*': 'read' }) })
    const offender = overHttp(server.url, DOC, await tokenFor('eve', WRITE))
    await Promise.all([settled(observer), settled(offender)])
    const closed = closes(offender)
    offender.document.getText('text').insert(0, 'FORBIDDEN over http')
    await vi.waitFor(() => expect(closed.map((c) => c.reason)).toContain(documentCloseReason(CloseCode.PolicyViolation)))
    expect(doors).toEqual(['http'])
    // A later allowed edit reaches the observer: the refused one would have come first.
    const writer = provider(server.url, DOC, { token: await tokenFor('ada', WRITE) })
    await settled(writer)
    writer.document.getText('text').insert(0, 'allowed. ')
    await vi.waitFor(() => expect(observer.document.getText('text').toString()).toBe('allowed. '))
    await settled(writer)
    expect(await storedText(server, DOC)).toBe('allowed. ')
  })

  it('the chat guard: a message forged in another user’s name over the fallback is refused with 4422', async () => {
    const server = await startServer(TOKEN_MODE)
    const doc = new Y.Doc()
    const bob = overHttp(server.url, DOC, await tokenFor('bob', WRITE), doc)
    await settled(bob)
    const sent = acks(bob)
    const closed = closes(bob)
    doc.getArray('chat').push([newMessage({ id: 'forged', author: 'ann', name: 'Ann', text: 'I owe bob 100 €' })])
    await vi.waitFor(() => expect(closed.map((c) => c.reason)).toContain(documentCloseReason(CloseCode.PolicyViolation)))
    expect(sent).toEqual([])
    expect(server.hocuspocus.documents.get(DOC)?.getArray('chat').length ?? 0).toBe(0)
  })

  it('the awareness guard: the user in a fallback client’s presence is the token’s, whatever it claims', async () => {
    const server = await startServer(TOKEN_MODE)
    const observer = provider(server.url, DOC, { token: await tokenFor('obs', WRITE) })
    const ada = overHttp(server.url, DOC, await sign({ sub: 'ada', name: 'Ada L.', color: '#123456', docs: WRITE }))
    await Promise.all([settled(observer), settled(ada)])
    ada.setAwarenessField('user', { id: 'bob', name: 'Bob', admin: true })
    await vi.waitFor(() => expect(observer.awareness!.getStates().get(ada.document.clientID)?.user).toEqual({ id: 'ada', name: 'Ada L.', color: '#123456' }))
  })
})
