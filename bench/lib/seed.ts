/**
 * Put a document into a target's storage before the target starts, the way
 * that target stores it, so its first sync is a real cold load.
 */
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { LeveldbPersistence } from 'y-leveldb'
import { SqliteStorage } from '../../server/storage/sqlite.ts'
import type { TargetSpec } from './targets.ts'

/** Seed `update` as `name` in `dir`; returns the environment the target needs to find it. */
export async function seedDocument(spec: TargetSpec, dir: string, name: string, update: Uint8Array): Promise<Record<string, string>> {
  switch (spec.storage) {
    case 'collab-sqlite': {
      // Our own storage: one snapshot row (as after compaction), DB_PATH from the target's env.
      const storage = new SqliteStorage({ path: join(dir, 'collab.db'), sync: 'normal' })
      await storage.append(name, update)
      await storage.compact(name)
      await storage.close()
      return {}
    }
    case 'hocuspocus-sqlite': {
      const path = join(dir, 'hocuspocus.db')
      const db = new Database(path)
      db.exec('CREATE TABLE IF NOT EXISTS documents (name TEXT PRIMARY KEY, data BLOB)')
      db.prepare('INSERT OR REPLACE INTO documents (name, data) VALUES (?, ?)').run(name, Buffer.from(update))
      db.close()
      return { BENCH_SQLITE_PATH: path }
    }
    case 'leveldb': {
      const location = join(dir, 'leveldb')
      const ldb = new LeveldbPersistence(location)
      await ldb.storeUpdate(name, update)
      await ldb.destroy()
      return { YPERSISTENCE: location }
    }
    default:
      throw new Error(`${spec.name} keeps no documents between runs; cold-load does not apply`)
  }
}
