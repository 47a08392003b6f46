/**
 * Debian's nginx as a proxy that refuses WebSocket upgrades, running the
 * configuration docs/protocol.md shows (its `server` block, ports changed).
 */
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'
import { freePort, waitForPort } from '../../scripts/cluster/services.ts'
import { tempDir } from './server.ts'

/** The nginx `server` block of docs/protocol.md, listening on `port` and passing to `upstream`. */
function documentedServerBlock(port: number, upstream: number): string {
  const md = readFileSync('docs/protocol.md', 'utf8')
  const block = /### Behind a proxy that refuses upgrades[\s\S]*?```nginx\n([\s\S]*?)```/.exec(md)?.[1]
  if (!block) throw new Error('docs/protocol.md shows no nginx block')
  return block.replace('listen 8080;', `listen 127.0.0.1:${port};`).replace('http://127.0.0.1:1234', `http://127.0.0.1:${upstream}`)
}

/** nginx with that block, on a free port; stopped (by its PID) when the test ends. */
export async function blockingProxy(upstream: number): Promise<number> {
  const dir = tempDir('collab-nginx-')
  const port = await freePort()
  for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub))
  const conf = join(dir, 'nginx.conf')
  writeFileSync(
    conf,
    `worker_processes 1;
error_log ${join(dir, 'error.log')} warn;
pid ${join(dir, 'nginx.pid')};
${process.getuid?.() === 0 ? 'user root;' : ''}
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${documentedServerBlock(port, upstream)}
}
`,
  )
  const proc = spawn('nginx', ['-c', conf, '-p', dir, '-g', 'daemon off;'], { stdio: 'ignore' })
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve()
        proc.once('exit', () => resolve())
        proc.kill('SIGTERM')
      }),
  )
  await waitForPort(port, proc)
  return port
}
