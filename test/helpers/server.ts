import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'
import { pino } from 'pino'
import { createCollabServer, type CollabServer, type CollabServerOptions } from '../../server/app.ts'
import type { CollabConfig } from '../../server/config.ts'

/** A fresh temporary directory, removed when the test ends. */
export function tempDir(prefix = 'collab-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A fresh temporary directory for a whole file (beforeAll); removed at process exit. */
export function tempDirOutsideTest(prefix = 'collab-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * Start the real server in-process on a free loopback port with a real SQLite
 * file in a temp dir; it is closed when the test ends.
 */
export async function startServer(
  config: Partial<CollabConfig> = {},
  options: CollabServerOptions = {},
): Promise<CollabServer> {
  const server = createCollabServer(
    { port: 0, host: '127.0.0.1', dbPath: join(tempDir(), 'collab.db'), logLevel: 'silent', ...config },
    { logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), ...options },
  )
  await server.listen()
  onTestFinished(() => server.close())
  return server
}
