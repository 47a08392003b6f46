import { createServer, type Server as HttpServer, type ServerOptions } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Hocuspocus, type Extension } from '@hocuspocus/server'
import type { Logger } from 'pino'
import { createSecurity } from './setup/security.ts'
import { YWS_PREFIX, YwsAdapter } from './compat/yws.ts'
import { type CollabConfig, defaultConfig } from './config.ts'
import { ClusterPresence } from './extensions/cluster-presence.ts'
import { ColdAnswer } from './extensions/cold-answer.ts'
import { DocumentLifecycle } from './extensions/lifecycle.ts'
import { Persistence } from './extensions/persistence.ts'
import { Deletions } from './storage/deletions.ts'
import { ScaleOut } from './extensions/scale-out.ts'
import { type EventsSetup, createEvents } from './setup/events.ts'
import { createHistory } from './setup/history.ts'
import { addOpsRoutes } from './http/ops.ts'
import { Readiness } from './readiness.ts'
import { addStaticRoutes } from './http/static.ts'
import { ApiAuth } from './http/api/auth.ts'
import { ApiCors } from './http/api/cors.ts'
import { FALLBACK_HEADERS, HttpFallback, fallbackBase } from './http/fallback/index.ts'
import { Router } from './http/router.ts'
import { createLogger } from './log.ts'
import { secretsOf } from './secrets.ts'
import { Metrics } from './metrics.ts'
import { PostgresStorage } from './storage/postgres.ts'
import { SqliteStorage } from './storage/sqlite.ts'
import { ColdSync } from './ws/cold-sync.ts'
import { SharedStates } from './ws/shared-state.ts'
import { LoadQueue } from './storage/load-queue.ts'
import { DecodedFrames } from './ws/frame.ts'
import { WritePipeline } from './pipeline/pipeline.ts'
import { SocketDoor } from './pipeline/socket-door.ts'
import type { WriteCheck } from './pipeline/write.ts'
import type { Storage } from './storage/types.ts'
import { Gateway } from './ws/gateway.ts'

/** Paths that speak the Hocuspocus protocol (the root too, so Hocuspocus apps work unchanged). */
export const WS_PATHS: ReadonlySet<string> = new Set(['/ws', '/'])

export interface CollabServerOptions {
  /** Use this storage instead of opening `config.dbPath` (tests, bench). */
  storage?: Storage
  logger?: Logger
  /** Extra Hocuspocus extensions. */
  extensions?: Extension[]
  /** Extra rules for every write, at every door, after the server's own (server/pipeline). */
  writeChecks?: WriteCheck[]
}

export interface CollabServer {
  readonly config: CollabConfig
  readonly hocuspocus: Hocuspocus
  readonly storage: Storage
  readonly persistence: Persistence
  readonly httpServer: HttpServer
  /** HTTP routes on the server's port; features add theirs. */
  readonly router: Router
  /** Readiness checks behind /readyz; features add theirs. */
  readonly readiness: Readiness
  readonly metrics: Metrics
  readonly logger: Logger
  /** The change feed (docs/events.md); absent with EVENTS=off. */
  readonly events: EventsSetup | undefined
  /** Start listening; resolves with the bound port. */
  listen(): Promise<number>
  /** ws:// URL of the Hocuspocus endpoint (after listen). */
  readonly url: string
  /** Graceful stop: refuse new sockets, close the open ones, finish writes, compact, close storage. */
  close(): Promise<void>
}

/**
 * Node's own limits on a request: how long its headers and the whole request
 * may take to arrive (408), how large its headers may be (431). They end when
 * the request has arrived, so a long answer (a stream) is not cut by them.
 * Node checks the timeouts every `connectionsCheckingInterval` (30 s by
 * default): checked often enough here for the configured values to hold.
 */
function httpServerOptions(config: CollabConfig): ServerOptions {
  return {
    headersTimeout: config.httpHeadersTimeoutMs,
    requestTimeout: config.httpRequestTimeoutMs,
    maxHeaderSize: config.httpMaxHeaderBytes,
    connectionsCheckingInterval: Math.min(1000, Math.floor(config.httpHeadersTimeoutMs / 2)),
  }
}

export function createCollabServer(partial: Partial<CollabConfig> = {}, options: CollabServerOptions = {}): CollabServer {
  const config: CollabConfig = { ...defaultConfig, ...partial }
  const logger = options.logger ?? createLogger(config.logLevel, secretsOf(config), { format: config.logFormat === 'pretty' ? 'pretty' : 'json' })
  // Authentication, roles, token lifetime, awareness guard (throws ConfigError for an unusable key).
  // What the gateway decodes, for the hooks that need it (write pipeline, awareness guard): decoded once.
  const frames = new DecodedFrames()
  const security = createSecurity(config, logger, frames)
  const storage =
    options.storage ??
    (config.databaseUrl
      ? new PostgresStorage({ connectionString: config.databaseUrl, logger })
      : new SqliteStorage({ path: config.dbPath, sync: config.dbSync, commitIntervalMs: config.dbCommitIntervalMs }))
  const scaleOut = config.redisUrl
    ? new ScaleOut({ url: config.redisUrl, prefix: config.redisPrefix, storage, logger })
    : undefined
  const metrics = new Metrics()
  // Leaves and dead instances across instances (server/extensions/cluster-presence.ts, docs/protocol.md).
  const clusterPresence = config.redisUrl
    ? new ClusterPresence({
        url: config.redisUrl,
        prefix: config.redisPrefix,
        logger,
        guard: security.guard,
        heartbeatMs: config.presenceHeartbeatMs,
        deadAfterMs: config.presenceDeadAfterMs,
        onEvent: (event, count) => metrics.clusterPresence.inc({ event }, count),
        onRecorded: (size) => metrics.presenceRecorded.set(size),
      })
    : undefined
  // The change feed (docs/events.md): marks and events commit with the appends (server/events).
  const events = createEvents(config, { storage, logger, metrics })
  const coldSync = config.coldSync
    ? new ColdSync({ onServe: () => metrics.coldSyncs.inc(), shared: new SharedStates((bytes) => metrics.sharedStateBytes.inc(bytes)) })
    : undefined
  // Admission control for loads: a storm waits for a slot rather than loading everything at once.
  const loads = new LoadQueue(config.loadConcurrency)
  metrics.loadQueue(loads)
  // Loads of a document being deleted wait for the delete (server/storage/deletions.ts).
  const deletions = new Deletions()
  const persistence = new Persistence({
    storage,
    deletions,
    coldSync,
    loads,
    onLoad: (seconds) => metrics.loadSeconds.observe(seconds),
    logger,
    compactAfterUpdates: config.compactAfterUpdates,
    compactAfterBytes: config.compactAfterBytes,
    onAppend: ({ seconds, error }) => {
      if (error) metrics.persistFailures.inc()
      else metrics.persistSeconds.observe(seconds)
    },
    onCompact: ({ error }) => metrics.compactions.inc({ outcome: error ? 'failed' : 'ok' }),
    feed: events?.coalescer,
  })
  // The one write path: every door's writes are checked, then stored, then applied (server/pipeline).
  const pipeline = new WritePipeline({
    journal: persistence,
    logger,
    maxUpdateBytes: config.maxUpdateBytes,
    maxDocumentBytes: config.maxDocumentBytes,
    extraChecks: options.writeChecks,
    onRefuse: (write, refusal) => metrics.writesRefused.inc({ door: write.door, reason: refusal.error.reason, rule: refusal.rule }),
    onReplace: (write) => metrics.foreignStructs.inc({ door: write.door }),
  })
  const socketDoor = new SocketDoor({ pipeline, frames, logger, onApplied: (seconds) => metrics.applySeconds.observe(seconds) })
  // Version history and the REST API (server/history, server/http/api).
  const history = createHistory(config, { storage, deletions, pipeline, logger, verifier: security.verifier, onAutoVersion: (outcome) => metrics.autoVersions.inc({ outcome }), events })
  const lifecycle = new DocumentLifecycle({ idleMs: config.docIdleUnloadMs, maxDocuments: config.maxDocuments, logger, loads, loadQueueMax: config.loadQueueMax })
  const hocuspocus = new Hocuspocus({
    quiet: true,
    timeout: config.idleTimeoutMs,
    maxUnauthenticatedQueueSize: config.preauthQueueBytes,
    maxUnauthenticatedQueueMessages: config.preauthQueueMessages,
    extensions: [lifecycle, ...security.extensions, socketDoor, ...(scaleOut ? [scaleOut] : []), ...(clusterPresence ? [clusterPresence] : []), ...(options.extensions ?? []), persistence, ...history.extensions, ...(events?.extensions ?? []), ...(coldSync ? [new ColdAnswer()] : [])],
  })
  const gateway = new Gateway({
    hocuspocus,
    logger,
    coldSync,
    frames,
    limits: config,
    onFrame: (frame, bytes) => metrics.frameReceived(frame.kind === 'pong' ? -1 : frame.type, bytes),
    onReject: (error) => metrics.rejected.inc({ reason: error.reason }),
    onEcho: () => metrics.echoesDropped.inc(),
    onSend: (type, bytes) => metrics.frameSent(type, bytes),
  })

  // The HTTP fallback for clients whose WebSockets are blocked: sessions are sockets to the same gateway (server/http/fallback).
  const fallback = config.httpFallback
    ? new HttpFallback({ gateway, logger, limits: config, auth: new ApiAuth(security.verifier), cors: new ApiCors(config.allowedOrigins, config.trustProxy, FALLBACK_HEADERS) })
    : undefined

  const readiness = new Readiness(logger)
  readiness.add('storage', async () => {
    await persistence.checkWritable()
    return 'ok'
  })
  if (scaleOut) readiness.add('redis', async () => scaleOut.health())
  // Mid-storm: still serving (200), so load balancers do not drain every instance at once; a storage fault is 'failing' (503).
  readiness.add('loads', async () =>
    loads.length > config.loadQueueDegraded ? { state: 'degraded', detail: `${loads.length} document loads waiting (LOAD_QUEUE_DEGRADED ${config.loadQueueDegraded})` } : 'ok',
  )
  const router = new Router()
  const sources = { documents: () => hocuspocus.getDocumentsCount(), connections: () => gateway.size }
  metrics.gauges(sources)
  addOpsRoutes(router, { ...sources, readiness, metrics, metricsAccess: { token: config.metricsToken, authConfigured: security.verifier !== null } })
  if (security.verifier && !config.metricsToken) logger.info('/metrics is not served: a token key is configured and METRICS_TOKEN is not set')
  // The web page (client/demo/dist) at `/`; WebSocket upgrades on `/` go to the upgrade listener below.
  addStaticRoutes(router)
  if (fallback) for (const path of WS_PATHS) fallback.addRoutes(router, fallbackBase(path))
  events?.attach(hocuspocus, persistence)
  history.attach(hocuspocus, router, { admit: (name) => lifecycle.admit(hocuspocus, name), unload: (document) => lifecycle.unloadNow(hocuspocus, document) })

  const httpServer = createServer(httpServerOptions(config), (req, res) => {
    void router.handle(req, res, (error) => logger.error({ err: error, url: req.url }, 'http handler failed'))
  })
  httpServer.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    if (WS_PATHS.has(path)) return gateway.handleUpgrade(req, socket, head)
    const yws = path.startsWith(YWS_PREFIX) ? YwsAdapter.fromUrl(req.url ?? '') : undefined
    if (yws) return gateway.handleUpgrade(req, socket, head, yws)
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
  })

  let closing: Promise<void> | undefined
  async function shutdown(): Promise<void> {
    readiness.markStopping()
    // Event streams end now, saying why (their readers reconnect elsewhere).
    events?.streams.closeAll()
    httpServer.close()
    await lifecycle.shutdown(hocuspocus)
    // Fallback sessions close with the sockets (their streams carry the close), then their streams end.
    gateway.closeAll()
    await fallback?.closeAll()
    hocuspocus.closeConnections()
    hocuspocus.flushPendingStores()
    // Unloading runs our compaction; wait (bounded) for the documents to go.
    const deadline = Date.now() + 3000
    while (hocuspocus.getDocumentsCount() > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20))
    }
    await persistence.settle()
    await history.flush()
    await events?.close()
    await clusterPresence?.close()
    await scaleOut?.close()
    gateway.close()
    httpServer.closeAllConnections()
    metrics.stop()
    await storage.close()
  }

  return {
    config,
    hocuspocus,
    storage,
    persistence,
    httpServer,
    router,
    readiness,
    metrics,
    logger,
    events,
    get url() {
      const address = httpServer.address() as AddressInfo | null
      const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host
      return `ws://${host.includes(':') ? `[${host}]` : host}:${address?.port ?? config.port}/ws`
    },
    listen: async () => {
      // Announced in Redis before any client can come (bounded: Redis may be down).
      await clusterPresence?.announced(5000)
      // Closed while it waited (a SIGTERM at start-up): never bind after shutdown began.
      if (closing) throw new Error('the server was closed before it listened')
      await events?.start()
      return new Promise<number>((resolve, reject) => {
        httpServer.once('error', reject)
        httpServer.listen(config.port, config.host, () => {
          httpServer.off('error', reject)
          resolve((httpServer.address() as AddressInfo).port)
        })
      })
    },
    close: () => (closing ??= shutdown()),
  }
}
