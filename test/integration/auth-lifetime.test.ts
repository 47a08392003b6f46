import { decodeJwt } from 'jose'
import { describe, expect, it, vi } from 'vitest'
import { CloseCode, documentCloseReason } from '../../client/protocol.ts'
import type { CollabServer } from '../../server/app.ts'
import { acks, closes, storedText } from '../helpers/auth.ts'
import { provider, settled } from '../helpers/clients.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

const DOC = 'team/plan'
const LONG = { timeout: 20_000, interval: 20 }

/** A token-mode server that counts the fresh tokens clients send. */
async function countingServer(): Promise<{ server: CollabServer; synced: string[] }> {
  const synced: string[] = []
  const server = await startServer(TOKEN_MODE, { extensions: [{ onTokenSync: async ({ token }: { token: string }) => void synced.push(token) }] })
  return { server, synced }
}

const connections = (server: CollabServer) => server.hocuspocus.documents.get(DOC)?.getConnectionsCount() ?? 0

describe('token lifetime', () => {
  it('without a fresh token, the document is closed with 4406 at exp, and later edits go nowhere', async () => {
    const { server, synced } = await countingServer()
    const token = await tokenFor('ada', { [DOC]: 'write' }, { ttl: 3 })
    const exp = decodeJwt(token).exp! * 1000
    const ada = provider(server.url, DOC, { token })
    const peer = provider(server.url, DOC, { token: await tokenFor('bob', { [DOC]: 'write' }) })
    const adaCloses = closes(ada)
    await Promise.all([settled(ada), settled(peer)])
    expect(connections(server)).toBe(2)

    await vi.waitFor(() => expect(adaCloses.map((c) => c.reason)).toEqual([documentCloseReason(CloseCode.TokenExpired)]), LONG)
    // The server asked for a fresh token; the client had only the same one to give.
    expect(synced.length).toBeGreaterThan(0)
    expect(new Set(synced)).toEqual(new Set([token]))
    expect(adaCloses[0]!.at).toBeGreaterThanOrEqual(exp - 100)
    expect(adaCloses[0]!.at).toBeLessThan(exp + 3000)
    await vi.waitFor(() => expect(connections(server)).toBe(1))

    ada.document.getText('text').insert(0, 'AFTER EXPIRY')
    peer.document.getText('text').insert(0, 'peer. ')
    await settled(peer)
    expect(peer.document.getText('text').toString()).toBe('peer. ')
    expect(await storedText(server, DOC)).toBe('peer. ')
  })

  it('with fresh tokens from the token function, the document stays open past the first exp', async () => {
    const { server, synced } = await countingServer()
    let issued = 0
    const tokens = async () => {
      issued += 1
      return tokenFor('ada', { [DOC]: 'write' }, { ttl: 2 })
    }
    const ada = provider(server.url, DOC, { token: tokens })
    const adaCloses = closes(ada)
    await settled(ada)
    const firstExp = Date.now() + 2000
    await vi.waitFor(() => {
      expect(Date.now()).toBeGreaterThan(firstExp + 2500)
      expect(synced.length).toBeGreaterThanOrEqual(3)
    }, LONG)
    expect(adaCloses).toEqual([])
    expect(issued).toBe(synced.length + 1)
    expect(connections(server)).toBe(1)
    ada.document.getText('text').insert(0, 'still here')
    await settled(ada)
    expect(await storedText(server, DOC)).toBe('still here')
  })

  it('a fresh token with a lower role takes effect at once, and a higher one too', async () => {
    const server = await startServer(TOKEN_MODE)
    let role = 'write'
    const ada = provider(server.url, DOC, { token: () => tokenFor('ada', { [DOC]: role }) })
    const peer = provider(server.url, DOC, { token: await tokenFor('bob', { [DOC]: 'write' }) })
    const adaAcks = acks(ada)
    await Promise.all([settled(ada), settled(peer)])
    ada.document.getText('text').insert(0, 'before. ')
    await settled(ada)

    role = 'read'
    await ada.sendToken()
    await vi.waitFor(() => expect(ada.authorizedScope).toBe('readonly'))
    ada.document.getText('text').insert(ada.document.getText('text').length, 'WHILE READER')
    await vi.waitFor(() => expect(adaAcks.at(-1)).toBe(false))
    peer.document.getText('text').insert(0, 'peer. ')
    await settled(peer)
    await vi.waitFor(() => expect(ada.document.getText('text').toString()).toContain('peer. '))
    expect(peer.document.getText('text').toString()).toBe('peer. before. ')
    expect(await storedText(server, DOC)).toBe('peer. before. ')

    // Upgraded back: a reader that never edited becomes a writer.
    let bobRole = 'read'
    const bob = provider(server.url, DOC, { token: () => tokenFor('bob', { [DOC]: bobRole }) })
    await settled(bob)
    expect(bob.authorizedScope).toBe('readonly')
    bobRole = 'admin'
    await bob.sendToken()
    await vi.waitFor(() => expect(bob.authorizedScope).toBe('read-write'))
    bob.document.getText('list').insert(0, 'upgraded')
    await settled(bob)
    expect(await storedText(server, DOC, 'list')).toBe('upgraded')
  })

  it('a fresh token for another user or another document, or a bad one, closes the document', async () => {
    const server = await startServer(TOKEN_MODE)
    const cases: Array<[string, () => Promise<string>, number]> = [
      ['another user', () => tokenFor('mallory', { [DOC]: 'admin' }), CloseCode.Forbidden.code],
      ['another document', () => tokenFor('ada', { 'team/other': 'write' }), CloseCode.Forbidden.code],
      ['bad signature', () => tokenFor('ada', { [DOC]: 'write' }, { secret: 'x'.repeat(40) }), CloseCode.Unauthorized.code],
      ['expired', () => tokenFor('ada', { [DOC]: 'write' }, { ttl: -10 }), CloseCode.TokenExpired.code],
    ]
    for (const [what, next, code] of cases) {
      const source: { fresh?: () => Promise<string> } = {}
      const ada = provider(server.url, DOC, { token: () => (source.fresh ? source.fresh() : tokenFor('ada', { [DOC]: 'write' })) })
      const adaCloses = closes(ada)
      await settled(ada)
      source.fresh = next
      await ada.sendToken()
      await vi.waitFor(() => expect(adaCloses.map((c) => c.reason.split(' ')[0]), what).toEqual([String(code)]))
      await vi.waitFor(() => expect(connections(server), what).toBe(0))
      ada.destroy()
    }
  })
})
