/**
 * The page's calls to the public REST API for version history (docs/rest.md,
 * `GET /api/openapi.json`): list, save, diff,
 * restore — with the page's token as `Authorization: Bearer`, at `api/` next
 * to the page (also under a path prefix), same origin.
 */

/** One version, as the API lists it. */
export interface Version {
  id: number
  kind: 'named' | 'auto' | 'pre-restore'
  label: string | null
  createdBy: string | null
  /** ISO 8601. */
  createdAt: string
  bytes: number
}

/** The caller's role on the document. */
export type Role = 'read' | 'write' | 'admin'

/** A page of versions, newest first; `next` is the `before` of the next page (null: no more). */
export interface VersionPage {
  versions: Version[]
  next: number | null
  role: Role
}

/** What changed in one shared type. */
export interface TypeDiff {
  kind: string
  added: string[]
  removed: string[]
}

/** A refused or failed call: `code` is the API's error code (`forbidden`, `rate-limited`, …). */
export class HistoryApiError extends Error {
  readonly status: number
  readonly code: string
  constructor(status: number, code: string, message: string) {
    super(message)
    this.name = 'HistoryApiError'
    this.status = status
    this.code = code
  }
}

/** Versions on one page of the panel. */
export const PAGE_SIZE = 20

/** The REST client of one room. */
export class HistoryApi {
  private readonly base: URL
  private readonly path: string
  private readonly token: string

  constructor(room: string, token: string, pageUrl: string) {
    this.base = new URL('api/', pageUrl)
    this.path = `documents/${encodeURIComponent(room)}`
    this.token = token
  }

  /** Newest first; `before` (a version id) for the next page. */
  list(before?: number): Promise<VersionPage> {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE), ...(before !== undefined ? { before: String(before) } : {}) })
    return this.call<VersionPage>('GET', `${this.path}/versions?${query}`)
  }

  /** Save the document's current state as a named version (role write). */
  save(label: string): Promise<Version> {
    return this.call<Version>('POST', `${this.path}/versions`, { label })
  }

  /** Lines added and removed per shared type from version `from` to the current document. */
  async diffWithNow(from: number): Promise<Record<string, TypeDiff>> {
    const reply = await this.call<{ types: Record<string, TypeDiff> }>('GET', `${this.path}/diff?${new URLSearchParams({ from: String(from), to: 'current' })}`)
    return reply.types
  }

  /** Change the document back to version `id` (role admin); the state before is saved as a `pre-restore` version. */
  restore(id: number): Promise<{ restored: Version; preRestore: Version }> {
    return this.call('POST', `${this.path}/versions/${id}/restore`)
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(new URL(path, this.base), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    const json: unknown = res.headers.get('content-type')?.includes('json') ? await res.json() : null
    if (!res.ok) {
      const error = (json ?? {}) as { error?: unknown; message?: unknown }
      throw new HistoryApiError(res.status, typeof error.error === 'string' ? error.error : `http-${res.status}`, typeof error.message === 'string' ? error.message : res.statusText)
    }
    return json as T
  }
}

/** Words for a failed call, by its API error code. */
export function problemText(error: unknown, action: string): string {
  if (!(error instanceof HistoryApiError)) return `Could not ${action}: the server did not answer (${error instanceof Error ? error.message : String(error)}).`
  switch (error.code) {
    case 'forbidden':
      return `Could not ${action}: your token does not allow it in this room.`
    case 'unauthorized':
    case 'token-expired':
      return `Could not ${action}: the server needs a valid token (paste one under “Token”).`
    case 'not-found':
      return `Could not ${action}: there is nothing stored for this room yet, or that version is gone.`
    case 'rate-limited':
      return `Could not ${action}: too many requests just now; try again in a moment.`
    case 'bad-request':
      return `Could not ${action}: ${error.message}.`
    case 'storage-unavailable':
    case 'server-at-capacity':
      return `Could not ${action}: the server is busy or cannot store right now; try again shortly.`
    default:
      return `Could not ${action} (${error.code}).`
  }
}
