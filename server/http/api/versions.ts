/** /api/documents/{name}/versions and /diff: version history — list, create, read, restore, diff. */
import { Errors } from '../../../client/protocol.ts'
import * as Y from 'yjs'
import { authorsBetween, diffStates } from '../../history/diff.ts'
import { restoreUpdate } from '../../history/restore.ts'
import { docFrom, documentJson } from '../../history/shape.ts'
import type { VersionInfo } from '../../storage/types.ts'
import { sendJson } from '../router.ts'
import { type ApiContext, type ApiRoute, documentName, intParam, readJsonBody, sendBinary, versionId, versionJson, wantsBinary } from './context.ts'
import { ApiError } from './errors.ts'

/** Longest label of a named version. */
const MAX_LABEL_LENGTH = 200

async function list(ctx: ApiContext): Promise<void> {
  const { req, res, url, deps } = ctx
  const name = documentName(ctx)
  const limit = intParam(url, 'limit', 1, 1000, 100)!
  const before = intParam(url, 'before', 1, Number.MAX_SAFE_INTEGER)
  const { role } = await deps.auth.require(req, name, 'read')
  const versions = await deps.storage.listVersions(name, { before, limit })
  // The caller's role, so a UI offers only what the token may do (save: write, restore: admin).
  sendJson(res, 200, { versions: versions.map(versionJson), next: versions.length === limit ? versions.at(-1)!.id : null, role })
}

async function create(ctx: ApiContext): Promise<void> {
  const { req, res, deps } = ctx
  const name = documentName(ctx)
  const { user } = await deps.auth.require(req, name, 'write')
  const body = await readJsonBody(req)
  const label = typeof body.label === 'string' ? body.label.trim() : ''
  if (label.length === 0 || label.length > MAX_LABEL_LENGTH) {
    throw new ApiError(Errors.BadRequest, `label must be a string of 1 to ${MAX_LABEL_LENGTH} characters`)
  }
  const state = await deps.live.state(name)
  if (!state) throw new ApiError(Errors.NotFound, `no document ${JSON.stringify(name)}`)
  const info = await deps.history.save(name, state, 'named', { label, createdBy: user })
  res.setHeader('location', `/api/documents/${encodeURIComponent(name)}/versions/${info.id}`)
  sendJson(res, 201, versionJson(info))
}

async function findVersion(ctx: ApiContext, name: string, id: number): Promise<VersionInfo & { data: Uint8Array }> {
  const version = await ctx.deps.storage.getVersion(name, id)
  if (!version) throw new ApiError(Errors.NotFound, `${JSON.stringify(name)} has no version ${id}`)
  return version
}

const infoOf = ({ data: _data, ...info }: VersionInfo & { data: Uint8Array }): VersionInfo => info

async function read(ctx: ApiContext): Promise<void> {
  const { req, res, deps } = ctx
  const name = documentName(ctx)
  const id = versionId(ctx)
  await deps.auth.require(req, name, 'read')
  const version = await findVersion(ctx, name, id)
  if (wantsBinary(req)) return sendBinary(res, version.data)
  const doc = docFrom(version.data)
  try {
    sendJson(res, 200, { version: versionJson(infoOf(version)), types: documentJson(doc) })
  } finally {
    doc.destroy()
  }
}

/**
 * Restore: save the current state as a `pre-restore` version, then apply, as
 * one new change stored before it is applied, the update that turns the
 * current content into the version's. Every client receives it like any edit.
 */
async function restore(ctx: ApiContext): Promise<void> {
  const { req, res, deps } = ctx
  const name = documentName(ctx)
  const id = versionId(ctx)
  const { user } = await deps.auth.require(req, name, 'admin')
  const version = await findVersion(ctx, name, id)
  const open = await deps.live.open(name)
  try {
    const current = Y.encodeStateAsUpdate(open.document)
    const preRestore = await deps.history.save(name, current, 'pre-restore', { label: `before restoring version ${id}`, createdBy: user })
    const update = restoreUpdate(current, version.data)
    // Its event commits with the restore's write (when it changes nothing, it goes on its own).
    const events = deps.history.restoredEvents(name, infoOf(version), preRestore, user)
    const written = update ? await deps.live.write(open.document, update, 'restore', { role: 'admin', principal: user === null ? null : { id: user, admin: true } }, undefined, events) : undefined
    deps.logger.info({ documentName: name, user, version: id, preRestore: preRestore.id, bytes: update?.byteLength ?? 0 }, 'version restored')
    await deps.history.restored(events, written?.appended ?? false)
    sendJson(res, 200, { restored: versionJson(infoOf(version)), preRestore: versionJson(preRestore) })
  } finally {
    await open.close()
  }
}

/** A version's state, or the live document's for `current`. */
async function stateOf(ctx: ApiContext, name: string, key: 'from' | 'to'): Promise<{ state: Uint8Array; info: ReturnType<typeof versionJson> | 'current' }> {
  const raw = ctx.url.searchParams.get(key)
  if (raw === null || raw === '') throw new ApiError(Errors.BadRequest, `${key} is required: a version id, or "current"`)
  if (raw === 'current') {
    const state = await ctx.deps.live.state(name)
    if (!state) throw new ApiError(Errors.NotFound, `no document ${JSON.stringify(name)}`)
    return { state, info: 'current' }
  }
  const version = await findVersion(ctx, name, versionId(ctx, raw))
  return { state: version.data, info: versionJson(infoOf(version)) }
}

async function diff(ctx: ApiContext): Promise<void> {
  const { req, res, deps } = ctx
  const name = documentName(ctx)
  await deps.auth.require(req, name, 'read')
  const from = await stateOf(ctx, name, 'from')
  const to = await stateOf(ctx, name, 'to')
  const authors = authorsBetween(from.state, to.state, await deps.storage.owners(name))
  sendJson(res, 200, { from: from.info, to: to.info, types: diffStates(from.state, to.state), authors })
}


export const versionRoutes: ApiRoute[] = [
  { method: 'GET', path: '/api/documents/{name}/versions', handler: list },
  { method: 'POST', path: '/api/documents/{name}/versions', handler: create },
  { method: 'GET', path: '/api/documents/{name}/versions/{id}', handler: read },
  { method: 'POST', path: '/api/documents/{name}/versions/{id}/restore', handler: restore },
  { method: 'GET', path: '/api/documents/{name}/diff', handler: diff },
]
