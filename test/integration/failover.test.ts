import { describe, expect, it, vi } from 'vitest'
import { Services, startCluster } from '../helpers/cluster.ts'
import { AckedWriter, FAST_WRITERS, expectNoneMissing, killNineRounds, readEdits } from '../helpers/kill9.ts'
import { metric } from '../helpers/rest.ts'
import { spawnServer } from '../helpers/process.ts'

const services = new Services()

describe('failover', () => {
  it('kill -9 of one instance at random moments (10 rounds) behind nginx: 0 acknowledged edits lost, clients converge on survivors', async () => {
    const cluster = await startCluster(services, { nodes: 3, nginx: true, env: FAST_WRITERS })
    const next = { value: 0 }
    const writers = [0, 1, 2].map(() => new AckedWriter(cluster.lbUrl!, 'failover', next))
    await Promise.all(writers.map((w) => w.settled()))
    for (let round = 0; round < 10; round++) {
      writers.forEach((w) => w.start(1))
      // A random moment: after a random number of acknowledged edits.
      const ahead = 10 + Math.floor(Math.random() * 100)
      await Promise.all(writers.map((w) => w.acknowledgedAtLeast(w.acknowledged.length + ahead)))
      const victim = Math.floor(Math.random() * 3)
      cluster.nodes[victim]!.proc.kill('SIGKILL')
      await cluster.nodes[victim]!.exited
      // Edits go on while the victim's clients fail over, until every writer has new acks again.
      await Promise.all(writers.map((w) => w.acknowledgedAtLeast(w.acknowledged.length + 10)))
      writers.forEach((w) => w.stop())
      // Every client (also the victim's) reconnects through nginx and gets everything saved.
      await Promise.all(writers.map((w) => w.settled(30_000)))
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
    await writer.settled()
    writer.edit()
    await writer.settled()
    const before = writer.acknowledged.length

    await pg.stop()
    try {
      writer.edit()
      await vi.waitFor(async () => expect((await fetch(`${server.http}/readyz`)).status).toBe(503), { timeout: 20_000 })
      // Not acknowledged while the database is down: the append failed (a metric), and no ack came for it.
      await vi.waitFor(async () => expect(await metric(server.http, 'collab_persist_failures_total')).toBeGreaterThan(0), { timeout: 20_000 })
      expect(writer.provider.unsyncedChanges).toBeGreaterThan(0)
      expect(writer.acknowledged.length).toBe(before)
    } finally {
      await pg.start()
    }
    await vi.waitFor(async () => expect((await fetch(`${server.http}/readyz`)).status).toBe(200), { timeout: 30_000 })
    await writer.settled(30_000)
    expect(await readEdits(server.url, 'pg-down')).toEqual([0, 1])
    writer.destroy()
  }, 120_000)
})
