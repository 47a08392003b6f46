/**
 * Start real Redis, PostgreSQL and nginx servers from Debian's packages on
 * loopback, in a directory of their own, for the tests and for
 * `npm run multinode`. Every process is ended by its PID.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { join } from 'node:path'

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

/** Spawn and wait for a line on stdout/stderr that says it is ready. */
function spawnUntil(cmd: string, args: string[], ready: RegExp, options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env })
    let out = ''
    const timer = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new Error(`${cmd} did not become ready: ${out.slice(-2000)}`))
    }, options.timeoutMs ?? 20_000)
    const onData = (d: Buffer) => {
      out += d.toString()
      if (ready.test(out)) {
        clearTimeout(timer)
        proc.stdout!.removeAllListeners('data')
        proc.stderr!.removeAllListeners('data')
        proc.stdout!.resume()
        proc.stderr!.resume()
        resolve(proc)
      }
    }
    proc.stdout!.on('data', onData)
    proc.stderr!.on('data', onData)
    proc.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${cmd} exited (${code}): ${out.slice(-2000)}`))
    })
  })
}

/** Resolve once 127.0.0.1:`port` accepts a connection; reject if `proc` exits first or after 20 s. */
export async function waitForPort(port: number, proc?: ChildProcess): Promise<void> {
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    if (proc && (proc.exitCode !== null || proc.signalCode !== null)) throw new Error(`process exited (${proc.exitCode ?? proc.signalCode}) before listening on ${port}`)
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (open) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`nothing listens on ${port} after 20 s`)
}

function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => proc.once('exit', () => resolve()))
}

export interface RedisServer {
  port: number
  url: string
  pid(): number | undefined
  start(): Promise<void>
  stop(): Promise<void>
}

/** redis-server on 127.0.0.1, no persistence; with `password`, clients must AUTH with it (`url` does not carry it). */
export async function startRedis(options: { port?: number; password?: string } = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort())
  let proc: ChildProcess | undefined
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: () => proc?.pid,
    async start() {
      proc = await spawnUntil('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', ...(options.password ? ['--requirepass', options.password] : [])], /Ready to accept connections/)
    },
    async stop() {
      if (!proc) return
      const p = proc
      proc = undefined
      p.kill('SIGKILL')
      await exited(p)
    },
  }
  await server.start()
  return server
}

function pgBin(name: string): string {
  const root = '/usr/lib/postgresql'
  const version = readdirSync(root).sort().at(-1)
  if (!version) throw new Error('PostgreSQL is not installed (apt-get install postgresql)')
  return join(root, version, 'bin', name)
}

/** Run as the postgres user when we are root (PostgreSQL refuses to run as root). */
function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]
}

export interface PostgresServer {
  port: number
  url: string
  start(): Promise<void>
  stop(): Promise<void>
  /** Create a database and return its URL. */
  createDatabase(name: string): string
}

/** A throwaway PostgreSQL cluster in `dir`, on 127.0.0.1, trust auth. */
export async function startPostgres(options: { dir: string; port?: number }): Promise<PostgresServer> {
  const port = options.port ?? (await freePort())
  const data = join(options.dir, 'pgdata')
  if (!existsSync(data)) {
    mkdirSync(data, { recursive: true })
    if (process.getuid?.() === 0) execFileSync('chown', ['-R', 'postgres:postgres', options.dir])
    const [cmd, args] = asPostgres(pgBin('initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'])
    execFileSync(cmd, args, { stdio: 'pipe' })
  }
  const ctl = (action: string, extra: string[] = []) => {
    const [cmd, args] = asPostgres(pgBin('pg_ctl'), ['-D', data, '-w', '-t', '30', ...extra, action])
    execFileSync(cmd, args, { stdio: 'pipe' })
  }
  const server: PostgresServer = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      ctl('start', ['-l', join(options.dir, 'postgres.log'), '-o', `-p ${port} -k ${options.dir} -c listen_addresses=127.0.0.1 -c fsync=off`])
    },
    async stop() {
      ctl('stop', ['-m', 'immediate'])
    },
    createDatabase(name: string) {
      const [cmd, args] = asPostgres(pgBin('createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', name])
      execFileSync(cmd, args, { stdio: 'pipe' })
      return `postgres://postgres@127.0.0.1:${port}/${name}`
    },
  }
  await server.start()
  return server
}

export interface NginxServer {
  port: number
  stop(): Promise<void>
}

/**
 * nginx on 127.0.0.1:`port`, balancing WebSockets and HTTP over `upstreams`
 * (ports) — or running `config(port)` instead (a test's own proxy).
 */
export async function startNginx(options: { dir: string; port?: number; upstreams?: number[]; config?: (port: number) => string }): Promise<NginxServer> {
  const port = options.port ?? (await freePort())
  mkdirSync(options.dir, { recursive: true })
  const conf = join(options.dir, 'nginx.conf')
  writeFileSync(conf, options.config ? options.config(port) : nginxConfig(port, options.upstreams ?? [], options.dir))
  const proc = spawn('nginx', ['-c', conf, '-p', options.dir, '-g', 'daemon off;'], { stdio: 'ignore' })
  // nginx prints nothing when it starts fine: wait until its port accepts connections.
  await waitForPort(port, proc)
  return {
    port,
    async stop() {
      // SIGTERM: the master stops its workers too (SIGKILL would orphan them).
      proc.kill('SIGTERM')
      await exited(proc)
    },
  }
}

/** An nginx.conf whose files all live in `dir` (root may run it), with `http` holding `httpBody`. */
export function nginxMain(dir: string, httpBody: string, workerConnections = 4096): string {
  return `
worker_processes 1;
error_log ${join(dir, 'error.log')} warn;
pid ${join(dir, 'nginx.pid')};
${process.getuid?.() === 0 ? 'user root;' : ''}
events { worker_connections ${workerConnections}; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${httpBody}
}
`
}

export function nginxConfig(port: number, upstreams: number[], dir: string): string {
  return nginxMain(
    dir,
    `  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream collab {
${upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://collab;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 3600s;
      proxy_next_upstream error timeout http_502 http_503;
      proxy_connect_timeout 2s;
    }
  }`,
  )
}
