import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { SharedNames } from '../../client/index.ts'
import { collabClient, roomSaved, texts } from '../helpers/collab.ts'
import { startServer } from '../helpers/server.ts'

/** Open sockets on the server, read from its health endpoint. */
async function socketsOn(server: { url: string }): Promise<number> {
  const res = await fetch(server.url.replace(/^ws/, 'http').replace(/\/ws$/, '/healthz'))
  return ((await res.json()) as { connections: number }).connections
}

describe('rooms on one client', () => {
  it('share one socket and stay separate', async () => {
    const server = await startServer()
    const ann = collabClient(server.url, 'ann')
    const one = ann.room('room-one')
    const two = ann.room('room-two')
    expect(ann.room('room-one')).toBe(one)
    const bob = collabClient(server.url, 'bob').room('room-one')
    const cy = collabClient(server.url, 'cy').room('room-two')
    await Promise.all([one.synced, two.synced, bob.synced, cy.synced])
    expect(ann.status).toBe('connected')

    one.chat.send('for room one')
    two.chat.send('for room two')
    one.codemirror.insert(0, 'code one')
    two.prosemirror.insert(0, [new Y.XmlText('prose two')])
    one.presence.set({ status: 'online', where: 'one' })
    two.typing.start()

    await vi.waitFor(() => {
      expect(texts(bob)).toEqual(['for room one'])
      expect(texts(cy)).toEqual(['for room two'])
      expect(bob.codemirror.toString()).toBe('code one')
      expect(cy.prosemirror.length).toBe(1)
      expect(bob.presence.others()).toMatchObject([{ user: { id: 'ann' }, where: 'one' }])
      expect(cy.typing.who()).toMatchObject([{ user: { id: 'ann' } }])
    })
    expect(cy.codemirror.toString()).toBe('')
    expect(bob.prosemirror.length).toBe(0)
    expect(bob.typing.who()).toEqual([])
    expect(cy.presence.others()[0]).not.toHaveProperty('where')
    // The editor types live under the documented names.
    expect(bob.doc.getText(SharedNames.codemirror).toString()).toBe('code one')
    expect(cy.doc.getXmlFragment(SharedNames.prosemirror).length).toBe(1)

    // Three clients, three sockets: ann's two rooms ride on one.
    expect(await socketsOn(server)).toBe(3)
    expect(server.hocuspocus.getDocumentsCount()).toBe(2)

    // Leaving one room leaves the other working on the same socket.
    one.leave()
    await vi.waitFor(() => expect(bob.presence.others()).toEqual([]))
    cy.chat.send('still here?')
    await vi.waitFor(() => expect(texts(two)).toEqual(['for room two', 'still here?']))
    expect(await socketsOn(server)).toBe(3)
    // Joining again gives a fresh room that syncs what was said meanwhile.
    bob.chat.send('welcome back')
    const again = ann.room('room-one')
    expect(again).not.toBe(one)
    await again.synced
    await vi.waitFor(() => expect(texts(again)).toEqual(['for room one', 'welcome back']))
  })

  it('pause() goes offline and resume() syncs what was done meanwhile', async () => {
    const server = await startServer()
    const annClient = collabClient(server.url, 'ann')
    const ann = annClient.room('r')
    const bob = collabClient(server.url, 'bob').room('r')
    await Promise.all([ann.synced, bob.synced])
    const statuses: string[] = []
    annClient.on('status', (s) => statuses.push(s))

    annClient.pause()
    await vi.waitFor(() => expect(annClient.status).toBe('offline'))
    const sent = ann.chat.send('written while paused')
    expect(ann.unsaved).toBe(true)
    bob.chat.send('bob while ann is away')
    await roomSaved(bob)
    // Nothing crosses while paused.
    expect(texts(bob)).toEqual(['bob while ann is away'])

    annClient.resume()
    await vi.waitFor(() => expect(annClient.status).toBe('connected'))
    await roomSaved(ann)
    await vi.waitFor(() => {
      expect(texts(bob)).toEqual(texts(ann))
      expect(texts(ann)).toHaveLength(2)
    })
    expect(ann.chat.get(sent.id)?.status).toBe('saved')
    expect(statuses).toContain('offline')
    expect(statuses.at(-1)).toBe('connected')
  })
})
