/** The envelope of docs/events.md, version 1, and the filters every transport applies (SSE, webhooks). */
import { type AccessRules, patternRules, roleFor } from '../auth/access.ts'
import type { FeedEvent } from '../storage/types.ts'

export const ENVELOPE_VERSION = 1

/** Every event type of version 1 (docs/events.md#event-types). */
export const EVENT_TYPES = [
  'document.created',
  'document.updated',
  'document.deleted',
  'chat.message.created',
  'chat.message.edited',
  'chat.message.deleted',
  'version.created',
  'version.restored',
  'presence.joined',
  'presence.left',
] as const

export interface Envelope {
  v: number
  id: string
  type: string
  document: string
  time: string
  actor: string
  data: unknown
}

export function envelope(event: FeedEvent): Envelope {
  return { v: ENVELOPE_VERSION, id: String(event.id), type: event.type, document: event.document, time: new Date(event.time).toISOString(), actor: event.actor, data: event.data }
}

/** A filter of event types: exact types, or `prefix.*`; empty: every type. Throws on a malformed entry. */
export function typeFilter(types: readonly string[]): (type: string) => boolean {
  if (types.length === 0) return () => true
  const exact = new Set<string>()
  const prefixes: string[] = []
  for (const t of types) {
    if (!/^[a-z]+(\.[a-z]+)*(\.\*)?$/.test(t) && t !== '*') throw new Error(`${JSON.stringify(t)} is not an event type or a "prefix.*"`)
    if (t === '*') return () => true
    if (t.endsWith('.*')) prefixes.push(t.slice(0, -1))
    else exact.add(t)
  }
  return (type) => exact.has(type) || prefixes.some((p) => type.startsWith(p))
}

/** A filter of document names by `docs`-claim patterns (`name`, `prefix/*`, `*`); empty: every document. Throws on a malformed pattern. */
export function documentFilter(patterns: readonly string[]): (document: string) => boolean {
  if (patterns.length === 0) return () => true
  const rules: AccessRules = patternRules(patterns)
  return (document) => roleFor(rules, document) !== null
}

/** A comma-separated query parameter as a list. */
export const listParam = (value: string | null): string[] => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)
