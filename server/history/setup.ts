import type { Extension, Hocuspocus } from '@hocuspocus/server'
import type { Logger } from 'pino'
import type { TokenVerifier } from '../auth/jwt.ts'
import type { CollabConfig } from '../config.ts'
import type { Persistence } from '../extensions/persistence.ts'
import { ApiAuth, addApiRoutes } from '../http/api/index.ts'
import type { Router } from '../http/router.ts'
import type { Storage } from '../storage/types.ts'
import { AutoVersions } from './auto.ts'
import { LiveDocuments } from './live.ts'
import { VersionHistory } from './versions.ts'

export interface HistorySetup {
  /** Hocuspocus extensions to register (automatic versions, when on). */
  readonly extensions: Extension[]
  /** Once Hocuspocus exists: serve the REST API on `router`. */
  attach(hocuspocus: Hocuspocus, router: Router): void
  /** Shutdown, before storage closes: save pending automatic versions. */
  flush(): Promise<void>
}

/** Version history (automatic versions, retention) and the REST API, wired from the configuration. */
export function createHistory(
  config: CollabConfig,
  deps: { storage: Storage; persistence: Persistence; logger: Logger; verifier: TokenVerifier | null; onAutoVersion?: (outcome: 'saved' | 'covered' | 'failed') => void },
): HistorySetup {
  const { storage, persistence, logger, verifier } = deps
  const history = new VersionHistory({ storage, logger, keep: config.versionKeep, keepNamed: config.versionKeepNamed })
  let live: LiveDocuments | undefined
  const auto =
    config.versionEveryMs > 0
      ? new AutoVersions({ history, logger, everyMs: config.versionEveryMs, state: async (name) => (live ? live.state(name) : null), onOutcome: deps.onAutoVersion })
      : undefined
  return {
    extensions: auto ? [auto] : [],
    attach(hocuspocus, router) {
      live = new LiveDocuments({ hocuspocus, storage, persistence, logger, maxDocumentBytes: config.maxDocumentBytes })
      // The socket's verifier: one key, one set of rules for every door.
      const auth = new ApiAuth(verifier)
      addApiRoutes(router, { live, history, auto, storage, auth, logger, limits: config })
    },
    flush: async () => auto?.flush(),
  }
}
