import { HocuspocusProvider } from '@hocuspocus/provider'
import { describe, expect, it, vi } from 'vitest'
import type { Awareness } from 'y-protocols/awareness'
import { provider, settled } from '../helpers/clients.ts'
import { Services, startCluster } from '../helpers/cluster.ts'
import { collabClient } from '../helpers/collab.ts'
import { gauge, whenGone, whenPresent } from '../helpers/presence.ts'

const services = new Services()

/** docs/protocol.md, "Presence across instances": a normal leave reaches every instance within this. */
const LEAVE_WITHIN_MS = 1000

interface Leaver {
  clientId: number
  joined: Promise<unknown>
  leave(): void
}

/** The ways a client leaves normally: our client's room.leave() and close(), the stock provider's destroy(), a closed socket. */
const leavers: Record<string, (url: string, room: string) => Leaver> = {
  'room.leave() of our client': (url, name) => {
    const room = collabClient(url, 'leaver').room(name)
    return { clientId: room.doc.clientID, joined: room.synced, leave: () => room.leave() }
  },
  'close() of our client': (url, name) => {
    const client = collabClient(url, 'leaver')
    const room = client.room(name)
    return { clientId: room.doc.clientID, joined: room.synced, leave: () => client.close() }
  },
  'destroy() of the stock provider': (url, name) => {
    const p = stockLeaver(url, name)
    return { clientId: p.document.clientID, joined: settled(p), leave: () => p.destroy() }
  },
  'a closed socket (tab closed, no goodbye)': (url, name) => {
    const p = stockLeaver(url, name)
    return { clientId: p.document.clientID, joined: settled(p), leave: () => p.configuration.websocketProvider.destroy() }
  },
}

function stockLeaver(url: string, name: string): HocuspocusProvider {
  const p = provider(url, name)
  p.setAwarenessField('user', { id: 'leaver', name: 'Leaver', color: '#f80' })
  return p
}

describe('presence across instances: a normal leave', () => {
  it(`reaches every client on every other instance within ${LEAVE_WITHIN_MS} ms (three instances behind nginx)`, async () => {
    const cluster = await startCluster(services, { nodes: 3, nginx: true })
    const loaded = () => Promise.all(cluster.nodes.map((n) => gauge(n.http, 'collab_documents_loaded')))

    for (const [kind, join] of Object.entries(leavers)) {
      const name = `leave-${kind.replace(/\W+/g, '-')}`
      // Nothing loaded anywhere, so the instance nginx picks for the leaver is the one that loads the room.
      await vi.waitFor(async () => expect(await loaded()).toEqual([0, 0, 0]), { timeout: 10_000, interval: 100 })
      const leaver = join(cluster.lbUrl!, name)
      await leaver.joined
      const counts = await loaded()
      const home = counts.indexOf(1)
      expect(counts.filter((c) => c > 0), kind).toEqual([1])

      // The leaver is alone on its instance; our client and the stock provider watch from each of the two others.
      const watchers: Awareness[] = []
      const closers: (() => void)[] = []
      for (const [i, node] of cluster.nodes.entries()) {
        if (i === home) continue
        const client = collabClient(node.url, `watcher${i}`)
        const ours = client.room(name)
        const stock = provider(node.url, name)
        await Promise.all([ours.synced, settled(stock)])
        watchers.push(ours.provider.awareness!, stock.awareness!)
        closers.push(() => client.close(), () => stock.destroy())
      }
      await Promise.all(watchers.map((w) => whenPresent(w, leaver.clientId, 10_000)))

      const left = Date.now()
      leaver.leave()
      // The deadline is well above the promise, so a slow leave is measured, not cut off.
      const seen = await Promise.all(watchers.map((w) => whenGone(w, leaver.clientId, 10 * LEAVE_WITHIN_MS)))
      for (const at of seen) expect(at - left, kind).toBeLessThan(LEAVE_WITHIN_MS)
      closers.forEach((close) => close())
    }
  }, 120_000)
})
