import type { HocuspocusProvider } from '@hocuspocus/provider'
import { describe, expect, it, vi } from 'vitest'
import type { Awareness } from 'y-protocols/awareness'
import { provider, settled } from '../helpers/clients.ts'
import { Services, startCluster } from '../helpers/cluster.ts'
import { collabClient } from '../helpers/collab.ts'
import type { ServerProcess } from '../helpers/process.ts'
import { gauge, removals, whenGone, whenPresent } from '../helpers/presence.ts'

const services = new Services()

/** docs/protocol.md, "Presence across instances": the clients of an instance that stopped announcing itself leave within this. */
const DEAD_WITHIN_MS = 5000
/** Waiting deadline: well above what is promised (and observed, ~3–4 s), so a slow removal is measured, not cut off. */
const DEADLINE_MS = 3 * DEAD_WITHIN_MS

/** Two clients (ours and the stock provider) on each of two instances, all in one room. */
async function twoInstancesInARoom(env: Record<string, string> = {}) {
  const cluster = await startCluster(services, { nodes: 2, env })
  const [a, b] = cluster.nodes as [ServerProcess, ServerProcess]
  const annRoom = collabClient(a.url, 'ann').room('room')
  const aStock = provider(a.url, 'room')
  const bobRoom = collabClient(b.url, 'bob').room('room')
  const bStock = provider(b.url, 'room')
  aStock.setAwarenessField('user', { id: 'a-stock', name: 'A', color: '#f00' })
  bStock.setAwarenessField('user', { id: 'b-stock', name: 'B', color: '#00f' })
  await Promise.all([annRoom.synced, bobRoom.synced, settled(aStock), settled(bStock)])
  const onA = [annRoom.doc.clientID, aStock.document.clientID]
  const onB = [bobRoom.doc.clientID, bStock.document.clientID]
  const watchersOnB: Awareness[] = [bobRoom.provider.awareness!, bStock.awareness!]
  await Promise.all(watchersOnB.flatMap((w) => onA.map((id) => whenPresent(w, id, DEADLINE_MS))))
  await recorded(a, onA.length)
  return { a, b, annRoom, aStock, bobRoom, bStock, onA, onB, watchersOnB }
}

/** Wait until the instance's record in Redis holds its `count` clients (what survivors remove if it dies). */
async function recorded(server: ServerProcess, count: number): Promise<void> {
  await vi.waitFor(async () => expect(await gauge(server.http, 'collab_presence_recorded')).toBe(count), { timeout: DEADLINE_MS, interval: 50 })
}

/** Block the instance's event loop for `ms` through the inspector (NODE_OPTIONS=--inspect): a stand-in for a huge document load. */
async function stallEventLoop(server: ServerProcess, ms: number): Promise<void> {
  const url = /Debugger listening on (ws:\/\/\S+)/.exec(server.stderr())?.[1]
  if (!url) throw new Error(`no inspector URL in: ${server.stderr()}`)
  const inspector = new WebSocket(url)
  await new Promise((resolve, reject) => {
    inspector.onopen = resolve
    inspector.onerror = reject
  })
  const done = new Promise<void>((resolve) => {
    inspector.onmessage = (event) => {
      if ((JSON.parse(String(event.data)) as { id?: number }).id === 1) resolve()
    }
  })
  inspector.send(JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression: `{ const until = Date.now() + ${ms}; while (Date.now() < until); }` } }))
  await done
  inspector.close()
}

describe('presence across instances: an instance that stops announcing itself', () => {
  it(`kill -9: the peers on the survivor see the dead instance's clients leave within ${DEAD_WITHIN_MS} ms`, async () => {
    const { a, bobRoom, bStock, onA, onB, watchersOnB } = await twoInstancesInARoom()
    const killed = Date.now()
    a.proc.kill('SIGKILL')
    const seen = await Promise.all(watchersOnB.flatMap((w) => onA.map((id) => whenGone(w, id, DEADLINE_MS))))
    for (const at of seen) expect(at - killed).toBeLessThan(DEAD_WITHIN_MS)
    // The survivor's own clients stay.
    expect(bobRoom.provider.awareness!.getStates().has(onB[1]!)).toBe(true)
    expect(bStock.awareness!.getStates().has(onB[0]!)).toBe(true)
  }, 60_000)

  it('a frozen instance (SIGSTOP) is given up, and when it thaws (SIGCONT) it announces its clients again', async () => {
    const { a, onA, watchersOnB } = await twoInstancesInARoom()
    a.proc.kill('SIGSTOP')
    try {
      const stopped = Date.now()
      const seen = await Promise.all(watchersOnB.flatMap((w) => onA.map((id) => whenGone(w, id, DEADLINE_MS))))
      for (const at of seen) expect(at - stopped).toBeLessThan(DEAD_WITHIN_MS)
    } finally {
      a.proc.kill('SIGCONT')
    }
    const thawed = Date.now()
    const back = await Promise.all(watchersOnB.flatMap((w) => onA.map((id) => whenPresent(w, id, DEADLINE_MS))))
    for (const at of back) expect(at - thawed).toBeLessThan(DEAD_WITHIN_MS)
  }, 60_000)

  it('an event-loop stall longer than the dead-instance window removes nobody', async () => {
    const { a, annRoom, onA, watchersOnB } = await twoInstancesInARoom({ NODE_OPTIONS: '--inspect=127.0.0.1:0' })
    const gone = watchersOnB.map((w) => removals(w))
    await stallEventLoop(a, 2 * DEAD_WITHIN_MS)
    // Barrier: a presence change made after the stall reaches the peers on the other instance...
    annRoom.presence.set({ mood: 'after the stall' })
    const after = (state: Record<string, unknown>) => (state.presence as { mood?: string } | undefined)?.mood === 'after the stall'
    await Promise.all(watchersOnB.map((w) => whenPresent(w, onA[0]!, DEADLINE_MS, after)))
    // ...and nobody of that instance left meanwhile.
    for (const removed of gone) expect(removed.filter((id) => onA.includes(id))).toEqual([])
  }, 60_000)

  it("the dead instance's clients that reconnect to the survivor through nginx stay in presence", async () => {
    const cluster = await startCluster(services, { nodes: 2, nginx: true })
    const [a, b] = cluster.nodes as [ServerProcess, ServerProcess]
    const sockets = () => Promise.all([gauge(a.http, 'collab_connections'), gauge(b.http, 'collab_connections')])
    const watcher = provider(b.url, 'room')
    const stay = provider(a.url, 'room') // connected to A itself: it cannot follow
    stay.setAwarenessField('user', { id: 'stay', name: 'Stay', color: '#0a0' })
    await Promise.all([settled(watcher), settled(stay)])
    // Through nginx (round robin): keep the ones that landed on A.
    const movers: HocuspocusProvider[] = []
    for (let i = 0; i < 4; i++) {
      const before = await sockets()
      const p = provider(cluster.lbUrl!, 'room')
      p.setAwarenessField('user', { id: `mover${i}`, name: `Mover ${i}`, color: '#a0a' })
      await settled(p)
      const after = await sockets()
      if (after[0] > before[0]) movers.push(p)
    }
    expect(movers.length).toBeGreaterThan(0)
    const ids = movers.map((p) => p.document.clientID)
    await Promise.all(ids.map((id) => whenPresent(watcher.awareness!, id, DEADLINE_MS)))
    await recorded(a, 1 + movers.length)

    const killed = Date.now()
    a.proc.kill('SIGKILL')
    // The client that could not follow leaves; the ones that reconnected are there once it has left.
    await whenGone(watcher.awareness!, stay.document.clientID, DEADLINE_MS)
    const back = await Promise.all(ids.map((id) => whenPresent(watcher.awareness!, id, DEADLINE_MS)))
    for (const at of back) expect(at - killed).toBeLessThan(DEAD_WITHIN_MS)
  }, 60_000)
})
