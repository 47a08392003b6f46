/**
 * /api/webhooks: webhook endpoints stored in the database (docs/events.md#webhooks).
 * A token manages endpoints only over document patterns on which its `docs`
 * claim gives it `admin` (every document such a pattern can name); open mode
 * manages all. Endpoints of WEBHOOKS_FILE are listed, not changed here.
 */
import { randomUUID } from 'node:crypto'
import { Errors } from '../../../client/protocol.ts'
import { WebhookConfigError, newSecret, parseEndpoint } from '../../events/webhook-config.ts'
import { UrlRefused, resolveTarget } from '../../events/webhook-send.ts'
import type { WebhookEndpoint, WebhookFailure, WebhookStore } from '../../storage/types.ts'
import { sendJson } from '../router.ts'
import type { Caller } from './auth.ts'
import { type ApiContext, type ApiRoute, readJsonBody } from './context.ts'
import { ApiError } from './errors.ts'

/** Whether the caller is admin over every document the endpoint can deliver events of. */
const manages = (caller: Caller, endpoint: { documents: readonly string[] }): boolean =>
  (endpoint.documents.length === 0 ? ['*'] : endpoint.documents).every((pattern) => caller.covers(pattern, 'admin'))

const endpointJson = (e: WebhookEndpoint) => ({
  id: e.id,
  url: e.url,
  types: e.types,
  documents: e.documents,
  source: e.source,
  createdBy: e.createdBy,
  delivery: { cursor: String(e.cursor), attempts: e.attempts, nextAttemptAt: e.attempts > 0 ? new Date(e.nextAt).toISOString() : null, lastError: e.lastError },
})

const failureJson = (f: WebhookFailure) => ({ id: f.id, event: String(f.event), attempts: f.attempts, lastError: f.lastError, failedAt: new Date(f.failedAt).toISOString(), replay: f.replay })

function storeOf(ctx: ApiContext): { store: WebhookStore; allowPrivate: boolean; newest: () => number } {
  const events = ctx.deps.events
  if (!events) throw new ApiError(Errors.NotFound, 'the change feed is off (EVENTS=off)')
  return { store: ctx.deps.storage.webhooks, allowPrivate: events.allowPrivate, newest: () => events.feed.newest }
}

/** The endpoint `{id}`, if the caller manages it (else 404: its existence is not the caller's business). */
async function endpointOf(ctx: ApiContext, caller: Caller): Promise<WebhookEndpoint> {
  const endpoint = await storeOf(ctx).store.get(ctx.params.id ?? '')
  if (!endpoint || !manages(caller, endpoint)) throw new ApiError(Errors.NotFound, `no webhook endpoint ${JSON.stringify(ctx.params.id)}`)
  return endpoint
}

async function list(ctx: ApiContext): Promise<void> {
  const caller = await ctx.deps.auth.caller(ctx.req)
  const endpoints = (await storeOf(ctx).store.list()).filter((e) => manages(caller, e))
  sendJson(ctx.res, 200, { endpoints: endpoints.map(endpointJson) })
}

async function create(ctx: ApiContext): Promise<void> {
  const caller = await ctx.deps.auth.caller(ctx.req)
  const { store, allowPrivate, newest } = storeOf(ctx)
  const body = await readJsonBody(ctx.req)
  if ('source' in body) throw new ApiError(Errors.BadRequest, 'source is given by the server')
  let endpoint
  try {
    endpoint = parseEndpoint(body, 'api', caller.user, { id: randomUUID(), secret: newSecret() })
  } catch (error) {
    if (error instanceof WebhookConfigError) throw new ApiError(Errors.BadRequest, error.message)
    throw error
  }
  if (!manages(caller, endpoint)) throw new ApiError(Errors.Forbidden, 'the token must give admin on every document the endpoint names (set "documents" to patterns it is admin of)')
  if (await store.get(endpoint.id)) throw new ApiError(Errors.BadRequest, `an endpoint ${JSON.stringify(endpoint.id)} exists already`)
  try {
    // Checked now for a clear answer; checked again, and the address pinned, at every delivery.
    await resolveTarget(endpoint.url, allowPrivate)
  } catch (error) {
    if (error instanceof UrlRefused) throw new ApiError(Errors.WebhookUrlRefused, error.message)
    throw error
  }
  const stored = await store.put(endpoint, newest())
  ctx.res.setHeader('location', `/api/webhooks/${stored.id}`)
  // The secret is shown this once.
  sendJson(ctx.res, 201, { ...endpointJson(stored), secret: stored.secret })
}

async function remove(ctx: ApiContext): Promise<void> {
  const caller = await ctx.deps.auth.caller(ctx.req)
  const endpoint = await endpointOf(ctx, caller)
  if (endpoint.source === 'config') throw new ApiError(Errors.Forbidden, 'this endpoint is set by the deployment (WEBHOOKS_FILE)')
  await storeOf(ctx).store.delete(endpoint.id)
  ctx.deps.logger.info({ endpoint: endpoint.id, user: caller.user }, 'webhook endpoint deleted')
  ctx.res.writeHead(204).end()
}

async function failures(ctx: ApiContext): Promise<void> {
  const caller = await ctx.deps.auth.caller(ctx.req)
  const endpoint = await endpointOf(ctx, caller)
  sendJson(ctx.res, 200, { failures: (await storeOf(ctx).store.failures(endpoint.id)).map(failureJson) })
}

async function replay(ctx: ApiContext): Promise<void> {
  const caller = await ctx.deps.auth.caller(ctx.req)
  const endpoint = await endpointOf(ctx, caller)
  const id = Number(ctx.params.failure)
  if (!Number.isSafeInteger(id) || !(await storeOf(ctx).store.replay(endpoint.id, id))) throw new ApiError(Errors.NotFound, `no parked delivery ${JSON.stringify(ctx.params.failure)}`)
  ctx.deps.events?.wake()
  sendJson(ctx.res, 202, { replay: true })
}

export const webhookRoutes: ApiRoute[] = [
  { method: 'GET', path: '/api/webhooks', handler: list },
  { method: 'POST', path: '/api/webhooks', handler: create },
  { method: 'DELETE', path: '/api/webhooks/{id}', handler: remove },
  { method: 'GET', path: '/api/webhooks/{id}/failures', handler: failures },
  { method: 'POST', path: '/api/webhooks/{id}/failures/{failure}/replay', handler: replay },
]
