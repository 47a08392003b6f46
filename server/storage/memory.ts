import { foldState } from './merge.ts'
import { MemoryEvents } from './memory-events.ts'
import { MemoryWebhooks } from './memory-webhooks.ts'
import type { Announce, AppendExtras, ClientClaim, DocumentInfo, NewEvent, NewVersion, Storage, StoredDocument, VersionInfo, VersionKind } from './types.ts'

interface Entry {
  snapshot: Uint8Array | null
  updates: Uint8Array[]
  /** Per log entry: who sent it, and when (ms). */
  sent: Array<{ sender: string | null; at: number }>
  updatedAt: number
}

/**
 * Keeps everything in process memory: for tests and for the bench's
 * "persistence off" target. Nothing survives a restart.
 */
export class MemoryStorage implements Storage {
  private readonly docs = new Map<string, Entry>()
  /** Per document, oldest first. */
  private readonly versions = new Map<string, Array<VersionInfo & { data: Uint8Array }>>()
  private nextVersionId = 1
  /** Per document: client id → owner. */
  private readonly ownerMaps = new Map<string, Map<number, string>>()
  readonly events = new MemoryEvents()
  readonly webhooks = new MemoryWebhooks()

  private entry(name: string): Entry {
    let e = this.docs.get(name)
    if (!e) {
      e = { snapshot: null, updates: [], sent: [], updatedAt: Date.now() }
      this.docs.set(name, e)
    }
    return e
  }

  async load(name: string): Promise<StoredDocument> {
    const e = this.docs.get(name)
    return { snapshot: e?.snapshot ?? null, updates: e ? [...e.updates] : [], owners: await this.owners(name) }
  }

  async append(name: string, update: Uint8Array, claims: readonly ClientClaim[] = [], feed?: AppendExtras): Promise<ClientClaim[] | void> {
    const events = feed?.events?.length ? this.events.prepare(feed.events) : []
    const owners = this.ownerMaps.get(name) ?? new Map<number, string>()
    const lost = claims.filter((c) => (owners.get(c.client) ?? c.owner) !== c.owner).map((c) => ({ client: c.client, owner: owners.get(c.client)! }))
    if (lost.length > 0) return lost
    for (const c of claims) owners.set(c.client, c.owner)
    if (claims.length > 0) this.ownerMaps.set(name, owners)
    const e = this.entry(name)
    e.updates.push(update)
    e.updatedAt = Date.now()
    e.sent.push({ sender: feed?.sender ?? null, at: e.updatedAt })
    if (feed?.mark) this.events.mark(name, feed.mark, e.updatedAt)
    if (events.length > 0) this.events.insertPrepared(events, e.updatedAt)
  }

  async senders(name: string, since: number): Promise<string[]> {
    const who = (this.docs.get(name)?.sent ?? []).filter((s) => s.at >= since && s.sender !== null).map((s) => s.sender!)
    return [...new Set(who)].sort()
  }

  async owners(name: string): Promise<ClientClaim[]> {
    return [...(this.ownerMaps.get(name) ?? [])].map(([client, owner]) => ({ client, owner }))
  }

  async compact(name: string): Promise<number> {
    const e = this.docs.get(name)
    if (!e || e.updates.length === 0) return 0
    const n = e.updates.length
    e.snapshot = foldState({ snapshot: e.snapshot, updates: e.updates })
    e.updates = []
    e.sent = []
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

  async delete(name: string, events: readonly NewEvent[] = []): Promise<void> {
    const checked = this.events.prepare(events)
    this.docs.delete(name)
    this.versions.delete(name)
    this.ownerMaps.delete(name)
    this.events.insertPrepared(checked)
  }

  async saveVersion(name: string, version: NewVersion, announce?: Announce): Promise<VersionInfo> {
    const { data, ...rest } = version
    const info: VersionInfo = { id: this.nextVersionId, ...rest, createdAt: Date.now(), bytes: data.byteLength }
    // As in one transaction: events that cannot be stored take the version with them.
    const checked = this.events.prepare(announce?.(info) ?? [])
    this.nextVersionId += 1
    this.events.insertPrepared(checked, info.createdAt)
    let list = this.versions.get(name)
    if (!list) this.versions.set(name, (list = []))
    list.push({ ...info, data: data.slice() })
    return info
  }

  async saveVersionUnlessCovered(name: string, version: NewVersion, covered: (newest: Uint8Array) => boolean, announce?: Announce): Promise<VersionInfo | null> {
    const newest = (this.versions.get(name) ?? []).findLast((v) => v.kind === version.kind)
    if (newest && covered(newest.data)) return null
    return this.saveVersion(name, version, announce)
  }

  async listVersions(name: string, options: { before?: number; limit?: number } = {}): Promise<VersionInfo[]> {
    const limit = Math.max(1, Math.min(options.limit ?? 100, 1000))
    return (this.versions.get(name) ?? [])
      .filter((v) => options.before === undefined || v.id < options.before)
      .reverse()
      .slice(0, limit)
      .map(({ data: _data, ...info }) => info)
  }

  async getVersion(name: string, id: number): Promise<(VersionInfo & { data: Uint8Array }) | null> {
    const v = this.versions.get(name)?.find((x) => x.id === id)
    return v ? { ...v, data: v.data.slice() } : null
  }

  async pruneVersions(name: string, kinds: readonly VersionKind[], keep: number): Promise<number> {
    const list = this.versions.get(name) ?? []
    const ofKinds = list.filter((v) => kinds.includes(v.kind))
    const drop = new Set(ofKinds.slice(0, Math.max(0, ofKinds.length - keep)).map((v) => v.id))
    this.versions.set(name, list.filter((v) => !drop.has(v.id)))
    return drop.size
  }

  async checkWritable(_bytes?: number): Promise<void> {}

  async close(): Promise<void> {}
}
