/**
 * Attribution (issue 16, item 3): GET /api/documents/{name}/authors maps each
 * Yjs client id of the document to the user who owns it — so an editor can
 * colour text by author — across a restart and compaction.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Errors } from '../../client/protocol.ts'
import { provider, settled } from '../helpers/clients.ts'
import { appendText, call, docPath, httpBase } from '../helpers/rest.ts'
import { startServer, tempDir } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

const DOC = 'team/authors'
const ACCESS = { 'team/*': 'write' }

describe('REST authors', () => {
  it('a reader gets client id → user for every id that wrote; kept across compaction and a restart', async () => {
    const dbPath = join(tempDir(), 'collab.db')
    const server = await startServer({ ...TOKEN_MODE, dbPath })
    const base = httpBase(server.url)
    const ada = provider(server.url, DOC, { token: await tokenFor('ada', ACCESS) })
    await settled(ada)
    ada.document.getText('text').insert(0, 'by Ada. ')
    await settled(ada)
    const bobToken = await tokenFor('bob', ACCESS)
    const rest = await call(base, 'POST', docPath(DOC, '/updates'), { token: bobToken, body: appendText('by Bob over REST.', 'text', Y.encodeStateAsUpdate(server.hocuspocus.documents.get(DOC)!)) })
    expect(rest.status).toBe(200)
    const reader = await tokenFor('eve', { 'team/*': 'read' })
    const expected = { [ada.document.clientID]: 'ada' }
    const first = await call(base, 'GET', docPath(DOC, '/authors'), { token: reader })
    expect(first.status).toBe(200)
    expect(first.json.name).toBe(DOC)
    const authors = first.json.authors as Record<string, string>
    expect(authors).toMatchObject(expected)
    expect(Object.values(authors).sort()).toEqual(['ada', 'bob'])

    await server.persistence.compact(DOC)
    await server.close()
    const again = await startServer({ ...TOKEN_MODE, dbPath })
    const after = await call(httpBase(again.url), 'GET', docPath(DOC, '/authors'), { token: reader })
    expect(after.json.authors).toEqual(authors)
  })

  it('no such document: 404; a token for other documents: 403', async () => {
    const server = await startServer(TOKEN_MODE)
    const base = httpBase(server.url)
    const missing = await call(base, 'GET', docPath('team/none', '/authors'), { token: await tokenFor('eve', { 'team/*': 'read' }) })
    expect([missing.status, missing.json.error]).toEqual([404, Errors.NotFound.reason])
    const other = await call(base, 'GET', docPath(DOC, '/authors'), { token: await tokenFor('eve', { 'other/*': 'read' }) })
    expect([other.status, other.json.error]).toEqual([403, Errors.Forbidden.reason])
  })
})
