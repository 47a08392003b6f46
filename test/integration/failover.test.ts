import { describe, expect, it, vi } from 'vitest'
import { settled } from '../helpers/clients.ts'
import { Services, startCluster } from '../helpers/cluster.ts'
import { AckedWriter, expectNoneMissing, killNineRounds, readEdits } from '../helpers/kill9.ts'
import { spawnServer } from '../helpers/process.ts'

const services = new Services()

describe('failover', () => {
  it('kill -9 of one instance at random moments (10 rounds) behind nginx: 0 acknowledged edits lost, clients converge on survivors', async () => {
    const cluster = await startCluster(services, { nodes: 3, nginx: true })
    const next = { value: 0 }
    const writers = [0, 1, 2].map(() => new AckedWriter(cluster.lbUrl!, 'failover', next))
    await Promise.all(writers.map((w) => settled(w.provider)))
    for (let round = 0; round < 10; round++) {
      writers.forEach((w) => w.start(1))
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 300))
      const victim = Math.floor(Math.random() * 3)
      cluster.nodes[victim]!.proc.kill('SIGKILL')
      await cluster.nodes[victim]!.exited
      await new Promise((r) => setTimeout(r, 200))
      writers.forEach((w) => w.stop())
      // Every client (also the victim's) reconnects through nginx and gets everything saved.
      await Promise.all(writers.map((w) => settled(w.provider, 30_000)))
      await cluster.restart(victim)
    }
    const acknowledged = writers.flatMap((w) => w.acknowledged)
    expect(acknowledged.length).toBeGreaterThan(100)
    const stored = await readEdits(cluster.lbUrl!, 'failover')
    expectNoneMissing(acknowledged, stored, 'after 10 kills')
    // All copies converge.
    await vi.waitFor(() => {
      for (const w of writers) expect(w.doc.getArray('edits').length).toBe(stored.length)
    }, { timeout: 15_000 })
    writers.forEach((w) => w.destroy())
  }, 180_000)

  it('the PostgreSQL store passes the kill -9 test: 20 rounds, 0 acknowledged edits lost', async () => {
    const acknowledged = await killNineRounds({ DATABASE_URL: await services.database() }, 'pg-durable', 20)
    expect(acknowledged).toBeGreaterThan(200)
  }, 180_000)

  it('PostgreSQL stopped and started: no false acks, /readyz 503, recovery', async () => {
    const pg = await services.postgres()
    const server = await spawnServer({ DATABASE_URL: await services.database() })
    const next = { value: 0 }
    const writer = new AckedWriter(server.url, 'pg-down', next)
    await settled(writer.provider)
    writer.doc.getArray<number>('edits').push([next.value++])
    await settled(writer.provider)
    const before = writer.acknowledged.length

    await pg.stop()
    try {
      writer.doc.getArray<number>('edits').push([next.value++])
      await vi.waitFor(async () => expect((await fetch(`${server.http}/readyz`)).status).toBe(503), { timeout: 20_000 })
      await new Promise((r) => setTimeout(r, 1000))
      expect(writer.provider.unsyncedChanges).toBeGreaterThan(0) // not acknowledged while the database is down
      expect(writer.acknowledged.length).toBe(before)
    } finally {
      await pg.start()
    }
    await vi.waitFor(async () => expect((await fetch(`${server.http}/readyz`)).status).toBe(200), { timeout: 30_000 })
    await settled(writer.provider, 30_000)
    expect(await readEdits(server.url, 'pg-down')).toEqual([0, 1])
    writer.destroy()
  }, 120_000)
})
