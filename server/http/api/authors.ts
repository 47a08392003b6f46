/**
 * /api/documents/{name}/authors: who wrote with which Yjs client id — the
 * document's client-id owners (docs/security.md, "Client ids"), as storage
 * holds them, so every instance answers the same. An editor colours text by
 * author with it: each item's id names its client, this map its user.
 */
import { Errors } from '../../../client/protocol.ts'
import { sendJson } from '../router.ts'
import { type ApiContext, type ApiRoute, documentName } from './context.ts'
import { ApiError } from './errors.ts'

async function authors(ctx: ApiContext): Promise<void> {
  const { req, res, deps } = ctx
  const name = documentName(ctx)
  await deps.auth.require(req, name, 'read')
  const owners = await deps.storage.owners(name)
  if (owners.length === 0 && !deps.live.loaded(name) && (await deps.live.state(name)) === null) throw new ApiError(Errors.NotFound, `no document ${JSON.stringify(name)}`)
  sendJson(res, 200, { name, authors: Object.fromEntries(owners.map((o) => [String(o.client), o.owner])) })
}

export const authorRoutes: ApiRoute[] = [{ method: 'GET', path: '/api/documents/{name}/authors', handler: authors }]
