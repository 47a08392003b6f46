import { randomUUID } from 'node:crypto'
import { afterAll, onTestFinished } from 'vitest'
import { startNginx, startPostgres, startRedis, type NginxServer, type PostgresServer, type RedisServer } from '../../scripts/cluster/services.ts'
import { type ServerProcess, spawnServer } from './process.ts'
import { tempDirOutsideTest } from './server.ts'

/** One Redis and one PostgreSQL per test file, started on first use, stopped after the file. */
export class Services {
  private redisServer: RedisServer | undefined
  private pgServer: PostgresServer | undefined
  private databases = 0

  constructor() {
    afterAll(async () => {
      await this.redisServer?.stop()
      await this.pgServer?.stop()
    })
  }

  async redis(): Promise<RedisServer> {
    this.redisServer ??= await startRedis()
    return this.redisServer
  }

  async postgres(): Promise<PostgresServer> {
    this.pgServer ??= await startPostgres({ dir: tempDirOutsideTest('collab-pg-') })
    return this.pgServer
  }

  /** A fresh database on the file's PostgreSQL. */
  async database(): Promise<string> {
    return (await this.postgres()).createDatabase(`t${process.pid}_${++this.databases}`)
  }
}

export interface Cluster {
  env: Record<string, string>
  nodes: ServerProcess[]
  lb?: NginxServer
  /** ws:// URL through the load balancer. */
  lbUrl?: string
  /** Start node i again (same port) after it was killed. */
  restart(i: number): Promise<ServerProcess>
}

/** `n` server processes sharing one database and one Redis prefix, optionally behind nginx. */
export async function startCluster(services: Services, options: { nodes: number; nginx?: boolean; env?: Record<string, string> }): Promise<Cluster> {
  const redis = await services.redis()
  const env = {
    DATABASE_URL: await services.database(),
    REDIS_URL: redis.url,
    REDIS_PREFIX: `t-${randomUUID().slice(0, 8)}`,
    DOC_IDLE_UNLOAD_MS: '0',
    ...options.env,
  }
  const nodes = await Promise.all(Array.from({ length: options.nodes }, () => spawnServer(env)))
  const cluster: Cluster = {
    env,
    nodes,
    async restart(i) {
      nodes[i] = await spawnServer(env, { port: nodes[i]!.port })
      return nodes[i]!
    },
  }
  if (options.nginx) {
    cluster.lb = await startNginx({ dir: tempDirOutsideTest('collab-nginx-'), upstreams: nodes.map((n) => n.port) })
    cluster.lbUrl = `ws://127.0.0.1:${cluster.lb.port}/ws`
    onTestFinished(() => cluster.lb!.stop())
  }
  return cluster
}
