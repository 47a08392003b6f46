/**
 * The servers the bench compares, each started as its own process on a free
 * loopback port, with the same probe preloaded into all of them.
 */
import { mkdtempSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TargetAddress } from '../loadgen/messages.ts'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const require = createRequire(import.meta.url)

export interface TargetSpec {
  name: string
  /** One line for reports. */
  label: string
  /** Module to fork. */
  entry: string
  /** Extra environment (beyond PORT and HOST). `dir` is a fresh temp dir for this run. */
  env: (dir: string) => Record<string, string>
  /** Address for clients, given the bound port. */
  address: (port: number) => TargetAddress
  /** Whether the server keeps documents (a fresh client can fetch the full state). */
  stateful: boolean
  /** Where this target keeps documents between runs, for cold-load (undefined: nowhere). */
  storage?: 'collab-sqlite' | 'hocuspocus-sqlite' | 'leveldb'
  /** This server: serves /metrics with collab_documents_loaded and collab_connections (soak reads them). */
  metrics?: boolean
}

const hocuspocusAddress = (path: string) => (port: number): TargetAddress => ({
  dialect: 'hocuspocus',
  url: `ws://127.0.0.1:${port}${path}`,
  answerStep1: true,
  acks: true,
  real: 'hocuspocus',
})

/**
 * Every bench client comes from 127.0.0.1, where real users come from many
 * addresses: lift the per-address socket cap (MAX_CONNECTIONS_PER_IP, 1000 by
 * default) so it does not stand in for capacity. All other guards stay on.
 */
export const BENCH_COLLAB_ENV = { MAX_CONNECTIONS_PER_IP: '0' }

const collabEnv = (sync: 'normal' | 'full') => (dir: string) => ({
  ...BENCH_COLLAB_ENV,
  DB_PATH: join(dir, 'collab.db'),
  DB_SYNC: sync,
  LOG_LEVEL: 'warn',
})

/** y-websocket's server lives in its package's `src/server.js` (its `bin`). */
function yWebsocketServerEntry(): string {
  return join(dirname(require.resolve('@y/websocket-server/package.json')), 'src/server.js')
}

/** The token key of `collab-tokens` (loopback only, made up for the run). */
const BENCH_JWT = { secret: 'bench-only-secret-0123456789-abcdefghijklmnopqrstuvwxyz', audience: 'collab-bench', issuer: 'https://bench.invalid' }

export const TARGETS: Record<string, TargetSpec> = {
  collab: {
    name: 'collab',
    label: 'this server as shipped (durable SQLite, DB_SYNC=normal, frame guard on)',
    entry: join(ROOT, 'server/main.ts'),
    env: collabEnv('normal'),
    address: hocuspocusAddress('/ws'),
    stateful: true,
    storage: 'collab-sqlite',
    metrics: true,
  },
  'collab-http': {
    name: 'collab-http',
    label: 'this server as shipped, its clients on the HTTP fallback (POST + SSE) instead of WebSockets',
    entry: join(ROOT, 'server/main.ts'),
    env: collabEnv('normal'),
    address: (port) => ({ ...hocuspocusAddress('/ws')(port), transport: 'http' }),
    stateful: true,
    storage: 'collab-sqlite',
    metrics: true,
  },
  'collab-full': {
    name: 'collab-full',
    label: 'this server with DB_SYNC=full (fsync per commit group)',
    entry: join(ROOT, 'server/main.ts'),
    env: collabEnv('full'),
    address: hocuspocusAddress('/ws'),
    stateful: true,
    storage: 'collab-sqlite',
    metrics: true,
  },
  'collab-tokens': {
    name: 'collab-tokens',
    label: 'this server as shipped, in token mode: every client its own user (roles and client-id ownership checked)',
    entry: join(ROOT, 'server/main.ts'),
    env: (dir) => ({ ...collabEnv('normal')(dir), JWT_SECRET: BENCH_JWT.secret, JWT_AUDIENCE: BENCH_JWT.audience, JWT_ISSUER: BENCH_JWT.issuer }),
    address: (port) => ({ ...hocuspocusAddress('/ws')(port), jwt: BENCH_JWT }),
    stateful: true,
    storage: 'collab-sqlite',
    metrics: true,
  },
  'collab-memory': {
    name: 'collab-memory',
    label: 'this server with persistence off (MemoryStorage)',
    entry: join(ROOT, 'bench/peers/collab-memory.ts'),
    env: () => ({}),
    address: hocuspocusAddress('/ws'),
    stateful: true,
    metrics: true,
  },
  hocuspocus: {
    name: 'hocuspocus',
    label: 'bare Hocuspocus 4 (`new Server()`, defaults)',
    entry: join(ROOT, 'bench/peers/hocuspocus.ts'),
    env: () => ({}),
    address: hocuspocusAddress(''),
    stateful: true,
    storage: 'hocuspocus-sqlite',
  },
  'hocuspocus-sqlite': {
    name: 'hocuspocus-sqlite',
    label: 'bare Hocuspocus 4 with @hocuspocus/extension-sqlite (loads and stores the whole state)',
    entry: join(ROOT, 'bench/peers/hocuspocus.ts'),
    env: (dir) => ({ BENCH_SQLITE_PATH: join(dir, 'hocuspocus.db'), BENCH_SQLITE_EXTENSION: '1' }),
    address: hocuspocusAddress(''),
    stateful: true,
    storage: 'hocuspocus-sqlite',
  },
  'y-websocket': {
    name: 'y-websocket',
    label: '@y/websocket-server 0.1.1 (reference y-websocket server)',
    entry: yWebsocketServerEntry(),
    env: () => ({}),
    address: (port) => ({ dialect: 'yws', url: `ws://127.0.0.1:${port}`, answerStep1: true, acks: false, real: 'y-websocket' }),
    stateful: true,
    storage: 'leveldb',
  },
  relay: {
    name: 'relay',
    label: 'raw ws relay: bytes to the room\'s other sockets, no CRDT (the ceiling)',
    entry: join(ROOT, 'bench/peers/relay.ts'),
    env: () => ({}),
    address: (port) => ({ dialect: 'yws', url: `ws://127.0.0.1:${port}`, answerStep1: false, acks: false, real: 'y-websocket' }),
    stateful: false,
  },
}

export const DEFAULT_TARGETS = ['collab', 'collab-memory', 'hocuspocus', 'y-websocket', 'relay']

export function parseTargets(list: string | undefined, fallback: string[] = DEFAULT_TARGETS): TargetSpec[] {
  const names = list ? list.split(',').map((s) => s.trim()).filter(Boolean) : fallback
  return names.map((name) => {
    const spec = TARGETS[name]
    if (!spec) throw new Error(`unknown target "${name}"; known: ${Object.keys(TARGETS).join(', ')}`)
    return spec
  })
}

export function tempDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `bench-${name}-`))
}
