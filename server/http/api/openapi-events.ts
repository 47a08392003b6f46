/** The change feed's part of the OpenAPI description (docs/events.md): event streams, stream tickets, webhooks. */
import { EVENT_TYPES } from '../../events/envelope.ts'

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } })
const error = (description: string) => json(ref('Error'), description)
const query = (n: string, description: string, schema: unknown) => ({ name: n, in: 'query', required: false, description, schema })
const name = { name: 'name', in: 'path', required: true, description: 'Document name, percent-encoded as one path segment.', schema: { type: 'string' } }

const webhookId = { name: 'id', in: 'path', required: true, description: 'Webhook endpoint id.', schema: { type: 'string' } }
const webhookErrors = {
  '401': error('No valid token.'),
  '404': error('No such endpoint the token manages, or the change feed is off (`not-found`).'),
  '429': error('Too many requests (`rate-limited`).'),
}

export const eventSchemas = {
  WebhookEndpoint: {
    type: 'object',
    required: ['id', 'url', 'types', 'documents', 'source', 'createdBy', 'delivery'],
    properties: {
      id: { type: 'string' },
      url: { type: 'string', format: 'uri' },
      types: { type: 'array', items: { type: 'string' }, description: 'Event types (`prefix.*` allowed); empty: all.' },
      documents: { type: 'array', items: { type: 'string' }, description: 'Document patterns as in the docs claim; empty: all.' },
      source: { type: 'string', enum: ['config', 'api'], description: '`config`: WEBHOOKS_FILE (not changed here); `api`: this resource.' },
      createdBy: { type: ['string', 'null'] },
      delivery: {
        type: 'object',
        required: ['cursor', 'attempts', 'nextAttemptAt', 'lastError'],
        properties: {
          cursor: { type: 'string', description: 'Every event up to this id is delivered or parked.' },
          attempts: { type: 'integer', description: 'Failed attempts at the next event.' },
          nextAttemptAt: { type: ['string', 'null'], format: 'date-time' },
          lastError: { type: ['string', 'null'] },
        },
      },
    },
  },
  WebhookFailure: {
    type: 'object',
    required: ['id', 'event', 'attempts', 'lastError', 'failedAt', 'replay'],
    properties: {
      id: { type: 'integer' },
      event: { type: 'string' },
      attempts: { type: 'integer' },
      lastError: { type: 'string' },
      failedAt: { type: 'string', format: 'date-time' },
      replay: { type: 'boolean', description: 'A replay was asked for and has not been tried yet.' },
    },
  },
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
  '/api/webhooks': {
    get: {
      operationId: 'listWebhooks',
      summary: 'Webhook endpoints the token manages: those whose document patterns it is admin over (all in open mode). Secrets are not shown.',
      responses: { '200': json({ type: 'object', required: ['endpoints'], properties: { endpoints: { type: 'array', items: ref('WebhookEndpoint') } } }, 'The endpoints.'), ...webhookErrors },
    },
    post: {
      operationId: 'createWebhook',
      summary: 'Add an endpoint (admin over every document its `documents` patterns name; empty = all). It gets the events committed from now on. The answer holds the secret (`whsec_…`), shown this once, unless you sent your own.',
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['url'],
              properties: { id: { type: 'string', pattern: '^[A-Za-z0-9][\\w.-]{0,63}$', description: 'Default: a random UUID.' }, url: { type: 'string', format: 'uri' }, types: { type: 'array', items: { type: 'string' } }, documents: { type: 'array', items: { type: 'string' } }, secret: { type: 'string', pattern: '^whsec_' } },
            },
          },
        },
      },
      responses: {
        '201': json({ allOf: [ref('WebhookEndpoint'), { type: 'object', required: ['secret'], properties: { secret: { type: 'string' } } }] }, 'Added; Location names it.'),
        '400': error('Not a valid endpoint (`bad-request`).'),
        '403': error('The token is not admin over every document the endpoint names (`forbidden`).'),
        '422': error('The URL is not http(s) or resolves to an address webhooks may not reach (`webhook-url-refused`).'),
        ...webhookErrors,
      },
    },
  },
  '/api/webhooks/{id}': {
    parameters: [webhookId],
    delete: {
      operationId: 'deleteWebhook',
      summary: 'Remove an endpoint made with this resource, with its parked deliveries.',
      responses: { '204': { description: 'Removed.' }, '403': error('Set by the deployment (WEBHOOKS_FILE) (`forbidden`).'), ...webhookErrors },
    },
  },
  '/api/webhooks/{id}/failures': {
    parameters: [webhookId],
    get: {
      operationId: 'listWebhookFailures',
      summary: 'Deliveries given up on after WEBHOOK_RETRY_FOR_MS (parked), with their last error.',
      responses: { '200': json({ type: 'object', required: ['failures'], properties: { failures: { type: 'array', items: ref('WebhookFailure') } } }, 'The parked deliveries.'), ...webhookErrors },
    },
  },
  '/api/webhooks/{id}/failures/{failure}/replay': {
    parameters: [webhookId, { name: 'failure', in: 'path', required: true, description: 'Parked delivery id.', schema: { type: 'integer' } }],
    post: {
      operationId: 'replayWebhookFailure',
      summary: 'Send a parked delivery again (once, soon); delivered, it leaves the list; failed, it stays with the new error.',
      responses: { '202': json({ type: 'object', properties: { replay: { type: 'boolean' } } }, 'Queued.'), ...webhookErrors },
    },
  },
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
