/**
 * Honest clients that send other users' structs (issue 16, item 2): our
 * client forwarding what its offline store loaded after a reload (every
 * user's known structs), a reconnecting client's SyncStep2 relaying another
 * user's structs the server lacks after a backup restore, and a version
 * restore, which the server writes under a fresh client id claimed for the admin.
 */
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import type { OfflineStoreFactory } from '../../client/index.ts'
import type { SqliteStorage } from '../../server/storage/sqlite.ts'
import { acks, storedText } from '../helpers/auth.ts'
import { provider, settled } from '../helpers/clients.ts'
import { collabClient, roomSaved } from '../helpers/collab.ts'
import { call, docPath, httpBase } from '../helpers/rest.ts'
import { startServer, tempDir } from '../helpers/server.ts'
import { TOKEN_MODE, tokenFor } from '../helpers/tokens.ts'

const ACCESS = { 'team/*': 'write' }

/** The browser's IndexedDB store as client-reload.test.ts stands it in: updates per key, applied back on open. */
function memoryStore(): OfflineStoreFactory {
  const disk = new Map<string, Uint8Array[]>()
  return (key, doc) => {
    const updates = disk.get(key) ?? []
    disk.set(key, updates)
    const origin = { store: key }
    const whenLoaded = Promise.resolve().then(() => doc.transact(() => updates.forEach((u) => Y.applyUpdate(doc, u)), origin))
    const keep = (update: Uint8Array, from: unknown) => {
      if (from !== origin) updates.push(update)
    }
    doc.on('update', keep)
    return { whenLoaded, destroy: () => doc.off('update', keep) }
  }
}

describe('honest clients relaying other users’ structs', () => {
  it('our client after a reload sends everyone’s known structs with its offline edits: saved, nothing refused', async () => {
    const server = await startServer(TOKEN_MODE)
    const store = memoryStore()
    const annToken = await tokenFor('ann', ACCESS)
    const first = collabClient(server.url, 'ann', { token: annToken, offline: store }).room('team/r')
    const bob = collabClient(server.url, 'bob', { token: await tokenFor('bob', ACCESS) }).room('team/r')
    await Promise.all([first.synced, bob.synced])
    first.codemirror.insert(0, 'ann1;')
    await roomSaved(first)
    // Bob types at the start of what he has: wait until that is Ann's edit (her ack does not mean Bob has it yet).
    await vi.waitFor(() => expect(bob.codemirror.toString()).toBe('ann1;'))
    bob.codemirror.insert(0, 'bob1;')
    await roomSaved(bob)
    await vi.waitFor(() => expect(first.codemirror.toString()).toBe('bob1;ann1;'))
    first.leave()
    // A second page load, offline: edits under a new client id, never sent.
    const offline = collabClient(server.url, 'ann', { token: annToken, offline: store, startPaused: true }).room('team/r')
    await offline.loaded
    offline.codemirror.insert(offline.codemirror.length, 'ann2;')
    offline.leave()
    // A third, online: the store's update (ann's two ids and bob's) goes to the server with the new edits.
    const third = collabClient(server.url, 'ann', { token: annToken, offline: store }).room('team/r')
    await third.loaded
    third.codemirror.insert(0, 'ann3;')
    await roomSaved(third)
    await vi.waitFor(() => expect(bob.codemirror.toString()).toBe('ann3;bob1;ann1;ann2;'))
    expect(await storedText(server, 'team/r', 'codemirror')).toBe('ann3;bob1;ann1;ann2;')
  })

  it('after a backup restore, a SyncStep2 relaying Ada’s structs the server lacks: Bob’s own edits are stored, Ada’s come back from Ada', async () => {
    const dir = tempDir()
    const server = await startServer({ ...TOKEN_MODE, dbPath: join(dir, 'collab.db') })
    const adaToken = await tokenFor('ada', ACCESS)
    const bobToken = await tokenFor('bob', ACCESS)
    const ada = provider(server.url, 'team/b', { token: adaToken })
    const bob = provider(server.url, 'team/b', { token: bobToken })
    await Promise.all([settled(ada), settled(bob)])
    ada.document.getText('text').insert(0, 'A1;')
    await settled(ada)
    bob.document.getText('text').insert(0, 'B1;')
    await settled(bob)
    // The backup: Ada's id is hers in it (she wrote A1 before it was taken).
    const backup = join(dir, 'backup.db')
    ;(server.storage as SqliteStorage).database.exec(`VACUUM INTO '${backup}'`)
    ada.document.getText('text').insert(6, 'A2;')
    await settled(ada)
    await vi.waitFor(() => expect(bob.document.getText('text').toString()).toBe('B1;A1;A2;'))
    await server.close()
    // The operator restores the backup: A2 is gone from the server; Bob typed meanwhile, offline.
    const restored = await startServer({ ...TOKEN_MODE, dbPath: backup })
    bob.document.getText('text').insert(0, 'B2;')
    const bobAgain = provider(restored.url, 'team/b', { token: bobToken, doc: bob.document })
    const answers = acks(bobAgain)
    await vi.waitFor(() => expect(answers).toContain(false))
    await vi.waitFor(async () => expect(await storedText(restored, 'team/b')).toBe('B2;B1;A1;'))
    // Ada comes back: her SyncStep2 brings A2, hers to bring; the document is whole again.
    const adaAgain = provider(restored.url, 'team/b', { token: adaToken, doc: ada.document })
    await settled(adaAgain)
    expect(await storedText(restored, 'team/b')).toBe('B2;B1;A1;A2;')
    await vi.waitFor(() => expect(bobAgain.document.getText('text').toString()).toBe('B2;B1;A1;A2;'))
  })

  it('a restore is written under a fresh client id, claimed for the admin who restored', async () => {
    const server = await startServer(TOKEN_MODE)
    const base = httpBase(server.url)
    const admin = await tokenFor('root', { 'team/*': 'admin' })
    const ada = provider(server.url, 'team/v', { token: await tokenFor('ada', ACCESS) })
    await settled(ada)
    ada.document.getText('text').insert(0, 'old;')
    await settled(ada)
    const version = (await call(base, 'POST', docPath('team/v', '/versions'), { token: admin, body: { label: 'old' } })).json as { id: number }
    ada.document.getText('text').delete(0, 4)
    ada.document.getText('text').insert(0, 'new;')
    await settled(ada)
    const before = new Set(server.hocuspocus.documents.get('team/v')!.store.clients.keys())
    const r = await call(base, 'POST', docPath('team/v', `/versions/${version.id}/restore`), { token: admin })
    expect(r.status).toBe(200)
    await vi.waitFor(() => expect(ada.document.getText('text').toString()).toBe('old;'))
    const owners = (await server.storage.load('team/v')).owners ?? []
    const fresh = owners.filter((o) => !before.has(o.client))
    expect(fresh).toEqual([{ client: expect.any(Number), owner: 'root' }])
    expect(owners).toContainEqual({ client: ada.document.clientID, owner: 'ada' })
  })
})
