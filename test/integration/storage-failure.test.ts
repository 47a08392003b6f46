import { describe, expect, it, vi } from 'vitest'
import { CloseCode } from '../../client/protocol.ts'
import type { SqliteStorage } from '../../server/storage/sqlite.ts'
import { provider, settled } from '../helpers/clients.ts'
import { startServer } from '../helpers/server.ts'

const readyz = (wsUrl: string) => fetch(wsUrl.replace('ws://', 'http://').replace(/\/ws$/, '/readyz'))

describe('storage failures', () => {
  it('a full database: no false acks, /readyz 503, the offender reconnects; recovery without restart', async () => {
    const server = await startServer()
    const db = (server.storage as SqliteStorage).database
    const p = provider(server.url, 'full')
    await settled(p)
    p.document.getText('t').insert(0, 'saved before. ')
    await settled(p)

    const closeCodes: number[] = []
    p.configuration.websocketProvider.on('close', ({ event }: { event: { code: number } }) => closeCodes.push(event.code))

    // Make the database "full": no page may be added.
    const pages = db.pragma('page_count', { simple: true }) as number
    db.pragma(`max_page_count = ${pages}`)
    p.document.getText('t').insert(0, 'x'.repeat(200_000))

    await vi.waitFor(() => expect(closeCodes).toContain(CloseCode.StorageUnavailable.code), { timeout: 15_000 })
    expect(p.unsyncedChanges).toBeGreaterThan(0) // never acknowledged
    expect((await readyz(server.url)).status).toBe(503)
    // Nothing of the refused update is in memory on the server.
    const live = server.hocuspocus.documents.get('full')
    expect(live?.getText('t').toString() ?? 'saved before. ').toBe('saved before. ')

    // Storage comes back: the server is ready again and the client's edit lands.
    db.pragma('max_page_count = 1073741823')
    await vi.waitFor(async () => expect((await readyz(server.url)).status).toBe(200), { timeout: 15_000 })
    await settled(p, 30_000)
    const stored = await server.storage.load('full')
    const bytes = [stored.snapshot, ...stored.updates].reduce((s, u) => s + (u?.byteLength ?? 0), 0)
    expect(bytes).toBeGreaterThan(200_000)
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
  })
})
