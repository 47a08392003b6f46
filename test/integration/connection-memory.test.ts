import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it, vi } from 'vitest'
import { authenticatedClient } from '../helpers/raw.ts'
import { startServer } from '../helpers/server.ts'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

describe('per-connection memory', () => {
  it('an open, authenticated socket does not keep its HTTP upgrade request alive', async () => {
    const server = await startServer()
    const requests: Array<WeakRef<object>> = []
    server.httpServer.prependListener('upgrade', (req) => requests.push(new WeakRef(req)))
    const clients = await Promise.all(Array.from({ length: 5 }, () => authenticatedClient(server.url, 'memory-doc')))
    expect(requests).toHaveLength(5)
    // Each IncomingMessage holds its headers, raw header strings and parser state: ~1.5 KB per idle connection.
    // A weak reference is cleared by a full collection in a later turn than its last deref: collect on every try.
    await vi.waitFor(() => {
      gc()
      expect(requests.filter((r) => r.deref() !== undefined)).toHaveLength(0)
    })
    expect(clients.every((c) => c.ws.readyState === c.ws.OPEN)).toBe(true)
  })
})
