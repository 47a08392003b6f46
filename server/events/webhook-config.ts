/**
 * Webhook endpoint definitions (docs/events.md#webhooks), from WEBHOOKS_FILE
 * or the admin REST resource: checked the same way either way.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { patternRules } from '../auth/access.ts'
import type { WebhookConfig } from '../storage/types.ts'
import { typeFilter } from './envelope.ts'

/** A definition that cannot be used: one sentence naming the field. */
export class WebhookConfigError extends Error {
  override readonly name = 'WebhookConfigError'
}

const ID = /^[A-Za-z0-9][\w.-]{0,63}$/

/** A new secret: `whsec_` and 32 random bytes, base64 (what standardwebhooks reads). */
export const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`

function strings(value: unknown, field: string): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string') || value.length > 100) throw new WebhookConfigError(`${field}: a list of at most 100 strings`)
  return value as string[]
}

/** Check one definition; `defaults` fills what the caller may leave out (REST: a fresh id and secret). */
export function parseEndpoint(raw: unknown, source: WebhookConfig['source'], createdBy: string | null, defaults: { id?: string; secret?: string } = {}): WebhookConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new WebhookConfigError('an endpoint is an object: { "url", "types", "documents", … }')
  const o = raw as Record<string, unknown>
  const id = o.id ?? defaults.id
  if (typeof id !== 'string' || !ID.test(id)) throw new WebhookConfigError('id: 1 to 64 letters, digits, _ . - (starting with a letter or digit)')
  if (typeof o.url !== 'string' || o.url.length > 2048) throw new WebhookConfigError(`${id}: url: an http(s) URL`)
  let url: URL
  try {
    url = new URL(o.url)
  } catch {
    throw new WebhookConfigError(`${id}: url: not a URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WebhookConfigError(`${id}: url: http or https only`)
  const secret = o.secret ?? defaults.secret
  if (typeof secret !== 'string' || !/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/.test(secret)) throw new WebhookConfigError(`${id}: secret: "whsec_" and at least 24 bytes in base64`)
  const types = strings(o.types, `${id}: types`)
  const documents = strings(o.documents, `${id}: documents`)
  try {
    typeFilter(types)
    patternRules(documents)
  } catch (error) {
    throw new WebhookConfigError(`${id}: ${error instanceof Error ? error.message : String(error)}`)
  }
  return { id, url: o.url, secret, types, documents, source, createdBy }
}

/** WEBHOOKS_FILE: a JSON array of endpoints. Throws WebhookConfigError. */
export function loadWebhooksFile(path: string, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): WebhookConfig[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(read(path))
  } catch (error) {
    throw new WebhookConfigError(`cannot read it as JSON: ${error instanceof Error ? error.message : String(error)}`)
  }
  if (!Array.isArray(parsed)) throw new WebhookConfigError('it must hold a JSON array of endpoints')
  const endpoints = parsed.map((e) => parseEndpoint(e, 'config', null))
  const ids = endpoints.map((e) => e.id)
  if (new Set(ids).size !== ids.length) throw new WebhookConfigError('two endpoints have the same id')
  return endpoints
}
