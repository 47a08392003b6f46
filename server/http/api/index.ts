/**
 * The REST API under /api (docs/rest.md; OpenAPI at /api/openapi.json):
 * documents, chat history and version history, with the socket's tokens and
 * roles, and its promise that a write is stored before it is acknowledged.
 */
import type { Router } from '../router.ts'
import { authorRoutes } from './authors.ts'
import { chatRoutes } from './chat.ts'
import type { ApiDeps, ApiRoute } from './context.ts'
import { documentRoutes } from './documents.ts'
import { eventRoutes } from './events.ts'
import { openapiRoutes } from './openapi.ts'
import { ApiRouter } from './router.ts'
import { versionRoutes } from './versions.ts'
import { webhookRoutes } from './webhooks.ts'

export type { ApiDeps } from './context.ts'
export { ApiAuth } from './auth.ts'

/** Every route of the API; the OpenAPI description documents exactly these (a test checks). */
export const API_ROUTES: readonly ApiRoute[] = [...openapiRoutes, ...documentRoutes, ...authorRoutes, ...chatRoutes, ...versionRoutes, ...eventRoutes, ...webhookRoutes]

/** Serve the API on the server's router, under /api/. */
export function addApiRoutes(router: Router, deps: ApiDeps): void {
  router.under('/api/', new ApiRouter(API_ROUTES, deps).handle)
}
