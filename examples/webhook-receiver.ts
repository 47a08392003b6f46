/**
 * A webhook receiver for the change feed (docs/events.md#webhooks): verifies
 * each request with `standardwebhooks`, answers 2xx only once the event is
 * handled, and de-duplicates by event id (delivery is at-least-once).
 *
 *   WEBHOOK_SECRET=whsec_… PORT=4000 node examples/webhook-receiver.ts
 *
 * Keep the ids you have handled where your effects are (here: in memory, so a
 * restart of this example forgets them; a real receiver stores them with what
 * it does, e.g. in the same database transaction).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { Webhook, WebhookVerificationError } from 'standardwebhooks'

/** The envelope (docs/events.md#the-envelope). */
export interface FeedEvent {
  v: number
  id: string
  type: string
  document: string
  time: string
  actor: string
  data: Record<string, unknown>
}

export interface ReceiverOptions {
  /** The endpoint's secret, `whsec_…`. */
  secret: string
  /** Handle one event; throw to have it delivered again later. */
  onEvent(event: FeedEvent): void | Promise<void>
  /** Answer this status instead of handling (tests: a receiver that is down). */
  refuse?: (request: number) => number | undefined
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

export function createReceiver(options: ReceiverOptions): Server {
  const webhook = new Webhook(options.secret)
  const seen = new Set<string>()
  let requests = 0
  return createServer((req, res) => {
    void (async () => {
      const payload = await body(req)
      const refused = options.refuse?.(++requests)
      if (refused) return void res.writeHead(refused).end()
      let event: FeedEvent
      try {
        event = webhook.verify(payload, req.headers as Record<string, string>) as FeedEvent
      } catch (error) {
        if (!(error instanceof WebhookVerificationError)) throw error
        return void res.writeHead(400).end('bad signature')
      }
      // At-least-once: the same event may come again (a retry after a lost answer); handle it once.
      if (!seen.has(event.id)) {
        await options.onEvent(event)
        seen.add(event.id)
      }
      res.writeHead(204).end()
    })().catch((error: unknown) => {
      console.error('could not handle a delivery', error)
      res.writeHead(500).end()
    })
  })
}

if (import.meta.main) {
  const secret = process.env.WEBHOOK_SECRET
  if (!secret) throw new Error('set WEBHOOK_SECRET to the endpoint secret (whsec_…)')
  const port = Number(process.env.PORT ?? 4000)
  createReceiver({ secret, onEvent: (e) => console.log(e.id, e.type, e.document, e.actor) }).listen(port, '127.0.0.1', () => {
    console.log(`webhook receiver on http://127.0.0.1:${port}/`)
  })
}
