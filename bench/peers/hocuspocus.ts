/**
 * Bench-only entry: bare Hocuspocus 4 with its defaults — what a user gets
 * from `new Server()` — on PORT/HOST. No persistence, no guards.
 */
import { Server } from '@hocuspocus/server'

const server = new Server({ port: Number(process.env.PORT ?? 0), address: process.env.HOST ?? '127.0.0.1', quiet: true })
await server.listen()
process.stdout.write(`hocuspocus listening on ${server.httpServer.address() ? 'ok' : '?'}\n`)
process.on('SIGTERM', () => {
  server.destroy().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`destroy failed: ${String(error)}\n`)
      process.exit(1)
    },
  )
})
