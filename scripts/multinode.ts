/**
 * A real local cluster from Debian packages, on loopback:
 * redis-server, PostgreSQL, N server instances and nginx balancing them.
 *
 *   npm run multinode -- [--instances 3] [--port 8080] [--dir ./data/multinode]
 *
 * Prints the URLs, then runs until Ctrl-C (SIGINT/SIGTERM), when it stops
 * everything it started, by PID. docker-compose.yml mirrors the same topology.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { freePort, startNginx, startPostgres, startRedis, waitForPort } from './cluster/services.ts'

const { values } = parseArgs({
  options: {
    instances: { type: 'string', default: '3' },
    port: { type: 'string', default: '8080' },
    dir: { type: 'string', default: './data/multinode' },
  },
})
const count = Number(values.instances)
if (!Number.isInteger(count) || count < 1 || count > 16) throw new Error('--instances must be 1..16')
const dir = resolve(values.dir)
mkdirSync(dir, { recursive: true })

const redis = await startRedis()
const postgres = await startPostgres({ dir: resolve(dir, 'postgres') })
const ports = await Promise.all(Array.from({ length: count }, () => freePort()))
const instances: ChildProcess[] = []
for (const [i, port] of ports.entries()) {
  const proc = spawn(process.execPath, ['server/main.ts'], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: postgres.url, REDIS_URL: redis.url, REDIS_PREFIX: 'multinode' },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  instances.push(proc)
  await waitForPort(port, proc)
  console.log(`instance ${i + 1}: http://127.0.0.1:${port} (pid ${proc.pid})`)
}
const nginx = await startNginx({ dir: resolve(dir, 'nginx'), port: Number(values.port), upstreams: ports })

console.log(`
redis:     ${redis.url}
postgres:  ${postgres.url}
nginx:     http://127.0.0.1:${nginx.port}  (load balancer)
clients:   ws://127.0.0.1:${nginx.port}/ws
Ctrl-C stops everything.`)

let stopping = false
async function stop(): Promise<void> {
  if (stopping) return
  stopping = true
  await nginx.stop()
  await Promise.all(instances.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : (p.once('exit', r), p.kill('SIGTERM'))))))
  await redis.stop()
  await postgres.stop()
  process.exit(0)
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
