import { spawnSync } from 'node:child_process'
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { CloseCode } from '../../client/protocol.ts'
import { EXIT_STORAGE } from '../../server/exit-codes.ts'
import { Services } from '../helpers/cluster.ts'
import { AckedWriter, FAST_WRITERS, expectNoneMissing, readEdits } from '../helpers/kill9.ts'
import { spawnMain, spawnServer } from '../helpers/process.ts'
import { tempDir } from '../helpers/server.ts'

const services = new Services()
const readyz = async (http: string) => (await fetch(`${http}/readyz`)).status
const asRoot = process.getuid?.() === 0
const NOBODY = 65534
/**
 * Whether an unprivileged user can run this checkout's Node at all: not when
 * the checkout lies inside a directory only root may enter (`mktemp -d` makes
 * one), and then the check below cannot be made here.
 */
const nobodyCanRunNode = asRoot && spawnSync(process.execPath, ['-e', ''], { uid: NOBODY, gid: NOBODY }).status === 0

/** Start the server and expect it to stop before listening: its exit code and everything it printed. */
async function failedStart(env: Record<string, string>, options: { uid?: number; gid?: number } = {}): Promise<{ code: number | string; output: string }> {
  const main = await spawnMain(env, options)
  return { code: await main.exited, output: main.output() }
}

/** Start-up refused: the documented exit code, one plain line naming DB_PATH, no stack trace. */
function expectPlainRefusal({ code, output }: { code: number | string; output: string }, words: RegExp): void {
  expect(code).toBe(EXIT_STORAGE)
  expect(output).toMatch(/DB_PATH/)
  expect(output).toMatch(words)
  expect(output).not.toMatch(/^\s+at /m)
}

describe('SQLite faults', () => {
  it('locked by another process past the busy timeout: no ack, /readyz 503, 4503 to the writer; recovery once the lock goes', async () => {
    const dbPath = join(tempDir(), 'collab.db')
    const server = await spawnServer({ DB_PATH: dbPath })
    const writer = new AckedWriter(server.url, 'locked', { value: 0 })
    onTestFinished(() => writer.destroy())
    writer.edit()
    await writer.settled()
    const closes: number[] = []
    writer.provider.configuration.websocketProvider.on('close', ({ event }: { event: { code: number } }) => closes.push(event.code))

    // Another process (this one) takes the write lock and keeps it.
    const other = new Database(dbPath)
    onTestFinished(() => {
      other.close()
    })
    other.exec('BEGIN IMMEDIATE')
    writer.edit()
    await vi.waitFor(() => expect(closes).toContain(CloseCode.StorageUnavailable.code), { timeout: 30_000 })
    expect(await readyz(server.http)).toBe(503)
    expect(writer.acknowledged).toEqual([0])

    other.exec('ROLLBACK')
    await vi.waitFor(async () => expect(await readyz(server.http)).toBe(200), { timeout: 30_000 })
    await writer.settled(30_000)
    expect(await readEdits(server.url, 'locked')).toEqual([0, 1])
  }, 90_000)

  it('a file that is not a database: a plain refusal at start, the file untouched', async () => {
    const dbPath = join(tempDir(), 'collab.db')
    writeFileSync(dbPath, 'these are my notes, not a database\n'.repeat(200))
    expectPlainRefusal(await failedStart({ DB_PATH: dbPath }), /not a SQLite database/)
  })

  it("another application's database, or our tables with another shape: a plain refusal at start", async () => {
    const foreign = join(tempDir(), 'foreign.db')
    const app = new Database(foreign)
    app.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)')
    app.close()
    expectPlainRefusal(await failedStart({ DB_PATH: foreign }), /another schema|another application/)
    expect(new Database(foreign).prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'updates'").get()).toEqual({ n: 0 })

    const reshaped = join(tempDir(), 'reshaped.db')
    const old = new Database(reshaped)
    old.exec('CREATE TABLE updates (id INTEGER PRIMARY KEY, payload TEXT)')
    old.close()
    expectPlainRefusal(await failedStart({ DB_PATH: reshaped }), /another schema/)

    // Ours with a table of another tool beside it (Litestream adds _litestream_seq): still ours.
    const ours = join(tempDir(), 'ours.db')
    const first = await spawnServer({ DB_PATH: ours })
    first.proc.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    const tool = new Database(ours)
    tool.exec('CREATE TABLE _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER)')
    tool.close()
    const again = await spawnServer({ DB_PATH: ours })
    again.proc.kill('SIGTERM')
    expect(await again.exited).toBe(0)
  })

  it.runIf(nobodyCanRunNode)('a read-only directory or file (the server as an unprivileged user): a plain refusal at start', async () => {
    const lockedDir = join(tempDir(), 'not-writable')
    mkdirSync(lockedDir, { mode: 0o755 }) // owned by root: read-only for nobody
    expectPlainRefusal(await failedStart({ DB_PATH: join(lockedDir, 'collab.db') }, { uid: NOBODY, gid: NOBODY }), /read-only|not writable/)

    const dir = join(tempDir(), 'read-only-file')
    mkdirSync(dir)
    const dbPath = join(dir, 'collab.db')
    const prior = await spawnServer({ DB_PATH: dbPath })
    prior.proc.kill('SIGTERM')
    expect(await prior.exited).toBe(0)
    chownSync(dir, NOBODY, NOBODY)
    chmodSync(dbPath, 0o444)
    expectPlainRefusal(await failedStart({ DB_PATH: dbPath }, { uid: NOBODY, gid: NOBODY }), /read-only/)
  })
})

describe('PostgreSQL faults', () => {
  it('connections dropped in the middle of appends: nothing acknowledged is lost, and the server recovers by itself', async () => {
    const url = await services.database()
    const server = await spawnServer({ ...FAST_WRITERS, DATABASE_URL: url })
    const writer = new AckedWriter(server.url, 'dropped', { value: 0 })
    onTestFinished(() => writer.destroy())
    await writer.settled()
    const admin = new pg.Client({ connectionString: url })
    await admin.connect()
    onTestFinished(() => admin.end())
    writer.start(1)
    for (let round = 0; round < 5; round++) {
      await writer.acknowledgedAtLeast(writer.acknowledged.length + 20)
      // Every connection of the server's pool, whatever it is doing (a COMMIT among them, often).
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')
    }
    await writer.acknowledgedAtLeast(writer.acknowledged.length + 20)
    writer.stop()
    await writer.settled(30_000)
    expect(await readyz(server.http)).toBe(200)
    expectNoneMissing(writer.acknowledged, await readEdits(server.url, 'dropped'), 'after dropped connections')
  }, 90_000)
})
