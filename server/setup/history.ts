import type { Document, Extension, Hocuspocus } from '@hocuspocus/server'
import type { Logger } from 'pino'
import type { TokenVerifier } from '../auth/jwt.ts'
import type { CollabConfig } from '../config.ts'
import { ApiCors } from '../http/api/cors.ts'
import { ApiAuth, addApiRoutes } from '../http/api/index.ts'
import { ApiRateLimit } from '../http/api/rate-limit.ts'
import type { Router } from '../http/router.ts'
import type { WritePipeline } from '../pipeline/pipeline.ts'
import type { Deletions } from '../storage/deletions.ts'
import type { Storage } from '../storage/types.ts'
import type { EventsSetup } from './events.ts'
import { AutoVersions } from '../history/auto.ts'
import { LiveDocuments } from '../history/live.ts'
import { type HistoryFeed, VersionHistory } from '../history/versions.ts'

export interface HistorySetup {
  /** Hocuspocus extensions to register (automatic versions, when on). */
  readonly extensions: Extension[]
  /**
   * Once Hocuspocus exists: serve the REST API on `router`. `lifecycle`: the
   * MAX_DOCUMENTS decision and the unload that nothing keeps warm (DocumentLifecycle).
   */
  attach(hocuspocus: Hocuspocus, router: Router, lifecycle: { admit(documentName: string): Promise<boolean>; unload(document: Document): Promise<void> }): void
  /** Shutdown, before storage closes: save pending automatic versions. */
  flush(): Promise<void>
}

/** Version history (automatic versions, retention) and the REST API, wired from the configuration. */
export function createHistory(
  config: CollabConfig,
  deps: {
    storage: Storage
    /** Documents being deleted: their loads wait for the delete. */
    deletions?: Deletions
    pipeline: WritePipeline
    logger: Logger
    verifier: TokenVerifier | null
    onAutoVersion?: (outcome: 'saved' | 'covered' | 'failed') => void
    /** The change feed: version and deletion events. */
    events?: EventsSetup
  },
): HistorySetup {
  const { storage, pipeline, logger, verifier } = deps
  const e = deps.events
  const feed: HistoryFeed | undefined = e ? { committed: () => e.feed.committed(), publish: (events) => e.publish(events) } : undefined
  const history = new VersionHistory({ storage, logger, keep: config.versionKeep, keepNamed: config.versionKeepNamed, feed })
  let live: LiveDocuments | undefined
  const auto =
    config.versionEveryMs > 0
      ? new AutoVersions({ history, logger, everyMs: config.versionEveryMs, state: async (name) => (live ? live.state(name) : null), onOutcome: deps.onAutoVersion })
      : undefined
  return {
    extensions: auto ? [auto] : [],
    attach(hocuspocus, router, lifecycle) {
      live = new LiveDocuments({ hocuspocus, storage, deletions: deps.deletions, pipeline, logger, feed, admit: (name) => lifecycle.admit(name), unload: (document) => lifecycle.unload(document) })
      // The socket's verifier: one key, one set of rules for every door.
      const auth = new ApiAuth(verifier)
      const edge = { cors: new ApiCors(config.allowedOrigins, config.trustProxy), rateLimit: new ApiRateLimit(config) }
      const events = e ? { feed: e.feed, streams: e.streams, tickets: e.tickets, allowPrivate: config.webhookAllowPrivate, wake: () => e.webhooks.wake() } : undefined
      addApiRoutes(router, { live, history, auto, storage, events, auth, edge, logger, limits: config })
    },
    flush: async () => auto?.flush(),
  }
}
