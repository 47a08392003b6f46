/**
 * The change feed as Server-Sent Events (docs/events.md#server-sent-events):
 * GET /api/events, GET /api/documents/{name}/events, and the stream tickets
 * browsers open them with. The long-lived part (caps, keep-alive, slow
 * readers, expiry) is server/http/stream.ts.
 */
import { Errors, type ErrorInfo } from '../../../client/protocol.ts'
import { documentFilter, envelope, listParam, typeFilter } from '../../events/envelope.ts'
import { CursorGone } from '../../events/feed.ts'
import type { FeedEvent } from '../../storage/types.ts'
import { sendJson } from '../router.ts'
import type { StreamFormat } from '../stream.ts'
import type { Caller } from './auth.ts'
import { type ApiContext, type ApiRoute, documentName } from './context.ts'
import { ApiError } from './errors.ts'

/** Events read from the feed per turn. */
const BATCH = 200

/** SSE framing: comments to keep alive, a final `close` event with the reason. */
export const SSE: StreamFormat = {
  contentType: 'text/event-stream; charset=utf-8',
  keepAlive: () => ': keep-alive\n\n',
  end: (why: ErrorInfo) => `event: close\ndata: ${JSON.stringify({ reason: why.reason })}\n\n`,
}

/** Each event's frame, made once however many streams send it (streams that keep up share the feed's event objects). */
const frames = new WeakMap<FeedEvent, string>()
function frame(event: FeedEvent): string {
  let text = frames.get(event)
  if (text === undefined) frames.set(event, (text = `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(envelope(event))}\n\n`))
  return text
}

function feedOf(ctx: ApiContext) {
  const events = ctx.deps.events
  if (!events) throw new ApiError(Errors.NotFound, 'the change feed is off (EVENTS=off)')
  return events
}

/** Who is asking: a stream ticket (`?ticket=`, browsers) or the Bearer token. */
async function callerOf(ctx: ApiContext): Promise<Caller> {
  const ticket = ctx.url.searchParams.get('ticket')
  if (ticket === null) return ctx.deps.auth.caller(ctx.req)
  const caller = feedOf(ctx).tickets.redeem(ticket)
  if (!caller) throw new ApiError(Errors.Unauthorized, 'the ticket is unknown, used already or expired; ask for a new one')
  return caller
}

/** `Last-Event-ID`, else `?since=`; null: from the next event. */
function cursorOf(ctx: ApiContext): number | null {
  const header = ctx.req.headers['last-event-id']
  const raw = (Array.isArray(header) ? header[0] : header) ?? ctx.url.searchParams.get('since')
  if (raw === undefined || raw === null || raw === '') return null
  if (!/^\d{1,15}$/.test(raw.trim())) throw new ApiError(Errors.BadRequest, 'Last-Event-ID / since: an event id (digits)')
  return Number(raw.trim())
}

function filters(ctx: ApiContext): { types: (t: string) => boolean; documents: (d: string) => boolean } {
  try {
    return { types: typeFilter(listParam(ctx.url.searchParams.get('types'))), documents: documentFilter(listParam(ctx.url.searchParams.get('documents'))) }
  } catch (error) {
    throw new ApiError(Errors.BadRequest, error instanceof Error ? error.message : String(error))
  }
}

async function stream(ctx: ApiContext, caller: Caller, visible: (event: FeedEvent) => boolean): Promise<void> {
  const { feed, streams } = feedOf(ctx)
  const cursor = cursorOf(ctx)
  if (!streams.admits(ctx.req)) throw new ApiError(Errors.TooManyStreams, 'too many event streams from this address (STREAMS_PER_IP)')
  let at = cursor ?? feed.newest
  // A cursor retention no longer covers is refused before the stream starts.
  if (cursor !== null && (await feed.gone(cursor))) throw new ApiError(Errors.CursorGone, `events after ${cursor} are no longer all kept; start over without a cursor`)
  const s = streams.start(ctx.req, ctx.res, SSE, caller.expiresAt)
  s.write('retry: 1000\n\n')
  while (!s.signal.aborted) {
    let events: FeedEvent[]
    try {
      events = await feed.after(at, BATCH, s.signal)
    } catch (error) {
      if (!(error instanceof CursorGone)) throw error
      // Retention passed the reader while it was behind.
      s.end(Errors.CursorGone)
      return
    }
    // Nothing, and not aborted: the feed is closing (shutdown).
    if (events.length === 0) return s.signal.aborted ? undefined : s.end(Errors.GoingAway)
    for (const event of events) {
      at = event.id
      if (visible(event) && !s.write(frame(event))) return
    }
    if (!(await s.drained())) return
  }
}

/** GET /api/events: every document the token may read, narrowed by `documents` and `types`. */
async function allEvents(ctx: ApiContext): Promise<void> {
  const caller = await callerOf(ctx)
  const { types, documents } = filters(ctx)
  await stream(ctx, caller, (e) => types(e.type) && documents(e.document) && caller.roleOn(e.document) !== null)
}

/** GET /api/documents/{name}/events: one document's events (role: read). */
async function documentEvents(ctx: ApiContext): Promise<void> {
  const name = documentName(ctx)
  const caller = await callerOf(ctx)
  if (caller.roleOn(name) === null) throw new ApiError(Errors.Forbidden, `the token does not open ${JSON.stringify(name)}`)
  const { types } = filters(ctx)
  await stream(ctx, caller, (e) => e.document === name && types(e.type))
}

/** POST /api/events/tickets: a ticket for one stream, for a browser's EventSource. */
async function ticket(ctx: ApiContext): Promise<void> {
  const caller = await ctx.deps.auth.caller(ctx.req)
  const { ticket, expiresAt } = feedOf(ctx).tickets.issue(caller)
  sendJson(ctx.res, 201, { ticket, expiresAt: new Date(expiresAt).toISOString() })
}

export const eventRoutes: ApiRoute[] = [
  { method: 'GET', path: '/api/events', handler: allEvents },
  { method: 'POST', path: '/api/events/tickets', handler: ticket },
  { method: 'GET', path: '/api/documents/{name}/events', handler: documentEvents },
]
