/**
 * Attribution: who wrote a document.
 * - /api/documents/{name}/authors: who wrote with which Yjs client id — the
 *   document's client-id owners (docs/security.md, "Client ids"), as storage
 *   holds them, so every instance answers the same. An editor colours text by
 *   author with it: each item's id names its client, this map its user.
 * - /api/documents/{name}/activity: who changed it, when, how much and which
 *   shared types — the document's events of the change feed's outbox
 *   (docs/events.md), newest first: one store for the feed and the activity,
 *   kept for EVENTS_RETENTION_MS whatever compaction does.
 */
import { Errors } from '../../../client/protocol.ts'
import { envelope, listParam, typeFilter } from '../../events/envelope.ts'
import type { FeedEvent } from '../../storage/types.ts'
import { sendJson } from '../router.ts'
import { type ApiContext, type ApiRoute, documentName, intParam } from './context.ts'
import { ApiError } from './errors.ts'

/** Events looked at per activity request at most (a sparse `types` filter pages on from where the scan stopped). */
const MAX_SCANNED = 5000

async function authors(ctx: ApiContext): Promise<void> {
  const { req, res, deps } = ctx
  const name = documentName(ctx)
  await deps.auth.require(req, name, 'read')
  const owners = await deps.storage.owners(name)
  if (owners.length === 0 && !deps.live.loaded(name) && (await deps.live.state(name)) === null) throw new ApiError(Errors.NotFound, `no document ${JSON.stringify(name)}`)
  sendJson(res, 200, { name, authors: Object.fromEntries(owners.map((o) => [String(o.client), o.owner])) })
}

/**
 * The users whose changes to the content an event holds: a document.updated's
 * `authors` (or, in one written before it had them, everyone in its `types`);
 * nobody for presence and versions (opening a document or saving a version
 * writes nothing in it); else the actor (a chat message's author, the one who
 * created or deleted the document).
 */
export function authorsOf(event: FeedEvent): string[] {
  if (event.type.startsWith('presence.') || event.type.startsWith('version.')) return []
  const data = event.data as { authors?: unknown; types?: unknown } | null
  if (Array.isArray(data?.authors)) return data.authors as string[]
  if (event.type === 'document.updated' && data?.types && typeof data.types === 'object') {
    return [...new Set(Object.values(data.types as Record<string, string[]>).flat())].sort()
  }
  return [event.actor]
}

async function activity(ctx: ApiContext): Promise<void> {
  const { req, res, url, deps } = ctx
  const name = documentName(ctx)
  if (!deps.events) throw new ApiError(Errors.NotFound, 'the activity is the change feed’s, which is off (EVENTS=off)')
  const limit = intParam(url, 'limit', 1, 1000, 100)!
  let before = intParam(url, 'before', 1, Number.MAX_SAFE_INTEGER)
  let wanted: (type: string) => boolean
  try {
    wanted = typeFilter(listParam(url.searchParams.get('types')))
  } catch (error) {
    throw new ApiError(Errors.BadRequest, error instanceof Error ? error.message : String(error))
  }
  await deps.auth.require(req, name, 'read')
  const found: FeedEvent[] = []
  let scanned = 0
  let exhausted = false
  while (found.length < limit && scanned < MAX_SCANNED) {
    const page = await deps.storage.events.ofDocument(name, { before, limit: Math.min(Math.max(limit, 100), MAX_SCANNED - scanned) })
    for (const event of page) {
      scanned += 1
      before = event.id
      // A document deleted and created again is a new document: its activity starts after the delete.
      if (event.type === 'document.deleted') exhausted = true
      if (wanted(event.type) && found.push(event) === limit) break
      if (exhausted) break
    }
    if (page.length === 0) exhausted = true
    if (exhausted || found.length === limit) break
  }
  // More may be older (not past a delete): page on before the last event looked at.
  const next = !exhausted && (found.length === limit || scanned >= MAX_SCANNED) && before !== undefined ? String(before) : null
  sendJson(res, 200, { name, activity: found.map((e) => ({ ...envelope(e), authors: authorsOf(e) })), next })
}

export const authorRoutes: ApiRoute[] = [
  { method: 'GET', path: '/api/documents/{name}/authors', handler: authors },
  { method: 'GET', path: '/api/documents/{name}/activity', handler: activity },
]
