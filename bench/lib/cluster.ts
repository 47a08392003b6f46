/**
 * scale-out's shared services and its targets: one real redis-server and one
 * real PostgreSQL (scripts/cluster/services.ts, loopback, PostgreSQL with
 * fsync=off) per scenario run, and for each target the environment that joins
 * an instance to them. The services are stopped by PID at the end — also when
 * the bench exits early (exit hook) or is interrupted (SIGINT/SIGTERM).
 */
import { randomUUID } from 'node:crypto'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { type PostgresServer, type RedisServer, startPostgres, startRedis } from '../../scripts/cluster/services.ts'
import type { ServiceProbe } from '../run/deployment.ts'
import { sampleProc, sampleTree } from './proc.ts'
import { say } from './progress.ts'
import { TARGETS, type TargetSpec, tempDir } from './targets.ts'

export interface SharedServices {
  redisUrl: string
  /** A fresh, empty database on the shared PostgreSQL; its URL. */
  database(): string
  probes(use: { redis: boolean; postgres: boolean }): ServiceProbe[]
  stop(): Promise<void>
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function gone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (alive(pid)) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 50))
  }
  return true
}

export async function startServices(): Promise<SharedServices> {
  const dir = tempDir('scale-out-services')
  let redis: RedisServer | undefined
  let postgres: PostgresServer | undefined
  let redisPid: number | undefined
  let postgresPid: number | undefined
  // Last resort if the bench leaves without stop(): the exit hook is synchronous, so signals only.
  const onExit = () => {
    if (redisPid !== undefined && alive(redisPid)) process.kill(redisPid, 'SIGKILL')
    if (postgresPid !== undefined && alive(postgresPid)) {
      process.kill(postgresPid, 'SIGQUIT') // immediate shutdown, backends too
      // Let it finish removing its files (at most 3 s) before the directory goes.
      const nap = new Int32Array(new SharedArrayBuffer(4))
      for (let waited = 0; alive(postgresPid) && waited < 3000; waited += 20) Atomics.wait(nap, 0, 0, 20)
    }
    try {
      rmSync(dir, { recursive: true, force: true })
    } catch (error) {
      process.stderr.write(`could not remove ${dir}: ${String(error)}\n`)
    }
  }
  const onSignal = () => process.exit(130) // runs the exit hooks: ours and spawn.ts's (targets)
  process.on('exit', onExit)
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  let databases = 0
  const stop = async () => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    const problems: string[] = []
    if (redis) await redis.stop() // SIGKILL to its PID
    if (postgres && postgresPid !== undefined) {
      try {
        await postgres.stop() // pg_ctl stop -m immediate: SIGQUIT to the postmaster's PID
      } catch (error) {
        problems.push(`pg_ctl stop failed (${String(error).split('\n')[0]}); sending SIGQUIT to ${postgresPid}`)
        if (alive(postgresPid)) process.kill(postgresPid, 'SIGQUIT')
      }
      if (!(await gone(postgresPid, 10_000))) {
        problems.push(`PostgreSQL ${postgresPid} still up; SIGKILL`)
        process.kill(postgresPid, 'SIGKILL')
      }
    }
    process.off('exit', onExit)
    rmSync(dir, { recursive: true, force: true })
    for (const p of problems) say(`scale-out services: ${p}`)
  }
  try {
    redis = await startRedis()
    redisPid = redis.pid()
    postgres = await startPostgres({ dir })
    postgresPid = Number(readFileSync(join(dir, 'pgdata', 'postmaster.pid'), 'utf8').split('\n')[0])
    if (!Number.isInteger(postgresPid) || postgresPid <= 0) throw new Error('no PostgreSQL PID in postmaster.pid')
  } catch (error) {
    await stop()
    throw error
  }
  const { url: redisUrl } = redis
  const pg = postgres
  const pgPid = postgresPid
  say(`scale-out services: redis-server pid ${redisPid ?? '?'} on ${redisUrl}, PostgreSQL pid ${pgPid} on port ${pg.port} (fsync=off)`)
  return {
    redisUrl,
    database: () => pg.createDatabase(`bench_${process.pid}_${++databases}`),
    probes: (use) => [
      ...(use.redis && redisPid !== undefined ? [{ name: 'redis-server', rss: true, sample: () => sampleProc(redisPid as number) }] : []),
      ...(use.postgres ? [{ name: 'postgresql', rss: false, sample: () => sampleTree(pgPid) }] : []),
    ],
    stop,
  }
}

/** How scale-out runs a target: the instance's spec, which services it uses, and the environment that joins it to them. */
export interface ClusterTarget {
  spec: TargetSpec
  uses: { redis: boolean; postgres: boolean }
  /** Environment shared by every instance of one deployment. */
  env(services: SharedServices): Record<string, string>
}

const prefix = (name: string) => `bench-${name}-${randomUUID().slice(0, 8)}`

/**
 * `collab`: this server, every instance on one PostgreSQL database and, with
 * `redis`, one Redis prefix. `hocuspocus`: bare Hocuspocus 4 +
 * @hocuspocus/extension-redis (bench/peers/hocuspocus.ts, BENCH_REDIS_URL).
 */
export function clusterTarget(name: string, redis: boolean): ClusterTarget | undefined {
  const collab = TARGETS.collab
  const hocuspocus = TARGETS.hocuspocus
  if (name === 'collab' && collab) {
    return {
      spec: {
        ...collab,
        label: redis
          ? 'this server: instances sharing one PostgreSQL database (DATABASE_URL) and Redis (REDIS_URL)'
          : 'this server, one instance on PostgreSQL (DATABASE_URL), no Redis: the baseline',
      },
      uses: { redis, postgres: true },
      env: (s) => ({ DATABASE_URL: s.database(), ...(redis ? { REDIS_URL: s.redisUrl, REDIS_PREFIX: prefix('collab') } : {}) }),
    }
  }
  if (name === 'hocuspocus' && hocuspocus && redis) {
    return {
      spec: { ...hocuspocus, label: 'bare Hocuspocus 4 + @hocuspocus/extension-redis (defaults), no persistence' },
      uses: { redis: true, postgres: false },
      env: (s) => ({ BENCH_REDIS_URL: s.redisUrl, BENCH_REDIS_PREFIX: prefix('hocuspocus') }),
    }
  }
  return undefined
}

export const CLUSTER_TARGETS = ['collab', 'hocuspocus']
