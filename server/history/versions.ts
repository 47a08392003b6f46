import type { Logger } from 'pino'
import type { Storage, VersionInfo, VersionKind } from '../storage/types.ts'

export interface VersionHistoryConfiguration {
  storage: Storage
  logger: Logger
  /** Automatic versions kept per document. */
  keep: number
  /** Named and pre-restore versions kept per document; 0 = forever. */
  keepNamed: number
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
    const { storage, logger } = this.config
    const info = await storage.saveVersion(documentName, { kind, label: options.label ?? null, createdBy: options.createdBy ?? null, data: state })
    logger.info({ documentName, version: info.id, kind, label: info.label, createdBy: info.createdBy, bytes: info.bytes }, 'version saved')
    try {
      const pruned = kind === 'auto' ? await storage.pruneVersions(documentName, AUTOMATIC, this.config.keep) : await this.pruneDeliberate(documentName)
      if (pruned > 0) logger.debug({ documentName, pruned, kind }, 'old versions deleted')
    } catch (error) {
      // The version itself is stored; retention is retried with the next save.
      logger.error({ err: error, documentName }, 'could not delete old versions')
    }
    return info
  }

  private async pruneDeliberate(documentName: string): Promise<number> {
    return this.config.keepNamed > 0 ? this.config.storage.pruneVersions(documentName, DELIBERATE, this.config.keepNamed) : 0
  }
}
