import * as Y from 'yjs'

/** The HTTP base (http://host:port) of a server whose WebSocket URL is `wsUrl`. */
export function httpBase(wsUrl: string): string {
  return wsUrl.replace(/^ws/, 'http').replace(/\/ws$/, '')
}

/** The REST path of a document: its name is one URL path segment (`team/notes` → `team%2Fnotes`). */
export function docPath(name: string, rest = ''): string {
  return `/api/documents/${encodeURIComponent(name)}${rest}`
}

export interface Reply {
  status: number
  headers: Headers
  /** The body parsed as JSON when it is JSON, else undefined. */
  json: Record<string, unknown> & { error?: string }
  text: string
  bytes: Uint8Array
}

export interface CallOptions {
  token?: string
  /** A Uint8Array is sent as application/octet-stream, anything else as JSON. */
  body?: Uint8Array | unknown
  contentType?: string
  accept?: string
}

/** One HTTP request against the server; never throws on an HTTP error status. */
export async function call(base: string, method: string, path: string, options: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = {}
  if (options.token) headers.authorization = `Bearer ${options.token}`
  if (options.accept) headers.accept = options.accept
  let body: BodyInit | undefined
  if (options.body instanceof Uint8Array) {
    body = options.body as Uint8Array<ArrayBuffer>
    headers['content-type'] = options.contentType ?? 'application/octet-stream'
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body)
    headers['content-type'] = options.contentType ?? 'application/json'
  }
  const res = await fetch(base + path, { method, headers, body })
  const bytes = new Uint8Array(await res.arrayBuffer())
  const text = new TextDecoder().decode(bytes)
  let json = {} as Reply['json']
  if ((res.headers.get('content-type') ?? '').includes('json')) json = JSON.parse(text) as Reply['json']
  return { status: res.status, headers: res.headers, json, text, bytes }
}

/**
 * A Yjs update, as an independent client would make it: `edit` runs on a doc
 * holding `base` (a state the server sent, or nothing), and the update is what
 * that edit produced.
 */
export function makeUpdate(edit: (doc: Y.Doc) => void, base?: Uint8Array): Uint8Array {
  const doc = new Y.Doc()
  if (base) Y.applyUpdate(doc, base)
  const parts: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => parts.push(u))
  edit(doc)
  doc.destroy()
  return Y.mergeUpdates(parts)
}

/** An update appending `text` to the Y.Text `field` of a document in state `base`. */
export function appendText(text: string, field = 'codemirror', base?: Uint8Array): Uint8Array {
  return makeUpdate((doc) => doc.getText(field).insert(doc.getText(field).length, text), base)
}

/** The value of one sample of the server's /metrics at `http` (`name` plus its labels as printed, e.g. `collab_documents_loaded`); NaN when absent. */
export async function metric(http: string, sample: string): Promise<number> {
  const text = await (await fetch(`${http}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `))
  return line === undefined ? Number.NaN : Number(line.slice(sample.length + 1))
}
