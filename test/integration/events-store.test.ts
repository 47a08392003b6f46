/**
 * The change feed's outbox (docs/events.md) on every backend: events commit
 * with the append that causes them, marks are cleared only by the event that
 * pays them, retention, and — on PostgreSQL — a cursor that never skips an
 * event committing late.
 */
import { join } from 'node:path'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Coalescer } from '../../server/events/coalescer.ts'
import { MemoryStorage } from '../../server/storage/memory.ts'
import { PostgresStorage } from '../../server/storage/postgres.ts'
import { SqliteStorage } from '../../server/storage/sqlite.ts'
import type { FeedEvent, Storage, VersionInfo } from '../../server/storage/types.ts'
import { postgresForFile } from '../helpers/postgres.ts'
import { tempDirOutsideTest } from '../helpers/server.ts'


const pgUrl = postgresForFile('events')
const backends: Array<[string, () => Storage]> = [
  ['sqlite', () => new SqliteStorage({ path: join(tempDirOutsideTest(), 'c.db'), sync: 'normal' })],
  ['memory', () => new MemoryStorage()],
  ['postgres', () => new PostgresStorage({ connectionString: pgUrl(), logger: pino({ level: 'silent' }) })],
]

function update(): Uint8Array {
  const doc = new Y.Doc()
  doc.getArray('a').push([1])
  return Y.encodeStateAsUpdate(doc)
}

const chatEvent = (document: string, id: string) => ({ type: 'chat.message.created', document, actor: 'alice', data: { id } })

describe.each(backends)('event store: %s', (_name, make) => {
  it('events and marks commit with the append; ids increase; read pages after a cursor', async () => {
    const s = make()
    await s.append('d', update(), undefined, { events: [chatEvent('d', 'm1'), chatEvent('d', 'm2')], mark: { instance: 'i1', cycle: 1 } })
    await s.append('e', update(), undefined, { mark: { instance: 'i1', cycle: 1 } })
    const events = await s.events.read(0, 10)
    expect(events.map((e) => [e.type, e.document, e.actor, e.data])).toEqual([
      ['chat.message.created', 'd', 'alice', { id: 'm1' }],
      ['chat.message.created', 'd', 'alice', { id: 'm2' }],
    ])
    expect(events[1]!.id).toBeGreaterThan(events[0]!.id)
    expect(events[0]!.time).toBeGreaterThan(Date.now() - 60_000)
    expect(await s.events.read(events[0]!.id, 10)).toEqual([events[1]])
    if (!s.events.marksFromLog) {
      const marks = await s.events.marks(Date.now() + 1)
      expect(marks.map((m) => [m.document, m.instance, m.cycle]).sort()).toEqual([['d', 'i1', 1], ['e', 'i1', 1]])
      expect(await s.events.marks(Date.now() + 1, 'i1')).toEqual([])
    }
    await s.close()
  })

  it('an append that claims client ids carries its events and mark too; a lost claim stores none', async () => {
    const s = make()
    expect(await s.append('d', update(), [{ client: 7, owner: 'ann' }], { events: [chatEvent('d', 'claimed')], mark: { instance: 'i1', cycle: 1 } })).toBeUndefined()
    expect(await s.append('d', update(), [{ client: 7, owner: 'bob' }], { events: [chatEvent('d', 'lost')], mark: { instance: 'i2', cycle: 1 } })).toEqual([{ client: 7, owner: 'ann' }])
    expect((await s.events.read(0, 10)).map((e) => (e.data as { id: string }).id)).toEqual(['claimed'])
    if (!s.events.marksFromLog) expect((await s.events.marks(Date.now() + 1)).map((m) => m.instance)).toEqual(['i1'])
    await s.close()
  })

  it('a payment clears only marks of its cycle or older; a mark set again later stays', async (ctx) => {
    const s = make()
    if (s.events.marksFromLog) {
      await s.close()
      return ctx.skip()
    }
    await s.append('d', update(), undefined, { mark: { instance: 'i1', cycle: 3 } })
    await s.append('e', update(), undefined, { mark: { instance: 'i1', cycle: 5 } })
    const paid = await s.events.write([{ type: 'document.updated', document: 'd', actor: 'bob', data: {} }], [
      { document: 'd', instance: 'i1', cycle: 4 },
      { document: 'e', instance: 'i1', cycle: 4 },
    ])
    expect(paid.map((e) => e.document)).toEqual(['d'])
    expect((await s.events.marks(Date.now() + 1)).map((m) => m.document)).toEqual(['e'])
    expect((await s.events.bounds()).newest).toBe(paid[0]!.id)
    await s.close()
  })

  it('retention removes old events and says how far: a cursor below it cannot resume', async () => {
    const s = make()
    const first = await s.events.write([chatEvent('d', 'a'), chatEvent('d', 'b')])
    await expect.poll(() => Date.now()).toBeGreaterThan(first[1]!.time)
    const cut = Date.now()
    const later = await s.events.write([chatEvent('d', 'c')])
    expect(await s.events.prune(cut)).toBe(2)
    expect(await s.events.bounds()).toEqual({ newest: later[0]!.id, pruned: first[1]!.id })
    expect((await s.events.read(0, 10)).map((e) => e.id)).toEqual([later[0]!.id])
    await s.close()
  })

  it("one document's events, newest first, paged by `before` (the activity feed)", async () => {
    const s = make()
    const written = await s.events.write([chatEvent('d', '1'), chatEvent('e', 'x'), chatEvent('d', '2'), chatEvent('d', '3')])
    const ids = (events: FeedEvent[]) => events.map((e) => (e.data as { id: string }).id)
    const page = await s.events.ofDocument('d', { limit: 2 })
    expect(ids(page)).toEqual(['3', '2'])
    expect(ids(await s.events.ofDocument('d', { before: page[1]!.id, limit: 2 }))).toEqual(['1'])
    expect(ids(await s.events.ofDocument('e', { limit: 10 }))).toEqual(['x'])
    expect(await s.events.ofDocument('none', { limit: 10 })).toEqual([])
    expect(page[0]).toEqual(written[3])
    await s.close()
  })

  it('a version and its event commit in one transaction, as do a delete and its event: either both or neither', async () => {
    const s = make()
    await s.append('d', update())
    const version = { kind: 'named' as const, label: 'v', createdBy: 'ann', data: update() }
    const announce = (info: VersionInfo) => [{ type: 'version.created', document: 'd', actor: 'ann', data: { id: info.id } }]
    const saved = await s.saveVersion('d', version, announce)
    const auto = await s.saveVersionUnlessCovered('d', { ...version, kind: 'auto', label: null }, () => false, announce)
    expect((await s.events.read(0, 10)).map((e) => [e.type, e.data])).toEqual([
      ['version.created', { id: saved.id }],
      ['version.created', { id: auto!.id }],
    ])
    // An event that cannot be stored (not JSON) takes its version with it, and its delete.
    const broken = () => [{ type: 'version.created', document: 'd', actor: 'ann', data: { n: 1n } }]
    await expect(s.saveVersion('d', version, broken)).rejects.toThrow()
    expect(await s.listVersions('d')).toHaveLength(2)
    await expect(s.delete('d', broken())).rejects.toThrow()
    expect((await s.load('d')).updates).toHaveLength(1)
    await s.delete('d', [{ type: 'document.deleted', document: 'd', actor: 'ann', data: {} }])
    expect((await s.load('d')).updates).toHaveLength(0)
    expect((await s.events.read(0, 10)).map((e) => e.type)).toEqual(['version.created', 'version.created', 'document.deleted'])
    await s.close()
  })

  it('each stored update records its sender and time: who wrote the log entries since a moment', async () => {
    const s = make()
    await s.append('d', update(), undefined, { sender: 'ann' })
    await s.append('d', update(), undefined, { sender: 'bob' })
    await s.append('d', update(), undefined, { sender: 'ann' })
    await s.append('e', update(), undefined, { sender: 'eve' })
    await s.append('d', update())
    expect(await s.senders('d', 0)).toEqual(['ann', 'bob'])
    expect(await s.senders('d', Date.now() + 60_000)).toEqual([])
    // Compaction folds the entries, and who wrote them with them (the change feed keeps the authors).
    await s.compact('d')
    expect(await s.senders('d', 0)).toEqual([])
    await s.close()
  })
})

describe('event store: sqlite reads what is owed from its log', () => {
  it("a dead process's line makes every document changed since owed; paying forgets it; appends write no mark; a live line is left alone", async () => {
    const s = new SqliteStorage({ path: join(tempDirOutsideTest(), 'c.db'), sync: 'normal' })
    await s.events.begin('live')
    await s.events.begin('gone')
    // 'gone' was this process: pretend it was another one, no longer running.
    s.database.prepare("UPDATE event_lines SET pid = 2147483646 WHERE instance = 'gone'").run()
    await s.append('d', update(), undefined, { mark: { instance: 'gone', cycle: 1 } })
    expect(s.database.prepare("SELECT name FROM sqlite_master WHERE name = 'event_marks'").get()).toBeUndefined()
    const owed = await s.events.marks(Date.now() - 60_000, 'live')
    expect(owed.map((m) => [m.document, m.instance])).toEqual([['d', 'gone']])
    await s.events.write([{ type: 'document.updated', document: 'd', actor: 'x', data: {} }], owed)
    expect(await s.events.marks(Date.now() - 60_000, 'live')).toEqual([])
    // Seen from elsewhere, the live line (this process, within the grace) owes nothing yet…
    expect(await s.events.marks(Date.now() - 60_000, 'other')).toEqual([])
    // …and its payments move it.
    const line = Date.now() + 1
    await s.events.write([], [], { instance: 'live', through: line })
    expect(s.database.prepare("SELECT paid_through AS at FROM event_lines WHERE instance = 'live'").get()).toEqual({ at: line })
    await expect.poll(() => Date.now()).toBeGreaterThan(line)
    await s.append('e', update())
    // Were it to die now, only what changed after its line is owed.
    s.database.prepare("UPDATE event_lines SET pid = 2147483646 WHERE instance = 'live'").run()
    expect((await s.events.marks(Date.now() - 60_000, 'other')).map((m) => m.document)).toEqual(['e'])
    await s.events.end('live')
    expect(await s.events.marks(Date.now() + 1, 'other')).toEqual([])
    await s.close()
  })
})

describe('webhook store: one deliverer per endpoint', () => {
  const endpoint = { id: 'hook', url: 'http://127.0.0.1:9/', secret: 'whsec_x', types: [], documents: [], source: 'api' as const, createdBy: null }
  const done = (cursor: number) => ({ state: { cursor, attempts: 0, nextAt: 0, firstFailedAt: null, lastError: null }, parked: [], replayed: [] })
  const shared = (): [Storage, Storage] => {
    const path = join(tempDirOutsideTest(), 'c.db')
    return [new SqliteStorage({ path, sync: 'normal' }), new SqliteStorage({ path, sync: 'normal' })]
  }
  const onPostgres = (): [Storage, Storage] => {
    const url = pgUrl()
    return [new PostgresStorage({ connectionString: url, logger: pino({ level: 'silent' }) }), new PostgresStorage({ connectionString: url, logger: pino({ level: 'silent' }) })]
  }
  it.each([['two processes on one sqlite file', shared], ['two instances on postgres', onPostgres]])('%s: while one delivers, the other is refused; then it may', async (_name, make) => {
    const [a, b] = make()
    await a.webhooks.put(endpoint, 0)
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    let entered!: () => void
    const inside = new Promise<void>((resolve) => (entered = resolve))
    const first = a.webhooks.claim('hook', Date.now(), async () => {
      entered()
      await held
      return done(5)
    })
    await inside
    expect(await b.webhooks.claim('hook', Date.now(), async () => done(9))).toBe(false)
    release()
    expect(await first).toBe(true)
    expect(await b.webhooks.claim('hook', Date.now(), async (e) => done(e.cursor + 1))).toBe(true)
    expect((await a.webhooks.get('hook'))!.cursor).toBe(6)
    await a.close()
    await b.close()
  })
})

describe('event store: postgres cursor in commit order', () => {
  it('two instances writing at once: a reader following the cursor never sees a gap it would have to skip', async () => {
    const url = pgUrl()
    const a = new PostgresStorage({ connectionString: url, logger: pino({ level: 'silent' }) })
    const b = new PostgresStorage({ connectionString: url, logger: pino({ level: 'silent' }) })
    await a.events.bounds()
    await b.events.bounds()
    let writing = true
    const writers = [a, b].map(async (s, w) => {
      for (let i = 0; i < 60; i++) await Promise.all([1, 2, 3].map((k) => s.events.write([chatEvent(`d${w}`, `${i}.${k}`)])))
    })
    const seen: number[] = []
    const reader = (async () => {
      let cursor = 0
      while (writing || cursor < (await a.events.bounds()).newest) {
        for (const e of await a.events.read(cursor, 50)) {
          seen.push(e.id)
          cursor = e.id
        }
      }
    })()
    await Promise.all(writers)
    writing = false
    await reader
    expect(seen).toHaveLength(360)
    // Contiguous: no id ever appeared after a larger one had been read.
    expect(seen).toEqual(seen.map((_, i) => i + 1))
    await a.close()
    await b.close()
  })
})

describe('event store: a dead instance’s marks on PostgreSQL', () => {
  it('another instance pays marks not renewed within the grace, once, and leaves fresh ones to their owner', async () => {
    const url = pgUrl()
    const a = new PostgresStorage({ connectionString: url, logger: pino({ level: 'silent' }) })
    const b = new PostgresStorage({ connectionString: url, logger: pino({ level: 'silent' }) })
    const coalescer = (s: Storage, instance: string) =>
      new Coalescer({ events: s.events, logger: pino({ level: 'silent' }), instance, windowMs: 60_000, stateOf: async () => ({ stateVector: '', size: 1 }), onWritten: () => {}, sendersSince: (d, since) => s.senders(d, since) })
    // A's appends commit their marks, then A dies before its window closes.
    const dead = coalescer(a, 'a')
    const mark = dead.markFor('doc')!
    await a.append('doc', update(), undefined, { mark, sender: 'ann' })
    await a.append('other', update(), undefined, { mark, sender: 'bob' })
    const survivor = coalescer(b, 'b')
    // Within the grace: left to A.
    expect(await survivor.recover(Date.now() - 60_000)).toBe(0)
    expect(await survivor.recover(Date.now() + 1)).toBe(2)
    const events = await b.events.read(0, 10)
    // Which types changed was not kept; who sent the entries since the mark was.
    expect(events.map((e) => [e.type, e.document, (e.data as { recovered?: boolean }).recovered, (e.data as { authors?: string[] }).authors]).sort()).toEqual([
      ['document.updated', 'doc', true, ['ann']],
      ['document.updated', 'other', true, ['bob']],
    ])
    expect(await b.events.marks(Date.now() + 1)).toEqual([])
    expect(await survivor.recover(Date.now() + 1)).toBe(0)
    await a.close()
    await b.close()
  })
})
