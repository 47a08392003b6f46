import type { Logger } from 'pino'
import { ANONYMOUS } from '../pipeline/pipeline.ts'
import type { Announce, NewEvent, Storage, VersionInfo, VersionKind } from '../storage/types.ts'
import { covers } from './covers.ts'

export interface VersionHistoryConfiguration {
  storage: Storage
  logger: Logger
  /** Automatic versions kept per document. */
  keep: number
  /** Named and pre-restore versions kept per document; 0 = forever. */
  keepNamed: number
  /** The change feed: `version.created` commits with its version, `version.restored` with the restore (docs/events.md). */
  feed?: HistoryFeed
}

/** The change feed as history writes to it: events commit with their change; `committed` has the feed read them now. */
export interface HistoryFeed {
  committed(): void
  /** Events of no change of their own (a restore that changed nothing). Never throws. */
  publish(events: readonly NewEvent[]): Promise<void>
}

/** Kinds that share one retention budget. */
const AUTOMATIC: readonly VersionKind[] = ['auto']
const DELIBERATE: readonly VersionKind[] = ['named', 'pre-restore']

/**
 * Saving versions with bounded retention. Two budgets per document: the newest
 * `keep` automatic versions, and the newest `keepNamed` named + pre-restore
 * versions (or all of them, with 0). A new version only ever pushes out older
 * versions of its own budget, so a busy document's automatic versions never
 * push out a named version or the state saved before a restore.
 */
export class VersionHistory {
  private readonly config: VersionHistoryConfiguration

  constructor(config: VersionHistoryConfiguration) {
    this.config = config
  }

  /** Store `state` as a version (durably: resolves once committed), then apply retention. */
  async save(documentName: string, state: Uint8Array, kind: VersionKind, options: { label?: string | null; createdBy?: string | null } = {}): Promise<VersionInfo> {
    const info = await this.config.storage.saveVersion(documentName, { kind, label: options.label ?? null, createdBy: options.createdBy ?? null, data: state }, this.announce(documentName))
    await this.saved(documentName, info)
    return info
  }

  /** With the feed on: the version's `version.created`, made in its transaction. */
  private announce(documentName: string): Announce | undefined {
    if (!this.config.feed) return undefined
    return (info) => [{ type: 'version.created', document: documentName, actor: info.createdBy ?? 'server', data: versionData(info) }]
  }

  /**
   * Store `state` as an automatic version unless the newest automatic version
   * already holds all of it — decided by the storage, under its per-document
   * lock, so instances that hold the same edits (they all flush at shutdown,
   * their clocks may run out together) store one version of them, not one each.
   * Resolves with the version, or null when it was already covered.
   */
  async saveAuto(documentName: string, state: Uint8Array): Promise<VersionInfo | null> {
    const info = await this.config.storage.saveVersionUnlessCovered(documentName, { kind: 'auto', label: null, createdBy: null, data: state }, (newest) => covers(newest, state), this.announce(documentName))
    if (info) await this.saved(documentName, info)
    else this.config.logger.debug({ documentName }, 'automatic version not saved: the newest one already holds this state')
    return info
  }

  /** Log, then apply retention to the version's budget. */
  private async saved(documentName: string, info: VersionInfo): Promise<void> {
    const { storage, logger } = this.config
    const { kind } = info
    logger.info({ documentName, version: info.id, kind, label: info.label, createdBy: info.createdBy, bytes: info.bytes }, 'version saved')
    this.config.feed?.committed()
    try {
      const pruned = kind === 'auto' ? await storage.pruneVersions(documentName, AUTOMATIC, this.config.keep) : await this.pruneDeliberate(documentName)
      if (pruned > 0) logger.debug({ documentName, pruned, kind }, 'old versions deleted')
    } catch (error) {
      // The version itself is stored; retention is retried with the next save.
      logger.error({ err: error, documentName }, 'could not delete old versions')
    }
  }

  /** A restore's `version.restored`, to commit with the restore's write (none with the feed off). */
  restoredEvents(documentName: string, version: VersionInfo, preRestore: VersionInfo, user: string | null): NewEvent[] {
    if (!this.config.feed) return []
    return [{ type: 'version.restored', document: documentName, actor: user ?? ANONYMOUS, data: { version: versionData(version), preRestore: versionData(preRestore) } }]
  }

  /** The restore was stored (with its events, or, when it changed nothing, they go now). */
  async restored(events: readonly NewEvent[], written: boolean): Promise<void> {
    if (events.length === 0) return
    if (written) this.config.feed?.committed()
    else await this.config.feed?.publish(events)
  }

  private async pruneDeliberate(documentName: string): Promise<number> {
    return this.config.keepNamed > 0 ? this.config.storage.pruneVersions(documentName, DELIBERATE, this.config.keepNamed) : 0
  }
}

/** A version as events carry it (docs/events.md). */
function versionData(info: VersionInfo): Record<string, unknown> {
  return { id: info.id, kind: info.kind, label: info.label, createdBy: info.createdBy, createdAt: new Date(info.createdAt).toISOString(), bytes: info.bytes }
}
