/** The change feed's part of the OpenAPI description (docs/events.md): event streams, stream tickets, webhooks. */
import { EVENT_TYPES } from '../../events/envelope.ts'

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } })
const error = (description: string) => json(ref('Error'), description)
const query = (n: string, description: string, schema: unknown) => ({ name: n, in: 'query', required: false, description, schema })
const name = { name: 'name', in: 'path', required: true, description: 'Document name, percent-encoded as one path segment.', schema: { type: 'string' } }

export const eventSchemas = {
  Event: {
    type: 'object',
    description: 'The envelope of docs/events.md, version 1. In a stream: `id:` is the event id, `event:` its type, `data:` this object.',
    required: ['v', 'id', 'type', 'document', 'time', 'actor', 'data'],
    properties: {
      v: { type: 'integer', const: 1 },
      id: { type: 'string', pattern: '^[0-9]+$', description: 'Increasing in commit order; the resume cursor and the webhook-id.' },
      type: { type: 'string', examples: [...EVENT_TYPES] },
      document: { type: 'string' },
      time: { type: 'string', format: 'date-time' },
      actor: { type: 'string', description: 'The `sub` of the token that caused it; `server`; `anonymous` in open mode.' },
      data: { type: 'object', additionalProperties: true },
    },
  },
}

const streamParams = [
  query('types', 'Comma-separated event types, or `prefix.*` (e.g. `chat.*,document.updated`). Default: all.', { type: 'string' }),
  query('since', 'Resume after this event id (as `Last-Event-ID`, which wins when both are sent).', { type: 'string', pattern: '^[0-9]+$' }),
  query('ticket', 'A stream ticket from POST /api/events/tickets, instead of the Authorization header (browsers).', { type: 'string' }),
  { name: 'Last-Event-ID', in: 'header', required: false, description: 'Resume after this event id (EventSource sends it when it reconnects).', schema: { type: 'string' } },
]

const streamResponses = {
  '200': {
    description:
      'A Server-Sent Events stream: one SSE event per feed event (`id`, `event: <type>`, `data: <Event JSON>`), `: keep-alive` comments when idle, and a last `event: close` with `{"reason": …}` (`token-expired`, `slow-consumer`, `cursor-gone`, `server-shutting-down`).',
    content: { 'text/event-stream': { schema: { type: 'string' }, itemSchema: ref('Event') } },
  },
  '400': error('A malformed cursor, type or pattern (`bad-request`).'),
  '401': error('No valid token or ticket (`unauthorized`, `token-expired`).'),
  '404': error('The change feed is off (EVENTS=off) (`not-found`).'),
  '410': error('The cursor is older than retention kept (`cursor-gone`): start over without one.'),
  '429': error('Too many streams from this address (`too-many-streams`), or requests (`rate-limited`).'),
}

export const eventPaths = {
  '/api/events': {
    get: {
      operationId: 'streamEvents',
      summary: 'The change feed of every document the token may read (any role), as Server-Sent Events; resumable by Last-Event-ID or `since`.',
      parameters: [query('documents', 'Comma-separated document patterns as in the docs claim (`name`, `prefix/*`, `*`). Default: all the token may read.', { type: 'string' }), ...streamParams],
      responses: streamResponses,
    },
  },
  '/api/events/tickets': {
    post: {
      operationId: 'createStreamTicket',
      summary: "A short-lived ticket (60 s, one use) that opens one event stream with this token's rights, for a browser's EventSource (which cannot send headers): never put a long-lived token in a URL.",
      responses: {
        '201': json({ type: 'object', required: ['ticket', 'expiresAt'], properties: { ticket: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } } }, 'The ticket.'),
        '401': error('No valid token.'),
        '404': error('The change feed is off (`not-found`).'),
        '429': error('Too many requests (`rate-limited`).'),
      },
    },
  },
  '/api/documents/{name}/events': {
    parameters: [name],
    get: {
      operationId: 'streamDocumentEvents',
      summary: "One document's change feed (role: read), as Server-Sent Events.",
      parameters: streamParams,
      responses: { ...streamResponses, '403': error('The token does not open this document (`forbidden`).') },
    },
  },
}
