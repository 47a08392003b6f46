import type { Extension, onChangePayload } from '@hocuspocus/server'
import type { Logger } from 'pino'
import type { VersionHistory } from './versions.ts'
import { originKind } from '../origin.ts'

export interface AutoVersionsConfiguration {
  history: VersionHistory
  /** The document's full state now (memory or storage), or null when it is gone. */
  state: (documentName: string) => Promise<Uint8Array | null>
  logger: Logger
  /** Save a version this long after the first change since the last one; 0 = never. */
  everyMs: number
  /** Called with each attempt's outcome (metrics): saved, covered (the newest version already held it), failed. */
  onOutcome?: (outcome: 'saved' | 'covered' | 'failed') => void
}

/**
 * Automatic versions: the first change to a document after its last automatic
 * version starts a clock; when it runs out (`everyMs`), the document's state
 * at that moment is saved as an `auto` version — whether it is still loaded
 * (from memory) or not (from storage). A document edited without a break thus
 * gets one version every `everyMs`; a quiet one gets none. At shutdown, the
 * clocks still running are cut short so no stretch of edits goes without one.
 * Changes from other instances (Redis) are left to the instance that took them.
 * Several instances may still hold the same edits (each took some of them, or
 * they all flush at shutdown): a version is stored only when the newest
 * automatic version does not already hold its state, decided in the database
 * (`VersionHistory.saveAuto`), so they store it once between them.
 */
export class AutoVersions implements Extension {
  readonly extensionName = 'auto-versions'

  private readonly config: AutoVersionsConfiguration
  private readonly clocks = new Map<string, NodeJS.Timeout>()
  /** Saves under way, by document. */
  private readonly saving = new Map<string, Promise<void>>()

  constructor(config: AutoVersionsConfiguration) {
    this.config = config
  }

  async onChange({ documentName, transactionOrigin }: onChangePayload): Promise<void> {
    if (this.config.everyMs === 0 || this.clocks.has(documentName)) return
    if (originKind(transactionOrigin) === 'redis') return
    const clock = setTimeout(() => this.take(documentName), this.config.everyMs)
    clock.unref()
    this.clocks.set(documentName, clock)
  }

  /** Stop the clock of a document that is going away (deleted); resolves once a save already under way is done. */
  async forget(documentName: string): Promise<void> {
    clearTimeout(this.clocks.get(documentName))
    this.clocks.delete(documentName)
    await this.saving.get(documentName)
  }

  /** Shutdown, before storage closes: save the versions whose clocks are running, and wait for saves under way. */
  async flush(): Promise<void> {
    for (const [documentName, clock] of [...this.clocks]) {
      clearTimeout(clock)
      this.take(documentName)
    }
    await Promise.all(this.saving.values())
  }

  private take(documentName: string): void {
    this.clocks.delete(documentName)
    const { history, logger } = this.config
    const earlier = this.saving.get(documentName)
    const run = (async () => {
      await earlier // one save per document at a time, in order (never rejects)
      try {
        const state = await this.config.state(documentName)
        if (state) this.config.onOutcome?.((await history.saveAuto(documentName, state)) ? 'saved' : 'covered')
      } catch (error) {
        this.config.onOutcome?.('failed')
        logger.error({ err: error, documentName }, 'could not save an automatic version')
      }
    })()
    this.saving.set(documentName, run)
    void run.finally(() => {
      if (this.saving.get(documentName) === run) this.saving.delete(documentName)
    })
  }
}
