/**
 * Logs for people and machines: JSON lines when stdout is not a terminal (or
 * LOG_FORMAT=json), a readable format with LOG_FORMAT=pretty, the same start-up
 * facts either way — where the page, the socket and the database are (never a
 * password) and the mode — and a port in use is one plain line with its exit code.
 */
import { createServer } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ExitCode } from '../../server/exit-codes.ts'
import { freePort, spawnMain } from '../helpers/process.ts'
import { tempDir } from '../helpers/server.ts'
import { SECRET } from '../helpers/tokens.ts'

const LISTENING = 'collab server listening'

/** Start `node server/main.ts`, wait for its start-up line, stop it (SIGTERM, exit 0); everything it printed. */
async function startupOutput(env: Record<string, string>): Promise<{ output: string; http: string }> {
  const main = await spawnMain(env)
  await main.waitFor(LISTENING)
  // A later line (the shutdown's) is the barrier: the start-up line has been written whole.
  main.proc.kill('SIGTERM')
  expect(await main.exited).toBe(ExitCode.Ok)
  return { output: main.output(), http: main.http }
}

function jsonLines(output: string): Array<Record<string, unknown>> {
  return output.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as Record<string, unknown>)
}

describe('log format', () => {
  it('auto (the default) with stdout a pipe: JSON lines, the start-up line with page, socket, database and mode', async () => {
    const dbPath = join(tempDir(), 'collab.db')
    const { output, http } = await startupOutput({ DB_PATH: dbPath })
    const lines = jsonLines(output)
    const start = lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith(LISTENING))
    expect(start).toBeDefined()
    expect(start).toMatchObject({ page: `${http}/`, socket: `${http.replace('http', 'ws')}/ws`, database: `SQLite ${dbPath}`, mode: 'open' })
    // The same facts in plain words in the message itself.
    expect(start!.msg).toContain(`${http}/`)
    expect(start!.msg).toContain(dbPath)
    expect(start!.msg).toContain('open mode')
  })

  it('LOG_FORMAT=json: JSON lines; authenticated mode with a token key', async () => {
    const { output } = await startupOutput({ LOG_FORMAT: 'json', JWT_SECRET: SECRET })
    const start = jsonLines(output).find((l) => typeof l.msg === 'string' && l.msg.startsWith(LISTENING))
    expect(start).toMatchObject({ mode: 'authenticated' })
    expect(start!.msg).toContain('authenticated mode')
    expect(output).not.toContain(SECRET)
  })

  it('LOG_FORMAT=pretty: not JSON, and the same fields', async () => {
    const { output, http } = await startupOutput({ LOG_FORMAT: 'pretty' })
    const line = output.split('\n').find((l) => l.includes(LISTENING))
    expect(line).toBeDefined()
    expect(() => JSON.parse(line!)).toThrow()
    for (const field of ['page', 'socket', 'database', 'mode']) expect(output).toMatch(new RegExp(`^\\s+${field}: `, 'm'))
    expect(output).toContain(`${http}/`)
    expect(output).toContain(':memory:')
  })

  it('PostgreSQL: the start-up line names host and database, never the password', async () => {
    const port = await freePort() // nothing listens there: not fatal at start
    const password = 'Pg-Startup-Passw0rd'
    const { output } = await startupOutput({ DATABASE_URL: `postgres://alice:${password}@127.0.0.1:${port}/collabdb`, LOG_FORMAT: 'json' })
    const start = jsonLines(output).find((l) => typeof l.msg === 'string' && l.msg.startsWith(LISTENING))
    expect(start).toMatchObject({ database: `PostgreSQL alice@127.0.0.1:${port}/collabdb` })
    expect(output).not.toContain(password)
  })
})

describe('cannot listen', () => {
  it('a port already in use: one plain line, exit code ExitCode.Listen, no stack trace', async () => {
    const port = await freePort()
    const holder = createServer()
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve))
    onTestFinished(() => new Promise<void>((resolve) => holder.close(() => resolve())))
    const main = await spawnMain({ PORT: String(port) })
    expect(await main.exited).toBe(ExitCode.Listen)
    // Log lines before it (JSON: stdout is a pipe) aside, the failure is one plain line.
    const lines = main.output().split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(`127.0.0.1:${port}`)
    expect(lines[0]).toContain('EADDRINUSE')
    expect(main.output()).not.toMatch(/^\s+at /m)
  })
})
