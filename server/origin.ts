/**
 * The one transaction-origin type: who made a change to a loaded document, as
 * Yjs passes it to `update` listeners and Hocuspocus to `onChange`. The
 * shapes are Hocuspocus's own (`TransactionOrigin`: a client connection,
 * another instance through Redis, the server itself), plus one marker the
 * write pipeline adds for a server-side write it stored before applying.
 */
import { type TransactionOrigin as HocuspocusOrigin, isTransactionOrigin } from '@hocuspocus/server'

/** Which feature made a server-side write the pipeline stored first. */
export type DurableFeature = 'rest' | 'restore'

/** A server-side write already in storage: persistence does not append it again. */
export interface DurableOrigin {
  readonly source: 'local'
  readonly context: { readonly durable: DurableFeature }
}

export type TransactionOrigin = HocuspocusOrigin | DurableOrigin

const DURABLE: Record<DurableFeature, DurableOrigin> = {
  rest: Object.freeze({ source: 'local', context: Object.freeze({ durable: 'rest' }) }),
  restore: Object.freeze({ source: 'local', context: Object.freeze({ durable: 'restore' }) }),
}

/** The origin of a server-side write by `feature`, stored before it is applied. */
export const durableOrigin = (feature: DurableFeature): DurableOrigin => DURABLE[feature]

/** Updates from other instances (Redis fan-out): stored by the instance that acknowledged them. */
export const FROM_PEERS: HocuspocusOrigin = Object.freeze({ source: 'redis' })

/** Where a change came from. */
export function originKind(origin: unknown): 'connection' | 'redis' | 'durable' | 'local' | 'other' {
  if (!isTransactionOrigin(origin)) return 'other'
  if (origin.source !== 'local') return origin.source
  return Object.values(DURABLE).includes(origin as DurableOrigin) ? 'durable' : 'local'
}
