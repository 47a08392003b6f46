import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { provider, settled } from '../helpers/clients.ts'
import { spawnServer } from '../helpers/process.ts'
import { appendText, call, docPath } from '../helpers/rest.ts'
import { tempDir } from '../helpers/server.ts'
import { AUDIENCE, ISSUER, SECRET, tokenFor } from '../helpers/tokens.ts'

const ROUNDS = 5

describe('REST writes and kill -9', () => {
  it('a REST write reaches a connected provider, and every 2xx survives SIGKILL right after it', async () => {
    const env = { DB_PATH: join(tempDir(), 'collab.db'), JWT_SECRET: SECRET, JWT_AUDIENCE: AUDIENCE, JWT_ISSUER: ISSUER }
    const token = await tokenFor('ada', { 'team/*': 'write' })
    let server = await spawnServer(env)
    const expected: string[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const live = provider(server.url, 'team/durable', { token })
      await settled(live)
      const state = await call(server.http, 'GET', docPath('team/durable'), { token, accept: 'application/octet-stream' })
      const line = `line ${round}. `
      const r = await call(server.http, 'POST', docPath('team/durable', '/updates'), { token, body: appendText(line, 'codemirror', state.bytes) })
      expect(r.status).toBe(200)
      expected.push(line)
      // Nothing else happens between the 2xx and the kill: the write must already be on disk.
      server.proc.kill('SIGKILL')
      await server.exited
      // The provider had it before the kill, as a broadcast (the kill came right after the 2xx, so no
      // later sync could have brought it).
      await vi.waitFor(() => expect(live.document.getText('codemirror').toString()).toBe(expected.join('')))
      live.destroy()

      server = await spawnServer(env, { port: server.port })
      const back = await call(server.http, 'GET', docPath('team/durable', '?type=codemirror'), { token })
      expect([back.status, back.text]).toEqual([200, expected.join('')])
    }
    server.proc.kill('SIGTERM')
    expect(await server.exited).toBe(0)
  })
})
