import { foldState } from './merge.ts'
import type { DocumentInfo, Storage, StoredDocument } from './types.ts'

interface Entry {
  snapshot: Uint8Array | null
  updates: Uint8Array[]
  updatedAt: number
}

/**
 * Keeps everything in process memory: for tests and for the bench's
 * "persistence off" target. Nothing survives a restart.
 */
export class MemoryStorage implements Storage {
  private readonly docs = new Map<string, Entry>()

  private entry(name: string): Entry {
    let e = this.docs.get(name)
    if (!e) {
      e = { snapshot: null, updates: [], updatedAt: Date.now() }
      this.docs.set(name, e)
    }
    return e
  }

  async load(name: string): Promise<StoredDocument> {
    const e = this.docs.get(name)
    return { snapshot: e?.snapshot ?? null, updates: e ? [...e.updates] : [] }
  }

  async append(name: string, update: Uint8Array): Promise<void> {
    const e = this.entry(name)
    e.updates.push(update)
    e.updatedAt = Date.now()
  }

  async compact(name: string): Promise<number> {
    const e = this.docs.get(name)
    if (!e || e.updates.length === 0) return 0
    const n = e.updates.length
    e.snapshot = foldState({ snapshot: e.snapshot, updates: e.updates })
    e.updates = []
    e.updatedAt = Date.now()
    return n
  }

  async logSize(name: string): Promise<{ count: number; bytes: number }> {
    const updates = this.docs.get(name)?.updates ?? []
    return { count: updates.length, bytes: updates.reduce((s, u) => s + u.byteLength, 0) }
  }

  async list(options: { after?: string; limit?: number } = {}): Promise<DocumentInfo[]> {
    const limit = Math.max(1, Math.min(options.limit ?? 100, 1000))
    return [...this.docs.entries()]
      .filter(([name]) => name > (options.after ?? ''))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, limit)
      .map(([name, e]) => ({
        name,
        bytes: (e.snapshot?.byteLength ?? 0) + e.updates.reduce((s, u) => s + u.byteLength, 0),
        updatedAt: e.updatedAt,
      }))
  }

  async delete(name: string): Promise<void> {
    this.docs.delete(name)
  }

  async checkWritable(_bytes?: number): Promise<void> {}

  async close(): Promise<void> {}
}
