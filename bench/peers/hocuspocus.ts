/**
 * Bench-only entry: bare Hocuspocus 4 with its defaults — what a user gets
 * from `new Server()` — on PORT/HOST. No persistence, no guards.
 *
 * For cold-load only (BENCH_SQLITE_PATH set): documents are loaded the way
 * @hocuspocus/extension-sqlite (via extension-database) does it — the whole
 * stored state read from one `documents(name, data)` row and applied with
 * Y.applyUpdate in onLoadDocument.
 *
 * With BENCH_SQLITE_EXTENSION=1 as well (target `hocuspocus-sqlite`): the
 * stock @hocuspocus/extension-sqlite itself on that file — loads and stores,
 * the natural peer for stored documents (restart-storm, crowd, isolation).
 *
 * For scale-out only (BENCH_REDIS_URL set): @hocuspocus/extension-redis with
 * its defaults, pointed at that redis-server, channels under
 * BENCH_REDIS_PREFIX — what a user gets from the stock scale-out recipe.
 */
import { Redis } from '@hocuspocus/extension-redis'
import { SQLite } from '@hocuspocus/extension-sqlite'
import { type Extension, Server, type onLoadDocumentPayload } from '@hocuspocus/server'
import Database from 'better-sqlite3'
import * as Y from 'yjs'

const extensions: Extension[] = []
const sqlitePath = process.env.BENCH_SQLITE_PATH
if (sqlitePath && process.env.BENCH_SQLITE_EXTENSION === '1') {
  extensions.push(new SQLite({ database: sqlitePath }))
} else if (sqlitePath) {
  const db = new Database(sqlitePath, { readonly: true })
  const fetch = db.prepare<[string], { data: Buffer }>('SELECT data FROM documents WHERE name = ?')
  extensions.push({
    async onLoadDocument({ documentName, document }: onLoadDocumentPayload) {
      const row = fetch.get(documentName)
      if (row) Y.applyUpdate(document, new Uint8Array(row.data))
    },
  })
}

const redisUrl = process.env.BENCH_REDIS_URL
if (redisUrl) {
  const { hostname, port } = new URL(redisUrl)
  extensions.push(new Redis({ host: hostname, port: Number(port || 6379), prefix: process.env.BENCH_REDIS_PREFIX ?? 'hocuspocus' }))
}

const server = new Server({ port: Number(process.env.PORT ?? 0), address: process.env.HOST ?? '127.0.0.1', quiet: true, extensions })
await server.listen()
// For soak: the probe (bench/peers/probe.ts, DOCUMENTS_COUNTER) reports how many documents are loaded.
;(globalThis as { [k: symbol]: unknown })[Symbol.for('bench.documentsLoaded')] = () => server.hocuspocus.getDocumentsCount()
process.stdout.write('hocuspocus listening\n')
process.on('SIGTERM', () => {
  server.destroy().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`destroy failed: ${String(error)}\n`)
      process.exit(1)
    },
  )
})
