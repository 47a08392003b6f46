/**
 * Stream tickets (docs/events.md#server-sent-events): a browser's
 * `EventSource` cannot send an Authorization header, and a long-lived token
 * must never be put in a URL (URLs end up in logs). `POST /api/events/tickets`
 * with the Bearer token answers a random ticket that opens one stream, once,
 * within TICKET_TTL_MS, with the token's rights and its expiry. Tickets live in
 * this process: behind a load balancer, route `/api/events` of one client to
 * one instance (sticky sessions), or use the Bearer header.
 */
import { randomBytes } from 'node:crypto'
import type { Caller } from './auth.ts'

/** How long a ticket may wait to be used. */
export const TICKET_TTL_MS = 60_000

export class Tickets {
  private readonly open = new Map<string, { caller: Caller; until: number }>()

  issue(caller: Caller): { ticket: string; expiresAt: number } {
    this.sweep()
    const ticket = randomBytes(24).toString('base64url')
    const until = Date.now() + TICKET_TTL_MS
    this.open.set(ticket, { caller, until })
    return { ticket, expiresAt: until }
  }

  /** The caller a ticket stands for, once; undefined when unknown, used or too old. */
  redeem(ticket: string): Caller | undefined {
    const entry = this.open.get(ticket)
    this.open.delete(ticket)
    return entry && entry.until > Date.now() ? entry.caller : undefined
  }

  private sweep(): void {
    const now = Date.now()
    for (const [ticket, { until }] of this.open) if (until <= now) this.open.delete(ticket)
  }
}
