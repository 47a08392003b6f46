/**
 * Debian's nginx as a proxy that refuses WebSocket upgrades, running the
 * configuration docs/protocol.md shows (its `server` block, ports changed).
 */
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'
import { nginxMain, startNginx } from '../../scripts/cluster/services.ts'
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
  for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub))
  const nginx = await startNginx({ dir, config: (port) => nginxMain(dir, documentedServerBlock(port, upstream), 256) })
  onTestFinished(() => nginx.stop())
  return nginx.port
}
