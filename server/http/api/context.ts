/** What every REST handler gets, and the small helpers they share to read requests and write answers. */
import { Errors } from '../../../client/protocol.ts'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import type { AutoVersions } from '../../history/auto.ts'
import type { LiveDocuments } from '../../history/live.ts'
import type { VersionHistory } from '../../history/versions.ts'
import type { Feed } from '../../events/feed.ts'
import type { Storage } from '../../storage/types.ts'
import type { Streams } from '../stream.ts'
import type { Tickets } from './tickets.ts'
import { documentNameProblem } from '../../ws/limits.ts'
import type { ApiAuth } from './auth.ts'
import type { ApiCors } from './cors.ts'
import type { ApiRateLimit } from './rate-limit.ts'
import { ApiError } from './errors.ts'

export interface ApiDeps {
  live: LiveDocuments
  history: VersionHistory
  /** Absent when automatic versions are off. */
  auto?: AutoVersions
  storage: Storage
  /** The change feed (docs/events.md); absent with EVENTS=off. */
  events?: { feed: Feed; streams: Streams; tickets: Tickets; allowPrivate: boolean; wake(): void }
  auth: ApiAuth
  /** What every request passes before any route: its origin (CORS) and its rate. */
  edge: { cors: ApiCors; rateLimit: ApiRateLimit }
  logger: Logger
  limits: {
    /** Largest Yjs update a write may carry (MAX_UPDATE_BYTES). */
    maxUpdateBytes: number
    /** Longest document name (DOC_NAME_MAX_LENGTH). */
    docNameMaxLength: number
  }
}

export interface ApiContext {
  req: IncomingMessage
  res: ServerResponse
  url: URL
  /** Path parameters, percent-decoded. */
  params: Record<string, string>
  deps: ApiDeps
}

export type ApiHandler = (ctx: ApiContext) => Promise<void>

export interface ApiRoute {
  method: 'GET' | 'POST' | 'DELETE'
  /** OpenAPI path template, e.g. `/api/documents/{name}/versions/{id}`; a parameter is one path segment. */
  path: string
  handler: ApiHandler
}

/** Largest JSON body accepted. */
export const MAX_JSON_BYTES = 64 * 1024

/** The `{name}` parameter, checked against the naming rules the socket applies. */
export function documentName(ctx: ApiContext): string {
  const name = ctx.params.name ?? ''
  const problem = documentNameProblem(name, ctx.deps.limits.docNameMaxLength)
  if (problem) throw new ApiError(Errors.InvalidDocumentName, `document name: ${problem}`)
  return name
}

/** An integer query parameter in [min, max], or `fallback` when absent. */
export function intParam(url: URL, key: string, min: number, max: number, fallback?: number): number | undefined {
  const raw = url.searchParams.get(key)
  if (raw === null || raw === '') return fallback
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new ApiError(Errors.BadRequest, `${key} must be an integer from ${min} to ${max}`)
  return n
}

/** The `{id}` parameter of a version. */
export function versionId(ctx: ApiContext, raw = ctx.params.id ?? ''): number {
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < 1) throw new ApiError(Errors.BadRequest, `version id must be a positive integer, not ${JSON.stringify(raw)}`)
  return Number(raw)
}

const mediaType = (req: IncomingMessage) => (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()

/** The raw body, refused with 413 past `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength
    if (size > limit) {
      req.resume() // discard the rest; the connection closes after the answer
      throw tooLarge(limit)
    }
    chunks.push(chunk)
  }
  return new Uint8Array(Buffer.concat(chunks, size))
}

function tooLarge(limit: number): ApiError {
  return new ApiError(Errors.PayloadTooLarge, `the body is larger than ${limit} bytes`, { connection: 'close' })
}

/** The body of a Yjs update: `application/octet-stream`, at most `limit` bytes. */
export async function readUpdateBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  if (mediaType(req) !== 'application/octet-stream') {
    throw new ApiError(Errors.UnsupportedMediaType, 'send the Yjs update as application/octet-stream')
  }
  return readBody(req, limit)
}

/** A JSON object body (an empty body reads as `{}`). */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req, MAX_JSON_BYTES)
  if (body.byteLength === 0) return {}
  if (!mediaType(req).endsWith('json')) throw new ApiError(Errors.UnsupportedMediaType, 'send the body as application/json')
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder().decode(body))
  } catch (error) {
    throw new ApiError(Errors.BadRequest, `the body is not JSON: ${error instanceof Error ? error.message : String(error)}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ApiError(Errors.BadRequest, 'the body must be a JSON object')
  return value as Record<string, unknown>
}

/** Whether the client asked for the binary Yjs form. */
export function wantsBinary(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').toLowerCase().includes('application/octet-stream')
}

export function sendBinary(res: ServerResponse, bytes: Uint8Array): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.byteLength })
  res.end(bytes)
}

export function sendText(res: ServerResponse, text: string): void {
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** A version's timestamps as ISO 8601 strings. */
export function versionJson<T extends { createdAt: number }>(info: T): Omit<T, 'createdAt'> & { createdAt: string } {
  return { ...info, createdAt: new Date(info.createdAt).toISOString() }
}
