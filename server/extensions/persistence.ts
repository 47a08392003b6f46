import type {
  Extension,
  afterLoadDocumentPayload,
  afterUnloadDocumentPayload,
  onChangePayload,
  onLoadDocumentPayload,
  onStoreDocumentPayload,
} from '@hocuspocus/server'
import type { Logger } from 'pino'
import * as Y from 'yjs'
import { CloseCode } from '../../client/protocol.ts'
import { originKind } from '../origin.ts'
import { DocumentCloseError } from '../errors.ts'
import { parkedStructs, withoutUpdateListeners } from '../internals.ts'
import { applyStored } from '../storage/merge.ts'
import type { ColdSync } from '../ws/cold-sync.ts'
import type { Deletions } from '../storage/deletions.ts'
import type { LoadQueue } from '../storage/load-queue.ts'
import type { AppendExtras, ClientClaim, DirtyMark, NewEvent, Storage } from '../storage/types.ts'
import { ownersOf } from '../pipeline/owners.ts'

/** What an append changes, for the change feed (docs/events.md). */
export interface Change {
  /** The token's `sub` of the writer, or `server`. */
  readonly actor: string
  /** Events born of this change (chat): they commit in the append's transaction. */
  readonly events?: readonly NewEvent[]
  /** The root types it changes, when asked (computed from the checks' effects). */
  readonly types?: () => readonly string[]
}

/**
 * The change feed's side of every append (server/events/coalescer.ts): which
 * dirty mark it must carry (none when the document is marked already in this
 * cycle: the hot path writes nothing more), and what committed.
 */
export interface FeedHook {
  markFor(documentName: string): DirtyMark | undefined
  committed(documentName: string, mark: DirtyMark | undefined, change: Change, bytes: number): void
}

export interface PersistenceConfiguration {
  storage: Storage
  logger: Logger
  /** Fold the log into a snapshot after this many appends... */
  compactAfterUpdates: number
  /** ...or this many appended bytes. */
  compactAfterBytes: number
  /** Called with every append's outcome (metrics, readiness). */
  onAppend?: (result: { documentName: string; bytes: number; seconds: number; error?: unknown }) => void
  /** Send stored documents to clients that hold nothing while they load (server/ws/cold-sync.ts). */
  coldSync?: ColdSync
  /** Called with every compaction's outcome (metrics). */
  onCompact?: (result: { documentName: string; folded: number; error?: unknown }) => void
  /** Documents being deleted: a load of one waits until its delete has committed. */
  deletions?: Deletions
  /** The change feed: marks and events commit with each append. */
  feed?: FeedHook
  /** Admission control: loads (storage read and build) wait here for a slot. */
  loads?: LoadQueue
  /** Called with every load's time, from its slot to the built document, in seconds (metrics). */
  onLoad?: (seconds: number) => void
}

const SERVER_CHANGE: Change = { actor: 'server' }

/**
 * Durable persistence: loading, the update log, compaction.
 *
 * The write pipeline (server/pipeline) appends every client and server-side
 * write here (`append`, awaited until committed) before it is applied or
 * acknowledged. Server-side changes that did not come through the pipeline
 * (other extensions' transactions) are appended from `onChange` as a safety
 * net; the log is folded into a snapshot by size and when a document unloads.
 */
export class Persistence implements Extension {
  readonly extensionName = 'persistence'
  readonly priority = 10

  private readonly config: PersistenceConfiguration
  /** Per loaded document: log entries and bytes since the snapshot, and the snapshot's bytes. */
  private readonly logSizes = new Map<string, { count: number; bytes: number; snapshotBytes: number }>()
  private readonly compactions = new Map<string, Promise<void>>()
  /** Documents whose first append (which says `document.created`) is under way. */
  private readonly creating = new Set<string>()
  /** Size of the last append that failed, until a write of that size works again. */
  private failedBytes: number | undefined

  constructor(config: PersistenceConfiguration) {
    this.config = config
  }

  async onLoadDocument({ documentName, document }: onLoadDocumentPayload): Promise<void> {
    try {
      await this.config.deletions?.settled(documentName)
      const loads = this.config.loads
      await (loads ? loads.run(() => this.load(documentName, document)) : this.load(documentName, document))
    } catch (error) {
      // Sockets waiting for this load hand their frames on as they were (server/ws/cold-sync.ts).
      this.config.coldSync?.failed(documentName)
      throw error
    }
  }

  /** Loaded: sockets waiting with nothing are answered from the shared state (server/ws/cold-sync.ts). */
  async afterLoadDocument({ documentName, document }: afterLoadDocumentPayload): Promise<void> {
    this.config.coldSync?.ready(documentName, document)
  }

  private async load(documentName: string, document: Y.Doc): Promise<void> {
    const started = performance.now()
    const stored = await this.config.storage.load(documentName)
    // Before the (slow) apply: the clients that asked for the document with nothing may get the stored bytes now.
    const empty = document.store.clients.size === 0 && parkedStructs(document) === null
    const served = this.config.coldSync?.offer(documentName, stored, empty)
    await served?.flushed
    // Hocuspocus's Document listens to `update` from its constructor, so applying the stored state
    // would make Yjs encode the whole document once more as an update event (~14 % of a cold load's
    // CPU in profiles) that nobody needs: no connection is attached while it loads, and loading is not a change.
    const refused = withoutUpdateListeners(document, () => applyStored(document, stored))
    // Who owns which client id, kept with the document (the ownership check reads it).
    ownersOf(document).record(stored.owners)
    served?.built(document, Y.encodeStateVector(document), parkedStructs(document) === null)
    this.config.onLoad?.((performance.now() - started) / 1000)
    if (refused > 0) this.config.logger.error({ documentName, refused }, 'stored updates Yjs could not apply were skipped')
    this.logSizes.set(documentName, {
      count: stored.updates.length,
      bytes: stored.updates.reduce((sum, u) => sum + u.byteLength, 0),
      snapshotBytes: stored.snapshot?.byteLength ?? 0,
    })
    this.maybeCompact(documentName)
  }

  /** Server-side changes that did not come through the write pipeline (other extensions' transactions): stored here, as a safety net. */
  async onChange({ documentName, update, transactionOrigin }: onChangePayload): Promise<void> {
    if (originKind(transactionOrigin) !== 'local') return
    await this.append(documentName, update, undefined, SERVER_CHANGE).catch((error: unknown) => {
      this.config.logger.error({ err: error, documentName }, 'could not store a server-side change')
    })
  }

  /** Bytes stored for a loaded document (snapshot + log), or undefined when it is not loaded. */
  storedBytes(documentName: string): number | undefined {
    const size = this.logSizes.get(documentName)
    return size ? size.snapshotBytes + size.bytes : undefined
  }

  async onStoreDocument({ documentName }: onStoreDocumentPayload): Promise<void> {
    this.maybeCompact(documentName)
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    const size = this.logSizes.get(documentName)
    this.logSizes.delete(documentName)
    if (size && size.count > 0) await this.compact(documentName)
  }

  /**
   * Durably append (with client-id claims: Storage.append), then account for
   * it; throws a per-document close on failure. Resolves with the winners of
   * lost claims (nothing was stored then).
   */
  async append(documentName: string, update: Uint8Array, claims?: readonly ClientClaim[], change: Change = SERVER_CHANGE): Promise<ClientClaim[] | void> {
    const started = performance.now()
    let lost: ClientClaim[] | void
    const feed = this.config.feed
    const mark = feed?.markFor(documentName)
    const size = this.logSizes.get(documentName)
    // The first change of a document nothing was stored for: it is created by this append (and says so in it).
    const creates = Boolean(feed && size && size.count === 0 && size.snapshotBytes === 0 && !this.creating.has(documentName))
    // One append at a time carries it (others may be in the same batch); if it fails, the next one does.
    if (creates) this.creating.add(documentName)
    const created = creates ? [{ type: 'document.created', document: documentName, actor: change.actor, data: {} }] : undefined
    // No feed (EVENTS=off): nothing of the change's events is stored.
    const events = !feed ? undefined : created ? [...created, ...(change.events ?? [])] : change.events
    const extra: AppendExtras = { sender: change.actor, mark, events }
    try {
      lost = await this.config.storage.append(documentName, update, claims, extra)
    } catch (error) {
      if (creates) this.creating.delete(documentName)
      this.failedBytes = Math.max(this.failedBytes ?? 0, update.byteLength)
      this.config.onAppend?.({ documentName, bytes: update.byteLength, seconds: (performance.now() - started) / 1000, error })
      this.config.logger.error({ err: error, documentName }, 'append failed; the update was neither applied nor acknowledged')
      throw new DocumentCloseError(CloseCode.StorageUnavailable, error)
    }
    this.failedBytes = undefined
    if (creates) this.creating.delete(documentName)
    if (lost) return lost
    feed?.committed(documentName, mark, change, update.byteLength)
    this.config.onAppend?.({ documentName, bytes: update.byteLength, seconds: (performance.now() - started) / 1000 })
    if (size) {
      size.count += 1
      size.bytes += update.byteLength
    }
  }

  private maybeCompact(documentName: string): void {
    const size = this.logSizes.get(documentName)
    if (!size) return
    if (size.count >= this.config.compactAfterUpdates || size.bytes >= this.config.compactAfterBytes) {
      void this.compact(documentName)
    }
  }

  /** Fold the log into a snapshot; one compaction per document at a time. Never throws. */
  compact(documentName: string): Promise<void> {
    const running = this.compactions.get(documentName)
    if (running) return running
    const run = (async () => {
      try {
        const folded = await this.config.storage.compact(documentName)
        const size = this.logSizes.get(documentName)
        if (size && folded > 0) {
          // The new snapshot holds what the old one and the folded log held, garbage-collected.
          const stored = await this.config.storage.load(documentName)
          Object.assign(size, {
            count: stored.updates.length,
            bytes: stored.updates.reduce((sum, u) => sum + u.byteLength, 0),
            snapshotBytes: stored.snapshot?.byteLength ?? 0,
          })
        }
        this.config.onCompact?.({ documentName, folded })
        this.config.logger.debug({ documentName, folded }, 'compacted')
      } catch (error) {
        this.config.onCompact?.({ documentName, folded: 0, error })
        this.config.logger.error({ err: error, documentName }, 'compaction failed; the log is kept as it was')
      } finally {
        this.compactions.delete(documentName)
      }
    })()
    this.compactions.set(documentName, run)
    return run
  }

  /**
   * Readiness: can storage take a write as large as the last one that failed?
   * (A tiny probe could still fit in a nearly full database.)
   */
  async checkWritable(): Promise<void> {
    await this.config.storage.checkWritable(this.failedBytes ?? 1)
    this.failedBytes = undefined
  }

  /** Wait for compactions under way (shutdown). */
  async settle(): Promise<void> {
    await Promise.all(this.compactions.values())
  }
}
