import { describe, expect, it, vi } from 'vitest'
import { provider, settled, socket } from '../helpers/clients.ts'
import { startServer } from '../helpers/server.ts'

describe('sync over one multiplexed socket', () => {
  it('three clients on two documents converge, and the documents stay apart', async () => {
    const server = await startServer()
    const shared = socket(server.url)
    // Client A: both documents on one socket. B and C: one document each.
    const a1 = provider(server.url, 'doc-1', { ws: shared })
    const a2 = provider(server.url, 'doc-2', { ws: shared })
    const b1 = provider(server.url, 'doc-1')
    const c2 = provider(server.url, 'doc-2')
    await Promise.all([a1, a2, b1, c2].map((p) => settled(p)))

    a1.document.getText('t').insert(0, 'hello from A on 1 ')
    b1.document.getText('t').insert(0, 'B on 1 ')
    a2.document.getArray<string>('list').push(['A on 2'])
    c2.document.getArray<string>('list').push(['C on 2'])

    await vi.waitFor(() => {
      expect(a1.document.getText('t').toString()).toBe(b1.document.getText('t').toString())
      expect(a1.document.getText('t').length).toBe('hello from A on 1 B on 1 '.length)
      expect(a2.document.getArray('list').toJSON()).toEqual(c2.document.getArray('list').toJSON())
      expect(a2.document.getArray('list').length).toBe(2)
    })
    // No cross-talk between the two documents.
    expect(a2.document.getText('t').length).toBe(0)
    expect(a1.document.getArray('list').length).toBe(0)
    // The two documents really share one socket on the server side.
    expect(server.hocuspocus.getDocumentsCount()).toBe(2)
  })
})
