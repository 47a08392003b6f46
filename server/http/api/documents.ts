/** /api/documents: list, read (JSON, text, binary), apply an update, delete. */
import { Errors } from '../../../client/protocol.ts'
import * as Y from 'yjs'
import { docFrom, documentJson, kindOf, plainText } from '../../history/shape.ts'
import type { DocumentInfo } from '../../storage/types.ts'
import { sendJson } from '../router.ts'
import { type ApiContext, type ApiRoute, documentName, intParam, readUpdateBody, sendBinary, sendText, wantsBinary } from './context.ts'
import { ApiError } from './errors.ts'
import { ANONYMOUS } from '../../pipeline/pipeline.ts'

/** Most names looked at for one page of the list (a token that opens few documents may get a short page and a cursor). */
const MAX_SCAN = 20_000

async function list({ req, res, url, deps }: ApiContext): Promise<void> {
  const limit = intParam(url, 'limit', 1, 1000, 100)!
  const caller = await deps.auth.caller(req)
  const page: Array<DocumentInfo & { role: string }> = []
  let after = url.searchParams.get('after') ?? ''
  let scanned = 0
  let exhausted = false
  // Storage pages by name; keep the documents this token may read, one more than asked to know whether more follow.
  while (page.length <= limit && scanned < MAX_SCAN) {
    const batch = Math.min(1000, Math.max(100, limit + 1))
    const docs = await deps.storage.list({ after, limit: batch })
    for (const doc of docs) {
      after = doc.name
      scanned++
      const role = caller.roleOn(doc.name)
      if (role) page.push({ ...doc, role })
      if (page.length > limit) break
    }
    if (docs.length < batch) {
      exhausted = page.length <= limit
      break
    }
  }
  const more = page.length > limit || !exhausted
  const shown = page.slice(0, limit)
  sendJson(res, 200, {
    documents: shown.map((d) => ({ name: d.name, bytes: d.bytes, updatedAt: new Date(d.updatedAt).toISOString(), role: d.role })),
    next: more ? (page.length > limit ? shown.at(-1)!.name : after) : null,
  })
}

async function read(ctx: ApiContext): Promise<void> {
  const { req, res, url, deps } = ctx
  const name = documentName(ctx)
  await deps.auth.require(req, name, 'read')
  const state = await deps.live.state(name)
  if (!state) throw new ApiError(Errors.NotFound, `no document ${JSON.stringify(name)}`)
  const type = url.searchParams.get('type')
  if (type === null && wantsBinary(req)) return sendBinary(res, state)
  const doc = docFrom(state)
  try {
    if (type === null) return sendJson(res, 200, { name, types: documentJson(doc) })
    // The room model's names always exist (empty until written); others only with content.
    if (!kindOf(doc, type)) throw new ApiError(Errors.NotFound, `the document has no shared type ${JSON.stringify(type)}`)
    const text = plainText(doc, type)
    if (text === null) throw new ApiError(Errors.NotText, `${JSON.stringify(type)} is not a text type; read the document as JSON`)
    sendText(res, text)
  } finally {
    doc.destroy()
  }
}

async function write(ctx: ApiContext): Promise<void> {
  const { req, res, deps } = ctx
  const name = documentName(ctx)
  const { user, role } = await deps.auth.require(req, name, 'write')
  const update = await readUpdateBody(req, deps.limits.maxUpdateBytes)
  let decoded
  try {
    decoded = Y.decodeUpdate(update)
  } catch (error) {
    throw new ApiError(Errors.MalformedUpdate, `not a complete Yjs update: ${error instanceof Error ? error.message : String(error)}`)
  }
  const open = await deps.live.open(name)
  let replaced
  try {
    // The one write path, for the token's user (open mode: no identity), as for a socket's update.
    replaced = (await deps.live.write(open.document, update, 'rest', { role, principal: user === null ? null : { id: user, admin: role === 'admin' } }, decoded)).replaced
  } finally {
    await open.close()
  }
  deps.logger.info({ documentName: name, user, bytes: update.byteLength }, 'update applied over REST')
  // Structs under other users' client ids were taken out (client-id-owned): the rest was applied; say which ids.
  const dropped = replaced ? { dropped: { error: replaced.why.error.reason, clients: replaced.dropped.map((d) => d.client) } } : {}
  sendJson(res, 200, { name, bytes: update.byteLength, ...dropped })
}

async function remove(ctx: ApiContext): Promise<void> {
  const { req, res, deps } = ctx
  const name = documentName(ctx)
  const { user } = await deps.auth.require(req, name, 'admin')
  // No automatic version of a document being deleted (one under way is waited for, then deleted with the rest).
  await deps.auto?.forget(name)
  if (!(await deps.live.delete(name, user ?? ANONYMOUS))) throw new ApiError(Errors.NotFound, `no document ${JSON.stringify(name)}`)
  deps.logger.info({ documentName: name, user }, 'document deleted over REST')
  res.writeHead(204).end()
}

export const documentRoutes: ApiRoute[] = [
  { method: 'GET', path: '/api/documents', handler: list },
  { method: 'GET', path: '/api/documents/{name}', handler: read },
  { method: 'DELETE', path: '/api/documents/{name}', handler: remove },
  { method: 'POST', path: '/api/documents/{name}/updates', handler: write },
]
