import type {
  Extension,
  afterUnloadDocumentPayload,
  beforeSyncPayload,
  onChangePayload,
  onLoadDocumentPayload,
  onStoreDocumentPayload,
} from '@hocuspocus/server'
import type { Logger } from 'pino'
import * as Y from 'yjs'
import { CloseCode, SyncStep } from '../../client/protocol.ts'
import { DocumentCloseError } from '../errors.ts'
import { parkedStructs, withoutUpdateListeners } from '../internals.ts'
import { applyStored } from '../storage/merge.ts'
import type { ColdSync } from '../ws/cold-sync.ts'
import type { Storage } from '../storage/types.ts'

export interface PersistenceConfiguration {
  storage: Storage
  logger: Logger
  /** Fold the log into a snapshot after this many appends... */
  compactAfterUpdates: number
  /** ...or this many appended bytes. */
  compactAfterBytes: number
  /** Refuse a write that would grow the stored document (snapshot + log) past this. @default no limit */
  maxDocumentBytes?: number
  /** Called with every append's outcome (metrics, readiness). */
  onAppend?: (result: { documentName: string; bytes: number; seconds: number; error?: unknown }) => void
  /** Send stored documents to clients that hold nothing while they load (server/ws/cold-sync.ts). */
  coldSync?: ColdSync
  /** Called with every compaction's outcome (metrics). */
  onCompact?: (result: { documentName: string; folded: number; error?: unknown }) => void
}

/** Marks a server-side transaction whose update was stored before it was applied. */
export const DURABLE_CONTEXT = Object.freeze({ durable: true })

/** The empty Yjs update (no structs, no deletions): nothing to store. */
function isEmptyUpdate(update: Uint8Array): boolean {
  return update.byteLength === 2 && update[0] === 0 && update[1] === 0
}


/**
 * Durable persistence: the update log is written before anything is applied.
 *
 * Hocuspocus awaits `beforeSync` before it applies a client's update and sends
 * the `SyncStatus` ack, so appending there means an acknowledged update is
 * always in storage. Frames were fully decoded by the frame guard before they
 * got here, so nothing malformed is ever appended. Server-side changes that did
 * not come through here (other extensions' transactions) are appended from
 * `onChange` as a safety net; the log is folded into a snapshot by size and
 * when a document unloads.
 */
export class Persistence implements Extension {
  readonly extensionName = 'persistence'
  /** After authentication and guards (default priority 100), which may refuse an update first. */
  readonly priority = 10

  private readonly config: PersistenceConfiguration
  /** Per loaded document: log entries and bytes since the snapshot, and the snapshot's bytes. */
  private readonly logSizes = new Map<string, { count: number; bytes: number; snapshotBytes: number }>()
  private readonly compactions = new Map<string, Promise<void>>()
  /** Size of the last append that failed, until a write of that size works again. */
  private failedBytes: number | undefined

  constructor(config: PersistenceConfiguration) {
    this.config = config
  }

  async onLoadDocument({ documentName, document, socketId }: onLoadDocumentPayload): Promise<void> {
    const stored = await this.config.storage.load(documentName)
    // Before the (slow) apply: the client that asked for the document may get the stored bytes now.
    const empty = document.store.clients.size === 0 && parkedStructs(document) === null
    const served = this.config.coldSync?.offer(socketId, documentName, stored, empty)
    await served?.flushed
    // Hocuspocus's Document listens to `update` from its constructor, so applying the stored state
    // would make Yjs encode the whole document once more as an update event (~14 % of a cold load's
    // CPU in profiles) that nobody needs: no connection is attached while it loads, and loading is not a change.
    const refused = withoutUpdateListeners(document, () => applyStored(document, stored))
    served?.release(Y.encodeStateVector(document))
    if (refused > 0) this.config.logger.error({ documentName, refused }, 'stored updates Yjs could not apply were skipped')
    this.logSizes.set(documentName, {
      count: stored.updates.length,
      bytes: stored.updates.reduce((sum, u) => sum + u.byteLength, 0),
      snapshotBytes: stored.snapshot?.byteLength ?? 0,
    })
    this.maybeCompact(documentName)
  }

  async beforeSync({ documentName, type, payload, connection }: beforeSyncPayload): Promise<void> {
    if (type === SyncStep.Step1 || connection.readOnly || isEmptyUpdate(payload)) return
    const size = this.logSizes.get(documentName)
    const limit = this.config.maxDocumentBytes
    if (size && limit !== undefined && size.snapshotBytes + size.bytes + payload.byteLength > limit) {
      this.config.logger.warn({ documentName, limit, bytes: size.snapshotBytes + size.bytes }, 'refused a write past the document size limit')
      throw new DocumentCloseError(CloseCode.DocumentTooLarge)
    }
    try {
      await this.append(documentName, payload)
    } catch (error) {
      // Close the socket, not just the document: the provider then reconnects
      // with backoff and sends the unsaved update again once storage is back.
      const { code, reason } = CloseCode.StorageUnavailable
      connection.webSocket.close(code, reason)
      throw error
    }
  }

  async onChange({ documentName, update, transactionOrigin }: onChangePayload): Promise<void> {
    const origin = transactionOrigin as { source?: string; context?: unknown } | undefined
    if (origin?.source !== 'local' || origin.context === DURABLE_CONTEXT) return
    await this.append(documentName, update).catch((error: unknown) => {
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

  /** Durably append, then account for it; throws a per-document close on failure. */
  async append(documentName: string, update: Uint8Array): Promise<void> {
    const started = performance.now()
    try {
      await this.config.storage.append(documentName, update)
    } catch (error) {
      this.failedBytes = Math.max(this.failedBytes ?? 0, update.byteLength)
      this.config.onAppend?.({ documentName, bytes: update.byteLength, seconds: (performance.now() - started) / 1000, error })
      this.config.logger.error({ err: error, documentName }, 'append failed; the update was neither applied nor acknowledged')
      throw new DocumentCloseError(CloseCode.StorageUnavailable, error)
    }
    this.failedBytes = undefined
    this.config.onAppend?.({ documentName, bytes: update.byteLength, seconds: (performance.now() - started) / 1000 })
    const size = this.logSizes.get(documentName)
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
