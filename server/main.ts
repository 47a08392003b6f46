/**
 * Entry point: read the environment once, validate it, start, and stop cleanly
 * on SIGTERM/SIGINT. A bad variable stops start-up with exit code 2.
 */
import { ConfigError, parseConfig } from './config.ts'
import { createCollabServer } from './app.ts'

let config
try {
  config = parseConfig(process.env)
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`)
    process.exit(2)
  }
  throw error
}

const server = createCollabServer(config)
const port = await server.listen()
server.logger.info({ port, host: config.host, dbPath: config.dbPath, dbSync: config.dbSync, url: server.url }, 'collab server listening')

let stopping = false
async function stop(signal: string): Promise<void> {
  if (stopping) return
  stopping = true
  server.logger.info({ signal }, 'shutting down')
  const timer = setTimeout(() => {
    server.logger.error('shutdown took longer than 5 s; exiting')
    process.exit(1)
  }, 5000)
  try {
    await server.close()
    clearTimeout(timer)
    process.exit(0)
  } catch (error) {
    server.logger.error({ err: error }, 'shutdown failed')
    process.exit(1)
  }
}
process.on('SIGTERM', () => void stop('SIGTERM'))
process.on('SIGINT', () => void stop('SIGINT'))
