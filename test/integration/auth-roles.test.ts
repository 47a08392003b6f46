import { describe, expect, it, vi } from 'vitest'
import { acks, storedText } from '../helpers/auth.ts'
import { provider, settled } from '../helpers/clients.ts'
import { startServer } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

const DOC = 'team/plan'

describe('roles', () => {
  it("a reader's edit is refused: not applied, not stored, not broadcast, and the reader sees it unsaved", async () => {
    const server = await startServer(TOKEN_MODE)
    const writer = provider(server.url, DOC, { token: await tokenFor('ada', { 'team/*': 'write' }) })
    const reader = provider(server.url, DOC, { token: await tokenFor('bob', { 'team/*': 'read' }) })
    const readerAcks = acks(reader)
    await Promise.all([settled(writer), settled(reader)])
    expect(writer.authorizedScope).toBe('read-write')
    expect(reader.authorizedScope).toBe('readonly')

    writer.document.getText('text').insert(0, 'from writer. ')
    await settled(writer)
    await vi.waitFor(() => expect(reader.document.getText('text').toString()).toBe('from writer. '))

    reader.document.getText('text').insert(0, 'FROM READER ')
    await vi.waitFor(() => expect(readerAcks).toContain(false))
    expect(reader.unsyncedChanges).toBeGreaterThan(0)

    // A round trip after the refusal: anything broadcast would have arrived before this.
    writer.document.getText('text').insert(writer.document.getText('text').length, 'more.')
    await settled(writer)
    await vi.waitFor(() => expect(reader.document.getText('text').toString()).toContain('more.'))
    expect(writer.document.getText('text').toString()).toBe('from writer. more.')
    expect(server.hocuspocus.documents.get(DOC)!.getText('text').toString()).toBe('from writer. more.')
    expect(await storedText(server, DOC)).toBe('from writer. more.')
    expect(reader.unsyncedChanges).toBeGreaterThan(0)

    // A newcomer loads what the server holds: the writer's text only.
    const later = provider(server.url, DOC, { token: await tokenFor('cy', { [DOC]: 'read' }) })
    await settled(later)
    expect(later.document.getText('text').toString()).toBe('from writer. more.')
  })

  it('the most specific pattern decides the role; write and admin may edit', async () => {
    const server = await startServer(TOKEN_MODE)
    const docs = { '*': 'read', 'team/*': 'write', 'team/board': 'read', 'team/admin/*': 'admin' }
    const token = await tokenFor('ada', docs)
    const board = provider(server.url, 'team/board', { token })
    const notes = provider(server.url, 'team/notes', { token })
    const admin = provider(server.url, 'team/admin/settings', { token })
    const elsewhere = provider(server.url, 'lobby', { token })
    await Promise.all([board, notes, admin, elsewhere].map((p) => settled(p)))
    expect([board, notes, admin, elsewhere].map((p) => p.authorizedScope)).toEqual(['readonly', 'read-write', 'read-write', 'readonly'])

    for (const p of [notes, admin]) {
      p.document.getText('text').insert(0, 'edited')
      await settled(p)
      expect(await storedText(server, p.configuration.name)).toBe('edited')
    }
    const boardAcks = acks(board)
    board.document.getText('text').insert(0, 'edited')
    await vi.waitFor(() => expect(boardAcks).toEqual([false]))
    expect(await storedText(server, 'team/board')).toBe('')
  })
})
