/**
 * Bench-only entry: this server with persistence off (MemoryStorage), to show
 * what durability costs. Reads PORT and HOST like server/main.ts; SIGTERM stops it.
 */
import { createCollabServer } from '../../server/app.ts'
import { MemoryStorage } from '../../server/storage/memory.ts'

const server = createCollabServer(
  // All bench clients share one address: no per-address socket cap (see BENCH_COLLAB_ENV).
  { port: Number(process.env.PORT ?? 0), host: process.env.HOST ?? '127.0.0.1', logLevel: 'warn', maxConnectionsPerIp: 0 },
  { storage: new MemoryStorage() },
)
const port = await server.listen()
process.stdout.write(`collab-memory listening on ${port}\n`)
process.on('SIGTERM', () => {
  server.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`close failed: ${String(error)}\n`)
      process.exit(1)
    },
  )
})
