/**
 * Typed configuration, its defaults, and validation of environment variables.
 * `parseConfig` is pure: the entry point hands it `process.env`; library code
 * never reads the environment itself.
 */
import { MIN_SECRET_BYTES, hasKey, parsePublicKey, publicKeyAlgorithm } from './auth/jwt.ts'

export type DbSync = 'normal' | 'full'
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
/** `json`: one JSON object per line; `pretty`: readable (pino-pretty, coloured on a terminal); `auto`: pretty on a terminal, else JSON. */
export type LogFormat = 'auto' | 'pretty' | 'json'

export interface CollabConfig {
  /** TCP port for HTTP and WebSocket. 0 picks a free port. @default 1234 */
  port: number
  /**
   * Address to bind. @default '0.0.0.0' when a token key is configured; '127.0.0.1'
   * in open mode (no key), so an unprotected server is not on the network by accident.
   */
  host: string
  /** SQLite database file, created with its directory. ':memory:' keeps nothing. @default './data/collab.db' */
  dbPath: string
  /**
   * SQLite durability. 'normal' (WAL + synchronous=NORMAL) survives a process
   * crash; 'full' (synchronous=FULL) also survives power loss, at ~8x fewer commits/s.
   * @default 'normal'
   */
  dbSync: DbSync
  /** Send a stored document to a client that holds nothing while the document loads, and one shared encoding of a loaded one (server/ws/cold-sync.ts). */
  coldSync: boolean
  /** Document loads (storage read + build) at once; more wait in a queue, in order (0: no bound). @default 8 */
  loadConcurrency: number
  /** /readyz answers `degraded` (still 200) while more loads than this wait in the queue. @default 100 */
  loadQueueDegraded: number
  /** Shed load: a socket opening a document that would join this many waiting loads is refused with `4508 server-busy` (0: never; queue instead). @default 0 */
  loadQueueMax: number
  /** SQLite: under load, at most one append transaction per this many ms (0: one per event-loop turn). */
  dbCommitIntervalMs: number
  /** pino log level. @default 'info' */
  logLevel: LogLevel
  /**
   * How log lines are written (the same fields either way). `auto` is resolved by
   * the entry point: `pretty` when stdout is a terminal, else `json`. @default 'auto'
   */
  logFormat: LogFormat
  /** Largest WebSocket frame accepted, in bytes; larger frames close the socket with 1009. @default 16 MiB */
  maxMessageBytes: number
  /** Fold a document's update log into a snapshot after this many appended updates. @default 500 */
  compactAfterUpdates: number
  /** ...or after this many appended bytes. @default 1 MiB */
  compactAfterBytes: number
  /** Close sockets that send nothing for this long, in ms (providers ping every 30 s with awareness). @default 60000 */
  idleTimeoutMs: number
  /** Keep a document loaded this long after its last client leaves (0 = unload at once). @default 10000 */
  docIdleUnloadMs: number
  /** Most documents loaded at once; idle ones are evicted first, then new ones refused (0 = no cap). @default 10000 */
  maxDocuments: number
  /** PostgreSQL URL (postgres://…). When set, documents are stored there instead of DB_PATH. @default undefined */
  databaseUrl?: string
  /** Redis URL (redis://host:port[/db]). When set, instances share edits and awareness through it. @default undefined */
  redisUrl?: string
  /** Prefix of the Redis channels and keys, to share one Redis between deployments. @default 'collab' */
  redisPrefix: string
  /**
   * With Redis: each instance announces itself this often (from a worker
   * thread, so a long event-loop stall does not stop it) and looks for
   * instances that stopped. @default 1000
   */
  presenceHeartbeatMs: number
  /**
   * With Redis: an instance that has not announced itself for this long is
   * dead, and its clients leave every other instance's presence (within this
   * plus one heartbeat). At least twice `presenceHeartbeatMs`. @default 3000
   */
  presenceDeadAfterMs: number
  /** HS256 shared secret (at least 32 bytes). One of jwtSecret / jwtPublicKey / jwksFile; none = open mode. */
  jwtSecret?: string
  /** PEM public key: RSA (RS256, at least 2048 bits) or EC P-256 (ES256). */
  jwtPublicKey?: string
  /** Path of a local JSON Web Key Set file (public RSA / EC P-256 keys, picked by `kid`). Read at start. */
  jwksFile?: string
  /** Required `aud` of every token, when set. */
  jwtAudience?: string
  /** Required `iss` of every token, when set. */
  jwtIssuer?: string
  /** Ask a client for a fresh token this long before its token expires (halfway, for shorter tokens). @default 60000 */
  tokenRefreshBeforeMs: number
  /**
   * Bearer token /metrics requires (at least 32 bytes). Unset: /metrics is open in open
   * mode, and not served at all once a token key is configured. @default undefined
   */
  metricsToken?: string
  /** Largest awareness state one client may publish, in bytes of JSON; larger ones are dropped. @default 8192 */
  awarenessMaxBytes: number
  /** Awareness updates per second a connection may publish per document (bursts up to as many); more are throttled. @default 20 */
  awarenessMaxRate: number
  /** Largest Yjs update in one message (socket or REST); larger closes the socket with 1009. @default 8 MiB */
  maxUpdateBytes: number
  /** Largest stored size of a document (snapshot + log); a write past it is refused with 4413. @default 64 MiB */
  maxDocumentBytes: number
  /** Messages per second one socket may send on average (token bucket); past the burst: 4429. @default 100 */
  rateLimitPerSecond: number
  /** How many messages a socket may send at once before the rate applies. @default 500 */
  rateLimitBurst: number
  /** Distinct documents one socket may open; one more closes it with 4409. @default 100 */
  maxDocumentsPerSocket: number
  /** A socket that has not authenticated any document within this time is closed with 4408. @default 10000 */
  authTimeoutMs: number
  /** Bytes a socket may queue before its first document is authenticated. @default 1 MiB */
  preauthQueueBytes: number
  /** Messages a socket may queue before its first document is authenticated. @default 100 */
  preauthQueueMessages: number
  /** Open sockets per client address (0 = no limit); past it the upgrade gets HTTP 429. @default 1000 */
  maxConnectionsPerIp: number
  /** Proxies in front of the server whose X-Forwarded-For to trust (0 = use the socket address). @default 0 */
  trustProxy: number
  /** Longest document name, in characters. @default 256 */
  docNameMaxLength: number
  /**
   * Browser origins allowed to open sockets (empty = any); others get HTTP 403 before the upgrade.
   * For /api it is the CORS list: only these origins get cross-origin access (empty = none). @default []
   */
  allowedOrigins: string[]
  /** REST requests per second one Bearer token may make on average (0 = no per-token limit); past the burst: 429. @default 50 */
  apiRateLimitPerSecond: number
  /** How many REST requests one token may make at once before the rate applies. @default 100 */
  apiRateLimitBurst: number
  /** REST requests per second one client address (TRUST_PROXY) may make on average (0 = no per-address limit). @default 100 */
  apiRateLimitPerIpPerSecond: number
  /** How many REST requests one address may make at once before the rate applies. @default 200 */
  apiRateLimitPerIpBurst: number
  /** A client must send a request's headers within this time (ms), else 408. @default 10000 */
  httpHeadersTimeoutMs: number
  /** A client must send a whole request, body included, within this time (ms), else 408. @default 60000 */
  httpRequestTimeoutMs: number
  /** Largest request headers (request line included), in bytes; larger: 431. @default 16384 */
  httpMaxHeaderBytes: number
  /**
   * Automatic versions: the first change after a document's last automatic
   * version starts a clock; when it runs out, the document's state is saved as
   * a version (and at shutdown, for edits not yet in one). 0 = no automatic versions.
   * @default 600000 (10 minutes)
   */
  versionEveryMs: number
  /** Automatic versions kept per document (older ones are deleted when a new one is saved). @default 50 */
  versionKeep: number
  /** Named and pre-restore versions kept per document (0 = forever). @default 1000 */
  versionKeepNamed: number
  /** The change feed (docs/events.md): events stored with the changes, SSE, webhooks. @default true */
  events: boolean
  /** `document.updated` is coalesced per document over this window, in ms. @default 1000 */
  eventsWindowMs: number
  /** Events are kept this long (ms); a cursor older than that gets 410. @default 604800000 (7 days) */
  eventsRetentionMs: number
  /** `presence.joined` / `presence.left` in the feed: a user's first connection to a document, and their last leaving it. @default false */
  eventsPresence: boolean
  /** Event streams (SSE) open at once per client address. @default 20 */
  streamsPerIp: number
  /** A keep-alive comment on an idle stream this often, in ms. @default 15000 */
  streamKeepAliveMs: number
  /** A stream whose reader lets this many bytes pile up unread is cut off (slow consumer). @default 1 MiB */
  streamMaxBufferedBytes: number
  /** The HTTP fallback transport for clients whose WebSockets are blocked (docs/protocol.md#http-fallback). @default true */
  httpFallback: boolean
  /** An HTTP fallback session whose reader leaves this many bytes of frames unconfirmed is closed (4417 backlog-full). @default 4 MiB */
  fallbackBacklogBytes: number
  /** A JSON file of webhook endpoints configured by the deployment (docs/events.md#webhooks). @default undefined */
  webhooksFile?: string
  /** A webhook request that has not answered within this time fails (ms). @default 10000 */
  webhookTimeoutMs: number
  /** A delivery that keeps failing is retried for this long (ms), then parked as failed. @default 86400000 (one day) */
  webhookRetryForMs: number
  /** Let webhooks reach loopback and private addresses (tests, private deployments). @default false */
  webhookAllowPrivate: boolean
  /** The first webhook retry waits about this long (ms); each next one twice as long, up to 10 minutes. @default 1000 */
  webhookBackoffMs: number
}

export const defaultConfig: CollabConfig = {
  port: 1234,
  host: '127.0.0.1',
  dbPath: './data/collab.db',
  dbSync: 'normal',
  dbCommitIntervalMs: 0,
  coldSync: true,
  loadConcurrency: 8,
  loadQueueDegraded: 100,
  loadQueueMax: 0,
  logLevel: 'info',
  logFormat: 'auto',
  maxMessageBytes: 16 * 1024 * 1024,
  compactAfterUpdates: 500,
  compactAfterBytes: 1024 * 1024,
  idleTimeoutMs: 60_000,
  docIdleUnloadMs: 10_000,
  maxDocuments: 10_000,
  redisPrefix: 'collab',
  presenceHeartbeatMs: 1000,
  presenceDeadAfterMs: 3000,
  tokenRefreshBeforeMs: 60_000,
  awarenessMaxBytes: 8192,
  awarenessMaxRate: 20,
  maxUpdateBytes: 8 * 1024 * 1024,
  maxDocumentBytes: 64 * 1024 * 1024,
  rateLimitPerSecond: 100,
  rateLimitBurst: 500,
  maxDocumentsPerSocket: 100,
  authTimeoutMs: 10_000,
  preauthQueueBytes: 1024 * 1024,
  preauthQueueMessages: 100,
  maxConnectionsPerIp: 1000,
  trustProxy: 0,
  docNameMaxLength: 256,
  allowedOrigins: [],
  apiRateLimitPerSecond: 50,
  apiRateLimitBurst: 100,
  apiRateLimitPerIpPerSecond: 100,
  apiRateLimitPerIpBurst: 200,
  httpHeadersTimeoutMs: 10_000,
  httpRequestTimeoutMs: 60_000,
  httpMaxHeaderBytes: 16 * 1024,
  versionEveryMs: 600_000,
  versionKeep: 50,
  versionKeepNamed: 1000,
  events: true,
  eventsWindowMs: 1000,
  eventsRetentionMs: 604_800_000,
  eventsPresence: false,
  streamsPerIp: 20,
  streamKeepAliveMs: 15_000,
  streamMaxBufferedBytes: 1024 * 1024,
  httpFallback: true,
  fallbackBacklogBytes: 4 * 1024 * 1024,
  webhookTimeoutMs: 10_000,
  webhookRetryForMs: 86_400_000,
  webhookAllowPrivate: false,
  webhookBackoffMs: 1000,
}

/** One environment variable: what it sets and means, and how to read it (`--help` prints `doc` and `allowed`). */
export interface EnvVar<K extends keyof CollabConfig> {
  key: K
  /** What it is for, in a few words. */
  doc: string
  parse: (raw: string) => CollabConfig[K] | undefined
  allowed: string
  /** The default, when `defaultConfig` alone does not say it. */
  shownDefault?: string
  /** The value may hold a secret (a key, a password in a URL): a problem names the variable, never shows the value. */
  secret?: true
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

function integer(min: number, max: number) {
  return (raw: string): number | undefined => {
    if (!/^\d+$/.test(raw.trim())) return undefined
    const n = Number(raw)
    return n >= min && n <= max ? n : undefined
  }
}

function oneOf<T extends string>(values: readonly T[]) {
  return (raw: string): T | undefined => {
    const v = raw.trim().toLowerCase()
    return (values as readonly string[]).includes(v) ? (v as T) : undefined
  }
}

function onOff(raw: string): boolean | undefined {
  const v = raw.trim().toLowerCase()
  return v === 'on' ? true : v === 'off' ? false : undefined
}

function url(protocols: readonly string[]) {
  return (raw: string): string | undefined => {
    try {
      return protocols.includes(new URL(raw.trim()).protocol) ? raw.trim() : undefined
    } catch {
      return undefined
    }
  }
}

/** Comma-separated origins (scheme://host[:port]); '*' means any. */
function origins(raw: string): string[] | undefined {
  const list = raw.split(',').map((o) => o.trim()).filter(Boolean)
  if (list.length === 1 && list[0] === '*') return []
  const parsed: string[] = []
  for (const o of list) {
    try {
      const u = new URL(o)
      if (u.origin === 'null' || u.origin !== o.replace(/\/$/, '')) return undefined
      parsed.push(u.origin)
    } catch {
      return undefined
    }
  }
  return parsed.length > 0 ? parsed : undefined
}

const nonEmpty = (raw: string): string | undefined => (raw.trim() === '' ? undefined : raw.trim())

const secret = (raw: string): string | undefined => (Buffer.byteLength(raw) >= MIN_SECRET_BYTES ? raw : undefined)

function publicKeyPem(raw: string): string | undefined {
  try {
    publicKeyAlgorithm(parsePublicKey(raw))
    return raw
  } catch {
    return undefined // reported by parseConfig as "not valid: expected ..."
  }
}

/** Every variable the server reads: the one list that parsing and `--help` use. docs/configuration.md and `.env.example` list the same (test/unit/docs-configuration.test.ts checks). */
export const ENV_VARS: Record<string, EnvVar<keyof CollabConfig>> = {
  PORT: { key: 'port', doc: 'TCP port for HTTP and WebSocket (0 = any free port)', parse: integer(0, 65535), allowed: 'an integer from 0 to 65535' },
  HOST: { key: 'host', doc: 'address to bind', shownDefault: '127.0.0.1 in open mode, 0.0.0.0 with a token key', parse: nonEmpty, allowed: 'an address to bind, e.g. 0.0.0.0 or 127.0.0.1' },
  DB_PATH: { key: 'dbPath', doc: 'SQLite file, created with its directory', parse: nonEmpty, allowed: "a file path, or ':memory:'" },
  DB_SYNC: { key: 'dbSync', doc: "SQLite durability: 'normal' survives process crashes, 'full' also power loss", parse: oneOf<DbSync>(['normal', 'full']), allowed: "'normal' or 'full'" },
  DB_COMMIT_INTERVAL_MS: { key: 'dbCommitIntervalMs', doc: 'SQLite: under load, at most one append transaction per this many ms', parse: integer(0, 1000), allowed: 'an integer from 0 to 1000 (ms)' },
  COLD_SYNC: { key: 'coldSync', doc: 'send a client that holds nothing the stored document while it loads, and one shared encoding once loaded', parse: onOff, allowed: "'on' or 'off'" },
  LOAD_CONCURRENCY: { key: 'loadConcurrency', doc: 'document loads at once; more wait in a queue (0: no bound)', parse: integer(0, 10_000), allowed: 'an integer from 0 to 10000' },
  LOAD_QUEUE_MAX: { key: 'loadQueueMax', doc: "refuse opening a document with '4508 server-busy' (back off) while this many loads wait (0: never, queue)", parse: integer(0, 10_000_000), allowed: 'an integer from 0 to 10000000' },
  LOAD_QUEUE_DEGRADED: { key: 'loadQueueDegraded', doc: "/readyz says 'degraded' (still 200) while more loads than this wait", parse: integer(1, 10_000_000), allowed: 'an integer from 1 to 10000000' },
  LOG_LEVEL: { key: 'logLevel', doc: 'log level (JSON lines on stdout)', parse: oneOf(LOG_LEVELS), allowed: LOG_LEVELS.join(', ') },
  LOG_FORMAT: { key: 'logFormat', doc: "log lines: 'auto' (readable at a terminal, JSON otherwise), 'pretty' or 'json'", parse: oneOf<LogFormat>(['auto', 'pretty', 'json']), allowed: "'auto', 'pretty' or 'json'" },
  MAX_MESSAGE_BYTES: { key: 'maxMessageBytes', doc: 'largest WebSocket frame; larger ones close the socket with 1009', parse: integer(1024, 1024 ** 3), allowed: 'an integer from 1024 to 1073741824' },
  COMPACT_AFTER_UPDATES: { key: 'compactAfterUpdates', doc: "fold a document's update log into a snapshot after this many updates", parse: integer(1, 10_000_000), allowed: 'an integer from 1 to 10000000' },
  COMPACT_AFTER_BYTES: { key: 'compactAfterBytes', doc: '...or after this many bytes', parse: integer(1, 1024 ** 4), allowed: 'a positive integer (bytes)' },
  IDLE_TIMEOUT_MS: { key: 'idleTimeoutMs', doc: 'close sockets that send nothing for this long', parse: integer(1000, 86_400_000), allowed: 'an integer from 1000 to 86400000 (ms)' },
  DOC_IDLE_UNLOAD_MS: { key: 'docIdleUnloadMs', doc: 'keep a document loaded this long after its last client leaves', parse: integer(0, 86_400_000), allowed: 'an integer from 0 to 86400000 (ms)' },
  MAX_DOCUMENTS: { key: 'maxDocuments', doc: 'most documents loaded at once (idle ones are evicted first)', parse: integer(0, 10_000_000), allowed: 'an integer from 0 (no cap) to 10000000' },
  DATABASE_URL: { key: 'databaseUrl', doc: 'store documents in PostgreSQL instead of DB_PATH', parse: url(['postgres:', 'postgresql:']), allowed: 'a postgres:// or postgresql:// URL', secret: true },
  REDIS_URL: { key: 'redisUrl', doc: 'share edits and awareness with other instances through Redis', parse: url(['redis:', 'rediss:']), allowed: 'a redis:// or rediss:// URL', secret: true },
  REDIS_PREFIX: { key: 'redisPrefix', doc: 'prefix of the Redis channels and keys', parse: (raw) => (/^[\w.:-]{1,64}$/.test(raw) ? raw : undefined), allowed: 'letters, digits, _ . : - (at most 64)' },
  PRESENCE_HEARTBEAT_MS: { key: 'presenceHeartbeatMs', doc: 'how often an instance announces itself and its clients in Redis', parse: integer(100, 60_000), allowed: 'an integer from 100 to 60000 (ms)' },
  PRESENCE_DEAD_AFTER_MS: { key: 'presenceDeadAfterMs', doc: 'an instance silent this long is dead: its clients leave the others’ presence', parse: integer(200, 600_000), allowed: 'an integer from 200 to 600000 (ms), at least twice PRESENCE_HEARTBEAT_MS' },
  JWT_SECRET: { key: 'jwtSecret', doc: 'token key: HS256 shared secret (no key at all = open mode)', parse: secret, allowed: `a secret of at least ${MIN_SECRET_BYTES} bytes (e.g. openssl rand -base64 48)`, secret: true },
  JWT_PUBLIC_KEY: { key: 'jwtPublicKey', doc: 'token key: PEM public key (RS256 / ES256)', parse: publicKeyPem, allowed: 'a PEM public key: RSA of at least 2048 bits (RS256) or EC P-256 (ES256)', secret: true },
  JWKS_FILE: { key: 'jwksFile', doc: 'token keys: a local JSON Web Key Set file, picked by kid', parse: nonEmpty, allowed: 'the path of a JSON Web Key Set file' },
  JWT_AUDIENCE: { key: 'jwtAudience', doc: 'required aud of every token', parse: nonEmpty, allowed: 'the audience (aud) every token must name' },
  JWT_ISSUER: { key: 'jwtIssuer', doc: 'required iss of every token', parse: nonEmpty, allowed: 'the issuer (iss) every token must name' },
  TOKEN_REFRESH_BEFORE_MS: { key: 'tokenRefreshBeforeMs', doc: 'ask a client for a fresh token this long before its token expires', parse: integer(0, 86_400_000), allowed: 'an integer from 0 to 86400000 (ms)' },
  METRICS_TOKEN: { key: 'metricsToken', doc: 'bearer token for /metrics (required to read it when a token key is set)', parse: secret, allowed: `a token of at least ${MIN_SECRET_BYTES} bytes (e.g. openssl rand -base64 32)`, secret: true },
  AWARENESS_MAX_BYTES: { key: 'awarenessMaxBytes', doc: 'largest awareness state one client may publish', parse: integer(256, 1024 ** 2), allowed: 'an integer from 256 to 1048576 (bytes)' },
  AWARENESS_MAX_RATE: { key: 'awarenessMaxRate', doc: 'awareness updates per second a connection may publish per document', parse: integer(1, 1000), allowed: 'an integer from 1 to 1000 (updates per second)' },
  MAX_UPDATE_BYTES: { key: 'maxUpdateBytes', doc: 'largest Yjs update in one message (socket or REST)', parse: integer(1024, 1024 ** 3), allowed: 'an integer from 1024 to 1073741824 (bytes)' },
  MAX_DOCUMENT_BYTES: { key: 'maxDocumentBytes', doc: 'largest stored size of a document; a write past it is refused', parse: integer(1024, 1024 ** 4), allowed: 'an integer of at least 1024 (bytes)' },
  RATE_LIMIT_PER_SECOND: { key: 'rateLimitPerSecond', doc: 'messages per second one socket may send on average', parse: integer(1, 1_000_000), allowed: 'an integer from 1 to 1000000 (messages per second)' },
  RATE_LIMIT_BURST: { key: 'rateLimitBurst', doc: 'messages a socket may send at once before the rate applies', parse: integer(1, 1_000_000), allowed: 'an integer from 1 to 1000000 (messages)' },
  MAX_DOCUMENTS_PER_SOCKET: { key: 'maxDocumentsPerSocket', doc: 'distinct documents one socket may open', parse: integer(1, 100_000), allowed: 'an integer from 1 to 100000' },
  AUTH_TIMEOUT_MS: { key: 'authTimeoutMs', doc: 'close a socket that has authenticated no document within this time', parse: integer(100, 3_600_000), allowed: 'an integer from 100 to 3600000 (ms)' },
  PREAUTH_QUEUE_BYTES: { key: 'preauthQueueBytes', doc: 'bytes a socket may queue before its first document is authenticated', parse: integer(1024, 1024 ** 3), allowed: 'an integer from 1024 to 1073741824 (bytes)' },
  PREAUTH_QUEUE_MESSAGES: { key: 'preauthQueueMessages', doc: 'messages a socket may queue before its first document is authenticated', parse: integer(1, 1_000_000), allowed: 'an integer from 1 to 1000000' },
  MAX_CONNECTIONS_PER_IP: { key: 'maxConnectionsPerIp', doc: 'open sockets per client address', parse: integer(0, 10_000_000), allowed: 'an integer from 0 (no limit) to 10000000' },
  TRUST_PROXY: { key: 'trustProxy', doc: 'proxies in front whose X-Forwarded-For to trust', parse: integer(0, 10), allowed: 'the number of proxies in front (0 to 10; 0 = none)' },
  DOC_NAME_MAX_LENGTH: { key: 'docNameMaxLength', doc: 'longest document name, in characters', parse: integer(1, 4096), allowed: 'an integer from 1 to 4096' },
  ALLOWED_ORIGINS: { key: 'allowedOrigins', doc: 'browser origins allowed to open sockets (empty: any) and to call /api cross-origin (empty: none)', shownDefault: 'empty', parse: origins, allowed: "a comma-separated list of origins like https://app.example.com, or '*'" },
  API_RATE_LIMIT_PER_SECOND: { key: 'apiRateLimitPerSecond', doc: 'REST requests per second per token', parse: integer(0, 1_000_000), allowed: 'an integer from 0 (no limit) to 1000000 (requests per second per token)' },
  API_RATE_LIMIT_BURST: { key: 'apiRateLimitBurst', doc: 'REST requests a token may make at once', parse: integer(1, 1_000_000), allowed: 'an integer from 1 to 1000000 (requests)' },
  API_RATE_LIMIT_PER_IP_PER_SECOND: { key: 'apiRateLimitPerIpPerSecond', doc: 'REST requests per second per client address', parse: integer(0, 1_000_000), allowed: 'an integer from 0 (no limit) to 1000000 (requests per second per address)' },
  API_RATE_LIMIT_PER_IP_BURST: { key: 'apiRateLimitPerIpBurst', doc: 'REST requests an address may make at once', parse: integer(1, 1_000_000), allowed: 'an integer from 1 to 1000000 (requests)' },
  HTTP_HEADERS_TIMEOUT_MS: { key: 'httpHeadersTimeoutMs', doc: 'time a client has to send the request headers', parse: integer(1000, 600_000), allowed: 'an integer from 1000 to 600000 (ms), at most HTTP_REQUEST_TIMEOUT_MS' },
  HTTP_REQUEST_TIMEOUT_MS: { key: 'httpRequestTimeoutMs', doc: 'time a client has to send a whole request', parse: integer(1000, 3_600_000), allowed: 'an integer from 1000 to 3600000 (ms)' },
  HTTP_MAX_HEADER_BYTES: { key: 'httpMaxHeaderBytes', doc: 'largest request header block', parse: integer(1024, 1024 * 1024), allowed: 'an integer from 1024 to 1048576 (bytes)' },
  VERSION_EVERY_MS: { key: 'versionEveryMs', doc: 'save an automatic version this long after the first change since the last one', parse: integer(0, 604_800_000), allowed: 'an integer from 0 (no automatic versions) to 604800000 (ms, 7 days)' },
  VERSION_KEEP: { key: 'versionKeep', doc: 'automatic versions kept per document', parse: integer(1, 1_000_000), allowed: 'an integer from 1 to 1000000 (automatic versions per document)' },
  VERSION_KEEP_NAMED: { key: 'versionKeepNamed', doc: 'named and pre-restore versions kept per document', parse: integer(0, 1_000_000), allowed: 'an integer from 0 (keep forever) to 1000000 (named versions per document)' },
  EVENTS: { key: 'events', doc: 'the change feed: events stored with the changes, SSE at /api/events, webhooks', parse: onOff, allowed: "'on' or 'off'", shownDefault: 'on' },
  EVENTS_WINDOW_MS: { key: 'eventsWindowMs', doc: 'document.updated is coalesced per document over this window', parse: integer(10, 600_000), allowed: 'an integer from 10 to 600000 (ms)' },
  EVENTS_RETENTION_MS: { key: 'eventsRetentionMs', doc: 'events are kept this long; an older cursor gets 410', parse: integer(60_000, 31_536_000_000), allowed: 'an integer from 60000 to 31536000000 (ms, one year)' },
  EVENTS_PRESENCE: { key: 'eventsPresence', doc: 'presence.joined / presence.left events: a user’s first connection to a document, and their last leaving it', parse: onOff, allowed: "'on' or 'off'", shownDefault: 'off' },
  STREAMS_PER_IP: { key: 'streamsPerIp', doc: 'event streams (SSE) open at once per client address', parse: integer(1, 100_000), allowed: 'an integer from 1 to 100000' },
  STREAM_KEEPALIVE_MS: { key: 'streamKeepAliveMs', doc: 'a keep-alive comment on an idle event stream this often', parse: integer(100, 300_000), allowed: 'an integer from 100 to 300000 (ms)' },
  STREAM_MAX_BUFFERED_BYTES: { key: 'streamMaxBufferedBytes', doc: 'an event stream whose reader leaves this much unread is cut off', parse: integer(1024, 1024 ** 3), allowed: 'an integer from 1024 to 1073741824 (bytes)' },
  HTTP_FALLBACK: { key: 'httpFallback', doc: 'the HTTP fallback transport (POST + SSE) for clients whose WebSockets are blocked', parse: onOff, allowed: "'on' or 'off'", shownDefault: 'on' },
  FALLBACK_BACKLOG_BYTES: { key: 'fallbackBacklogBytes', doc: 'an HTTP fallback session whose reader leaves this much unconfirmed is closed', parse: integer(65_536, 1024 ** 3), allowed: 'an integer from 65536 to 1073741824 (bytes)' },
  WEBHOOKS_FILE: { key: 'webhooksFile', doc: 'JSON file of webhook endpoints set by the deployment', parse: nonEmpty, allowed: 'the path of a JSON file (docs/events.md#webhooks)' },
  WEBHOOK_TIMEOUT_MS: { key: 'webhookTimeoutMs', doc: 'a webhook request not answered within this fails', parse: integer(100, 300_000), allowed: 'an integer from 100 to 300000 (ms)' },
  WEBHOOK_RETRY_FOR_MS: { key: 'webhookRetryForMs', doc: 'a failing webhook delivery is retried this long, then parked as failed', parse: integer(0, 2_592_000_000), allowed: 'an integer from 0 to 2592000000 (ms, 30 days)' },
  WEBHOOK_BACKOFF_MS: { key: 'webhookBackoffMs', doc: 'the first webhook retry waits about this long; each next one twice as long (at most 10 min)', parse: integer(10, 600_000), allowed: 'an integer from 10 to 600000 (ms)' },
  WEBHOOK_ALLOW_PRIVATE: { key: 'webhookAllowPrivate', doc: 'let webhooks reach loopback and private addresses (tests, private networks)', parse: onOff, allowed: "'on' or 'off'", shownDefault: 'off' },
}

export class ConfigError extends Error {
  readonly problems: string[]
  constructor(problems: string[]) {
    // One problem is one line; several are one line each under the heading.
    super(problems.length === 1 ? `Invalid configuration: ${problems[0]}` : `Invalid configuration:\n  ${problems.join('\n  ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

/** Read and validate configuration from an environment map. Throws ConfigError naming every bad variable. */
export function parseConfig(env: Record<string, string | undefined>): CollabConfig {
  const config: CollabConfig = { ...defaultConfig }
  const problems: string[] = []
  for (const [name, spec] of Object.entries(ENV_VARS)) {
    const raw = env[name]
    if (raw === undefined || raw === '') continue
    const value = spec.parse(raw)
    if (value === undefined) {
      const shown = spec.secret ? ' (value not shown: it may hold a secret)' : `=${JSON.stringify(raw)}`
      problems.push(`${name}${shown} is not valid: expected ${spec.allowed}`)
      continue
    }
    ;(config as unknown as Record<string, unknown>)[spec.key] = value
  }
  const keys = ['JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWKS_FILE'].filter((name) => env[name])
  if (keys.length > 1) problems.push(`${keys.join(' and ')} are set: configure exactly one token key`)
  if (config.httpHeadersTimeoutMs > config.httpRequestTimeoutMs) problems.push('HTTP_HEADERS_TIMEOUT_MS is longer than HTTP_REQUEST_TIMEOUT_MS: the headers are part of the request')
  if (config.presenceDeadAfterMs < 2 * config.presenceHeartbeatMs) {
    problems.push(`PRESENCE_DEAD_AFTER_MS=${config.presenceDeadAfterMs} is not valid: expected at least twice PRESENCE_HEARTBEAT_MS (${config.presenceHeartbeatMs})`)
  }
  // Open mode (no key) keeps the loopback default; with a key, listen on every interface unless HOST says otherwise.
  if (!env.HOST && hasKey(config)) config.host = '0.0.0.0'
  if (problems.length > 0) throw new ConfigError(problems)
  return config
}
