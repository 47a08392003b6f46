/**
 * Put documents into a target's storage before the target starts, the way
 * that target stores them, so its first sync is a real cold load.
 */
import { join } from 'node:path'
import { schema as hocuspocusSqliteSchema, upsertQuery } from '@hocuspocus/extension-sqlite'
import Database from 'better-sqlite3'
import { LeveldbPersistence } from 'y-leveldb'
import { SqliteStorage } from '../../server/storage/sqlite.ts'
import type { TargetSpec } from './targets.ts'

/** Seed `update` as `name` in `dir`; returns the environment the target needs to find it. */
export function seedDocument(spec: TargetSpec, dir: string, name: string, update: Uint8Array): Promise<Record<string, string>> {
  return seedDocuments(spec, dir, [[name, update]])
}

/** Seed every `[name, update]` in `dir` (one storage opened once); returns the environment the target needs. */
export async function seedDocuments(spec: TargetSpec, dir: string, documents: Array<[string, Uint8Array]>): Promise<Record<string, string>> {
  switch (spec.storage) {
    case 'collab-sqlite': {
      // Our own storage: one snapshot row per document (as after compaction), DB_PATH from the target's env.
      const storage = new SqliteStorage({ path: join(dir, 'collab.db'), sync: 'normal' })
      for (const [name, update] of documents) {
        await storage.append(name, update)
        await storage.compact(name)
      }
      await storage.close()
      return {}
    }
    case 'hocuspocus-sqlite': {
      // @hocuspocus/extension-sqlite's own table and upsert: one row per document, the whole state.
      const path = join(dir, 'hocuspocus.db')
      const db = new Database(path)
      db.exec(hocuspocusSqliteSchema)
      const upsert = db.prepare(upsertQuery)
      db.transaction(() => {
        for (const [name, update] of documents) upsert.run({ name, data: Buffer.from(update) })
      })()
      db.close()
      return { BENCH_SQLITE_PATH: path }
    }
    case 'leveldb': {
      const location = join(dir, 'leveldb')
      const ldb = new LeveldbPersistence(location)
      for (const [name, update] of documents) await ldb.storeUpdate(name, update)
      await ldb.destroy()
      return { YPERSISTENCE: location }
    }
    default:
      throw new Error(`${spec.name} keeps no documents between runs; this scenario does not apply`)
  }
}
