/** The OpenAPI 3.1 description of the REST API, served at GET /api/openapi.json. */
import { Errors } from '../../../client/protocol.ts'
import { packageVersion } from '../ops.ts'
import { sendJson } from '../router.ts'
import type { ApiRoute } from './context.ts'
import { ApiErrorCode } from './errors.ts'
import { eventPaths, eventSchemas } from './openapi-events.ts'

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } })
const error = (description: string) => json(ref('Error'), description)

/** The errors every document endpoint may answer, plus `extra`. */
function errors(...extra: Array<[string, string]>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    '400': error('Bad request: invalid document name or parameter (`invalid-document-name`, `bad-request`).'),
    '401': error('No valid token (`unauthorized`) or an expired one (`token-expired`).'),
    '403': error('The token does not open this document with the role needed (`forbidden`), or a browser origin not in ALLOWED_ORIGINS (`origin-not-allowed`).'),
    '429': error('Too many requests from this token or address (`rate-limited`); retry after `Retry-After` seconds.'),
  }
  for (const [status, description] of extra) out[status] = error(description)
  return out
}

const name = { name: 'name', in: 'path', required: true, description: 'Document name, percent-encoded as one path segment (`team/notes` → `team%2Fnotes`).', schema: { type: 'string' } }
const id = { name: 'id', in: 'path', required: true, description: 'Version id.', schema: { type: 'integer', minimum: 1 } }
const query = (n: string, description: string, schema: unknown, required = false) => ({ name: n, in: 'query', required, description, schema })
const notFound: [string, string] = ['404', 'No such document or version (`not-found`).']

const schemas = {
  Error: {
    type: 'object',
    required: ['error', 'message'],
    properties: { error: { type: 'string', enum: Object.values(ApiErrorCode), description: 'Stable code; test this.' }, message: { type: 'string', description: 'For people.' } },
  },
  DocumentInfo: {
    type: 'object',
    required: ['name', 'bytes', 'updatedAt', 'role'],
    properties: {
      name: { type: 'string' },
      bytes: { type: 'integer', description: 'Stored size: snapshot + update log.' },
      updatedAt: { type: 'string', format: 'date-time', description: 'Last stored change.' },
      role: { type: 'string', enum: ['read', 'write', 'admin'], description: "The token's role on it." },
    },
  },
  Version: {
    type: 'object',
    required: ['id', 'kind', 'label', 'createdBy', 'createdAt', 'bytes'],
    properties: {
      id: { type: 'integer' },
      kind: { type: 'string', enum: ['named', 'auto', 'pre-restore'] },
      label: { type: ['string', 'null'] },
      createdBy: { type: ['string', 'null'], description: 'User id (`sub`); null for automatic versions and in open mode.' },
      createdAt: { type: 'string', format: 'date-time' },
      bytes: { type: 'integer' },
    },
  },
  SharedTypes: {
    type: 'object',
    description: 'Root shared types by name: a Y.Text as a string, a Y.XmlFragment as ProseMirror-like nodes ({type, attrs, content} / {type: "text", text, marks}), Y.Array and Y.Map as JSON.',
    additionalProperties: true,
  },
  ChatMessage: {
    type: 'object',
    required: ['id', 'author', 'name', 'text', 'createdAt', 'deleted', 'reactions'],
    properties: {
      id: { type: 'string' },
      author: { type: 'string' },
      name: { type: 'string' },
      text: { type: 'string' },
      createdAt: { type: 'number', description: "Sender's clock, ms since the epoch." },
      replyTo: { type: 'string' },
      editedAt: { type: 'number' },
      deleted: { type: 'boolean' },
      reactions: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } }, description: 'Emoji → user ids.' },
    },
  },
  ...eventSchemas,
  TypeDiff: {
    type: 'object',
    required: ['kind', 'added', 'removed'],
    properties: {
      kind: { type: 'string', enum: ['text', 'xml', 'array', 'map'] },
      added: { type: 'array', items: { type: 'string' }, description: 'Lines (text lines, blocks, array entries, `key: value` map entries) only in `to`.' },
      removed: { type: 'array', items: { type: 'string' }, description: 'Lines only in `from`.' },
    },
  },
}

/** The description itself (docs/rest.md lists the same endpoints; a test checks). */
export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'yjs-collab-server REST API',
    version: packageVersion(),
    description:
      'Documents, chat history and version history over HTTP. Authenticate with the same JWT as the WebSocket, as a Bearer token; its `docs` claim gives the role per document (read < write < admin). Without a configured key (open mode) everything is allowed. Writes are durably stored before the 2xx and reach connected clients. Every request counts against per-token and per-address rate limits (429 `rate-limited` with Retry-After); cross-origin browser calls only from ALLOWED_ORIGINS. See docs/rest.md.',
  },
  servers: [{ url: '/' }],
  security: [{ bearer: [] }],
  paths: {
    '/api/openapi.json': { get: { operationId: 'openapi', summary: 'This description.', security: [], responses: { '200': json({ type: 'object' }, 'OpenAPI 3.1 document.') } } },
    '/api/documents': {
      get: {
        operationId: 'listDocuments',
        summary: 'Documents the token may read, by name, paged.',
        parameters: [query('after', 'Start after this name (the `next` of the previous page).', { type: 'string' }), query('limit', 'Page size.', { type: 'integer', minimum: 1, maximum: 1000, default: 100 })],
        responses: {
          '200': json({ type: 'object', required: ['documents', 'next'], properties: { documents: { type: 'array', items: ref('DocumentInfo') }, next: { type: ['string', 'null'], description: 'Pass as `after` for the next page; null at the end.' } } }, 'A page of documents.'),
          '400': error('Bad `limit` (`bad-request`).'),
          '401': error('No valid token.'),
          '429': error('Too many requests from this token or address (`rate-limited`); see `Retry-After`.'),
        },
      },
    },
    '/api/documents/{name}': {
      parameters: [name],
      get: {
        operationId: 'readDocument',
        summary: 'Read a document (role: read): JSON of its shared types; `?type=` for one text type as plain text; `Accept: application/octet-stream` for its state as a Yjs update.',
        parameters: [query('type', 'Name of a Y.Text or Y.XmlFragment to return as text/plain.', { type: 'string' })],
        responses: {
          '200': {
            description: 'The document.',
            content: {
              'application/json': { schema: { type: 'object', required: ['name', 'types'], properties: { name: { type: 'string' }, types: ref('SharedTypes') } } },
              'text/plain': { schema: { type: 'string' } },
              'application/octet-stream': { schema: { type: 'string', contentEncoding: 'binary' } },
            },
          },
          ...errors(['404', 'No such document or shared type (`not-found`).']),
        },
      },
      delete: {
        operationId: 'deleteDocument',
        summary: 'Delete a document (role: admin): its connections are closed (4410 document-deleted); it is removed from memory and storage, versions included.',
        responses: { '204': { description: 'Deleted.' }, ...errors(notFound) },
      },
    },
    '/api/documents/{name}/updates': {
      parameters: [name],
      post: {
        operationId: 'applyUpdate',
        summary: 'Apply a Yjs update (role: write). Stored before the 200, then applied and broadcast to connected clients.',
        requestBody: { required: true, content: { 'application/octet-stream': { schema: { type: 'string', contentEncoding: 'binary' } } } },
        responses: {
          '200': json(
            {
              type: 'object',
              required: ['name', 'bytes'],
              properties: {
                name: { type: 'string' },
                bytes: { type: 'integer' },
                dropped: {
                  type: 'object',
                  required: ['error', 'clients'],
                  description: 'Present when new structs under Yjs client ids other users own were taken out (`client-id-owned`): those were not stored or applied; the rest was.',
                  properties: { error: { type: 'string', enum: [Errors.ClientIdOwned.reason] }, clients: { type: 'array', items: { type: 'integer' }, description: 'The client ids left out.' } },
                },
              },
            },
            'Stored and applied (without what `dropped` names).',
          ),
          ...errors(
            ['413', 'Update over MAX_UPDATE_BYTES (`payload-too-large`) or document over MAX_DOCUMENT_BYTES (`document-too-large`).'],
            ['415', 'Not application/octet-stream (`unsupported-media-type`).'],
            ['422', 'The update builds on changes the document does not have (`missing-dependencies`), or breaks the chat rules for the token\'s user (`policy-violation`).'],
            ['503', 'Storage could not take it (`storage-unavailable`), or the document is not loaded and MAX_DOCUMENTS are, all in use (`server-at-capacity`); nothing applied. Retry after `Retry-After`.'],
          ),
        },
      },
    },
    '/api/documents/{name}/authors': {
      parameters: [name],
      get: {
        operationId: 'documentAuthors',
        summary:
          'Who wrote with which Yjs client id (role: read): each id the document’s structs are under, and the user (`sub`) who owns it — the first to use it. An editor colours text by author with it (an item’s `id.client` → this map). Empty in open mode.',
        responses: {
          '200': json(
            { type: 'object', required: ['name', 'authors'], properties: { name: { type: 'string' }, authors: { type: 'object', additionalProperties: { type: 'string' }, description: 'Client id (decimal) → user id.' } } },
            'The authors.',
          ),
          ...errors(notFound),
        },
      },
    },
    '/api/documents/{name}/activity': {
      parameters: [name],
      get: {
        operationId: 'documentActivity',
        summary:
          'Who changed the document, when, how much and which shared types (role: read): its events of the change feed (docs/events.md), newest first, back to its last `document.deleted` (a document created again under the name starts afresh), each with `authors` — for `document.updated` everyone whose changes its window holds (`data.types` names them per type, `data.updates`/`data.bytes` say how much), none for presence and version events, else the actor. Kept for EVENTS_RETENTION_MS, across compaction.',
        parameters: [
          query('limit', 'At most this many (1–1000).', { type: 'integer', minimum: 1, maximum: 1000, default: 100 }),
          query('before', 'Only events older than this event id (the `next` of the previous page).', { type: 'integer', minimum: 1 }),
          query('types', 'Comma-separated event types, or `prefix.*`. Default: all.', { type: 'string' }),
        ],
        responses: {
          '200': json(
            {
              type: 'object',
              required: ['name', 'activity', 'next'],
              properties: {
                name: { type: 'string' },
                activity: { type: 'array', items: { allOf: [ref('Event'), { type: 'object', required: ['authors'], properties: { authors: { type: 'array', items: { type: 'string' } } } }] } },
                next: { type: ['string', 'null'], description: 'Pass as `before` for older events; null when there are none.' },
              },
            },
            'The activity.',
          ),
          ...errors(['404', 'The change feed is off (EVENTS=off) (`not-found`).']),
        },
      },
    },
    '/api/documents/{name}/chat': {
      parameters: [name],
      get: {
        operationId: 'chatHistory',
        summary: 'Chat messages (role: read), oldest first, paged backwards: the last `limit`, or the `limit` before message `before`. Deleted messages are left out.',
        parameters: [query('before', 'A message id.', { type: 'string' }), query('limit', 'Page size.', { type: 'integer', minimum: 1, maximum: 1000, default: 50 })],
        responses: {
          '200': json({ type: 'object', required: ['messages', 'hasMore'], properties: { messages: { type: 'array', items: ref('ChatMessage') }, hasMore: { type: 'boolean' } } }, 'A page of messages.'),
          ...errors(['404', 'No such document, or no message `before` (`not-found`).']),
        },
      },
    },
    '/api/documents/{name}/versions': {
      parameters: [name],
      get: {
        operationId: 'listVersions',
        summary: 'Versions (role: read), newest first.',
        parameters: [query('before', 'Only versions older than this id (the `next` of the previous page).', { type: 'integer' }), query('limit', 'Page size.', { type: 'integer', minimum: 1, maximum: 1000, default: 100 })],
        responses: {
          '200': json({ type: 'object', required: ['versions', 'next', 'role'], properties: { versions: { type: 'array', items: ref('Version') }, next: { type: ['integer', 'null'] }, role: { type: 'string', enum: ['read', 'write', 'admin'], description: "The caller's role on the document (admin in open mode): what else it may do here." } } }, 'A page of versions.'),
          ...errors(),
        },
      },
      post: {
        operationId: 'createVersion',
        summary: 'Save the current state as a named version (role: write).',
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['label'], properties: { label: { type: 'string', minLength: 1, maxLength: 200 } } } } } },
        responses: { '201': json(ref('Version'), 'Saved; Location names it.'), ...errors(notFound, ['415', 'Not JSON (`unsupported-media-type`).']) },
      },
    },
    '/api/documents/{name}/versions/{id}': {
      parameters: [name, id],
      get: {
        operationId: 'readVersion',
        summary: 'One version (role: read) as JSON of its shared types, or its state as a Yjs update with `Accept: application/octet-stream`.',
        responses: {
          '200': {
            description: 'The version.',
            content: {
              'application/json': { schema: { type: 'object', required: ['version', 'types'], properties: { version: ref('Version'), types: ref('SharedTypes') } } },
              'application/octet-stream': { schema: { type: 'string', contentEncoding: 'binary' } },
            },
          },
          ...errors(notFound),
        },
      },
    },
    '/api/documents/{name}/versions/{id}/restore': {
      parameters: [name, id],
      post: {
        operationId: 'restoreVersion',
        summary: 'Restore a version (role: admin): the current state is first saved as a `pre-restore` version, then the change back to the version is stored and sent to every client as a new edit.',
        responses: {
          '200': json({ type: 'object', required: ['restored', 'preRestore'], properties: { restored: ref('Version'), preRestore: ref('Version') } }, 'Restored.'),
          ...errors(notFound, ['413', 'The restored document would be over MAX_DOCUMENT_BYTES.'], ['503', 'Storage could not take it (`storage-unavailable`), or MAX_DOCUMENTS are loaded and in use (`server-at-capacity`).']),
        },
      },
    },
    '/api/documents/{name}/diff': {
      parameters: [name],
      get: {
        operationId: 'diffVersions',
        summary: 'What changed between two versions (or a version and `current`), per shared type: lines added and removed (unchanged types are left out), and who wrote it.',
        parameters: [query('from', 'A version id, or `current`.', { type: 'string' }, true), query('to', 'A version id, or `current`.', { type: 'string' }, true)],
        responses: {
          '200': json(
            {
              type: 'object',
              required: ['from', 'to', 'types', 'authors'],
              properties: {
                from: {},
                to: {},
                types: { type: 'object', additionalProperties: ref('TypeDiff') },
                authors: { type: 'array', items: { type: 'string' }, description: 'Users whose client ids wrote what `to` has beyond `from` (empty in open mode: no users). Yjs keeps no author for a deletion: one who only deleted is in the activity, not here.' },
              },
            },
            'The differences.',
          ),
          ...errors(notFound),
        },
      },
    },
    ...eventPaths,
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The same token as the WebSocket (`npm run token`).' } },
    schemas,
  },
}

export const openapiRoutes: ApiRoute[] = [{ method: 'GET', path: '/api/openapi.json', handler: async ({ res }) => sendJson(res, 200, openApiDocument) }]
