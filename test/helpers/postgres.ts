import { afterAll, beforeAll } from 'vitest'
import { type PostgresServer, startPostgres } from '../../scripts/cluster/services.ts'
import { tempDirOutsideTest } from './server.ts'

/**
 * A real PostgreSQL for the test file that calls this (started before its
 * tests, stopped after them); the function it returns makes a fresh database
 * for one test, named `prefix` and a counter, and gives its connection string.
 */
export function postgresForFile(prefix: string): () => string {
  let server: PostgresServer | undefined
  let count = 0
  beforeAll(async () => {
    server = await startPostgres({ dir: tempDirOutsideTest('collab-pg-') })
  })
  afterAll(async () => {
    await server?.stop()
  })
  return () => {
    if (!server) throw new Error('PostgreSQL is not started yet: make databases inside tests')
    return server.createDatabase(`${prefix}_${process.pid}_${++count}`)
  }
}
