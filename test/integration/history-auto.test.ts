import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { parseConfig, ConfigError } from '../../server/config.ts'
import { SqliteStorage } from '../../server/storage/sqlite.ts'
import type { VersionInfo } from '../../server/storage/types.ts'
import { provider, settled } from '../helpers/clients.ts'
import { call, docPath, httpBase } from '../helpers/rest.ts'
import { startServer, tempDir } from '../helpers/server.ts'

const DOC = 'diary'

describe('automatic versions and retention', () => {
  it('a document being edited gets an automatic version every VERSION_EVERY_MS; only VERSION_KEEP are kept; compaction leaves them alone', async () => {
    const server = await startServer({ versionEveryMs: 150, versionKeep: 2 })
    const p = provider(server.url, DOC)
    await settled(p)
    const text = p.document.getText('codemirror')
    const seen: VersionInfo[] = []
    for (let round = 0; round < 4; round++) {
      text.insert(text.length, `entry ${round}. `)
      await settled(p)
      // The edit starts the clock; a version of the state at that moment follows.
      await vi.waitFor(async () => {
        const latest = (await server.storage.listVersions(DOC))[0]
        expect(latest?.kind).toBe('auto')
        expect(latest!.id).toBeGreaterThan(seen.at(-1)?.id ?? 0)
        seen.push(latest!)
      })
      const stored = await server.storage.getVersion(DOC, seen.at(-1)!.id)
      expect(stored?.data.byteLength).toBeGreaterThan(0)
    }
    // Compaction folds the log; versions are untouched by it, and only the newest 2 automatic ones remain.
    await server.persistence.compact(DOC)
    expect((await server.storage.logSize(DOC)).count).toBe(0)
    const kept = await server.storage.listVersions(DOC)
    expect(kept.map((v) => v.id)).toEqual([seen[3]!.id, seen[2]!.id])
    const latest = await call(httpBase(server.url), 'GET', docPath(DOC, `/versions/${seen[3]!.id}`))
    expect((latest.json.types as Record<string, string>).codemirror).toBe('entry 0. entry 1. entry 2. entry 3. ')
  })

  it('named and pre-restore versions are kept apart: VERSION_KEEP_NAMED of them, whatever the automatic ones do', async () => {
    const server = await startServer({ versionEveryMs: 100, versionKeep: 1, versionKeepNamed: 2 })
    const base = httpBase(server.url)
    const p = provider(server.url, DOC)
    await settled(p)
    const named: number[] = []
    for (let i = 0; i < 3; i++) {
      const r = await call(base, 'POST', docPath(DOC, '/versions'), { body: { label: `n${i}` } })
      named.push((r.json as unknown as VersionInfo).id)
      p.document.getText('codemirror').insert(0, `${i}`)
      await settled(p)
      await vi.waitFor(async () => expect((await server.storage.listVersions(DOC)).some((v) => v.kind === 'auto' && v.id > named.at(-1)!)).toBe(true))
    }
    const versions = await server.storage.listVersions(DOC)
    expect(versions.filter((v) => v.kind === 'named').map((v) => v.label)).toEqual(['n2', 'n1'])
    expect(versions.filter((v) => v.kind === 'auto')).toHaveLength(1)
    expect(versions.find((v) => v.kind === 'named' && v.label === 'n1')!.id).toBe(named[1])
  })

  it('edits not yet in a version get one when the server stops', async () => {
    const dbPath = join(tempDir(), 'collab.db')
    const server = await startServer({ dbPath, versionEveryMs: 3_600_000 })
    const p = provider(server.url, DOC)
    await settled(p)
    p.document.getText('codemirror').insert(0, 'last words')
    await settled(p)
    expect(await server.storage.listVersions(DOC)).toEqual([])
    p.destroy()
    await server.close()
    const storage = new SqliteStorage({ path: dbPath, sync: 'normal' })
    const versions = await storage.listVersions(DOC)
    expect(versions.map((v) => v.kind)).toEqual(['auto'])
    await storage.close()
  })

  it('VERSION_EVERY_MS, VERSION_KEEP and VERSION_KEEP_NAMED are validated (exit 2 on bad values)', () => {
    expect(parseConfig({})).toMatchObject({ versionEveryMs: 600_000, versionKeep: 50, versionKeepNamed: 1000 })
    expect(parseConfig({ VERSION_EVERY_MS: '0', VERSION_KEEP: '5', VERSION_KEEP_NAMED: '0' })).toMatchObject({ versionEveryMs: 0, versionKeep: 5, versionKeepNamed: 0 })
    for (const [name, value] of [['VERSION_EVERY_MS', 'soon'], ['VERSION_EVERY_MS', '-1'], ['VERSION_KEEP', '0'], ['VERSION_KEEP_NAMED', '1.5']]) {
      expect(() => parseConfig({ [name!]: value })).toThrow(ConfigError)
      try {
        parseConfig({ [name!]: value })
      } catch (error) {
        expect((error as ConfigError).problems[0]).toContain(name)
      }
    }
  })
})
