import { UnsecuredJWT } from 'jose'
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { CloseCode, closeCodeByNumber, documentCloseReason, MessageType, SyncStep } from '../../client/protocol.ts'
import { provider, settled } from '../helpers/clients.ts'
import { authFrame, authReply, frame, rawClient, readFrame, updateFrame } from '../helpers/raw.ts'
import { startServer } from '../helpers/server.ts'
import { AUDIENCE, ISSUER, TOKEN_MODE, sign, tokenFor } from '../helpers/tokens.ts'

const DOC = 'vault/plans'
const SECRET_TEXT = 'TOP SECRET: the plans'

/** A token-mode server whose DOC already holds SECRET_TEXT in storage, recording every document it loads. */
async function vaultServer() {
  const loaded: string[] = []
  const server = await startServer(TOKEN_MODE, {
    extensions: [{ onLoadDocument: async ({ documentName }: { documentName: string }) => void loaded.push(documentName) }],
  })
  const doc = new Y.Doc()
  doc.getText('text').insert(0, SECRET_TEXT)
  await server.storage.append(DOC, Y.encodeStateAsUpdate(doc))
  return { server, loaded }
}

const contains = (haystack: Uint8Array, needle: Uint8Array) => Buffer.from(haystack).includes(Buffer.from(needle))

/** A SyncStep1 (empty state vector) for `name`: the request that would fetch the whole document. */
const step1 = (name: string) => updateFrame(name, Y.encodeStateVector(new Y.Doc()), SyncStep.Step1)

describe('authentication refuses before anything is loaded or sent', () => {
  it('no token, bad signature, expired, not yet valid, wrong audience or issuer, alg none, another document', async () => {
    const { server, loaded } = await vaultServer()
    const now = Math.floor(Date.now() / 1000)
    const cases: Array<{ what: string; token: string; code: number }> = [
      { what: 'no token', token: '', code: CloseCode.Unauthorized.code },
      { what: 'not a JWT', token: 'open', code: CloseCode.Unauthorized.code },
      { what: 'bad signature', token: await tokenFor('ada', { '*': 'admin' }, { secret: 'another-secret-0123456789-abcdefghijklmnop' }), code: CloseCode.Unauthorized.code },
      { what: 'expired', token: await tokenFor('ada', { '*': 'admin' }, { ttl: -60 }), code: CloseCode.TokenExpired.code },
      { what: 'not yet valid', token: await tokenFor('ada', { '*': 'admin' }, { notBefore: 600 }), code: CloseCode.Unauthorized.code },
      { what: 'wrong audience', token: await tokenFor('ada', { '*': 'admin' }, { audience: 'another-app' }), code: CloseCode.Unauthorized.code },
      { what: 'no audience', token: await tokenFor('ada', { '*': 'admin' }, { audience: null }), code: CloseCode.Unauthorized.code },
      { what: 'wrong issuer', token: await tokenFor('ada', { '*': 'admin' }, { issuer: 'https://evil.test' }), code: CloseCode.Unauthorized.code },
      {
        what: 'alg none',
        token: new UnsecuredJWT({ sub: 'ada', docs: { '*': 'admin' } }).setAudience(AUDIENCE).setIssuer(ISSUER).setExpirationTime(now + 600).encode(),
        code: CloseCode.Unauthorized.code,
      },
      { what: 'no sub', token: await sign({ docs: { '*': 'admin' } }), code: CloseCode.Unauthorized.code },
      { what: 'malformed docs claim', token: await sign({ sub: 'ada', docs: { 'vault*': 'admin' } }), code: CloseCode.Unauthorized.code },
      { what: 'another document', token: await tokenFor('ada', { 'public/*': 'admin', 'vault/plans-2': 'admin' }), code: CloseCode.Forbidden.code },
      { what: 'no docs claim', token: await sign({ sub: 'ada' }), code: CloseCode.Forbidden.code },
    ]
    const good = await tokenFor('ada', { 'public/*': 'write' })
    const secret = new TextEncoder().encode(SECRET_TEXT)

    for (const c of cases) {
      const raw = await rawClient(server.url)
      raw.send(authFrame(DOC, c.token))
      raw.send(step1(DOC))
      raw.send(frame(DOC, MessageType.QueryAwareness))
      await vi.waitFor(() => expect(raw.received.length, c.what).toBeGreaterThan(0))
      // A round trip on the same socket: a document the token does open, synced to the end.
      raw.send(authFrame('public/ok', good))
      raw.send(step1('public/ok'))
      await vi.waitFor(() => expect(raw.received.some((f) => readFrame(f).address === 'public/ok' && readFrame(f).type === MessageType.Sync)).toBe(true))

      const forDoc = raw.received.filter((f) => readFrame(f).address === DOC)
      expect(forDoc.map(authReply), c.what).toEqual([{ denied: documentCloseReason(closeCodeByNumber(c.code)!) }])
      expect(raw.received.some((f) => contains(f, secret)), c.what).toBe(false)
      raw.ws.terminate()
    }
    expect(loaded).not.toContain(DOC)
    expect(server.hocuspocus.documents.has(DOC)).toBe(false)
    expect(server.hocuspocus.loadingDocuments.has(DOC)).toBe(false)

    // The check can fail: a token that opens the document gets its content.
    const raw = await rawClient(server.url)
    raw.send(authFrame(DOC, await tokenFor('ada', { 'vault/*': 'read' })))
    raw.send(step1(DOC))
    await vi.waitFor(() => expect(raw.received.some((f) => contains(f, secret))).toBe(true))
    expect(loaded).toContain(DOC)
  })

  it('a real provider with a bad token is told why and never syncs; with a good one it syncs', async () => {
    const { server, loaded } = await vaultServer()
    const reasons: string[] = []
    const bad = provider(server.url, DOC, { token: await tokenFor('ada', { 'vault/other': 'write' }) })
    bad.on('authenticationFailed', ({ reason }: { reason: string }) => reasons.push(reason))
    const unsigned = provider(server.url, DOC, { token: 'let-me-in' })
    unsigned.on('authenticationFailed', ({ reason }: { reason: string }) => reasons.push(reason))
    await vi.waitFor(() => expect(reasons.sort()).toEqual([documentCloseReason(CloseCode.Unauthorized), documentCloseReason(CloseCode.Forbidden)]))
    expect(bad.synced || unsigned.synced).toBe(false)
    expect(bad.document.getText('text').toString()).toBe('')
    expect(loaded).not.toContain(DOC)

    const reader = provider(server.url, DOC, { token: await tokenFor('bob', { 'vault/plans': 'read' }) })
    await settled(reader)
    expect(reader.document.getText('text').toString()).toBe(SECRET_TEXT)
  })
})
