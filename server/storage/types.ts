/**
 * The storage contract. Every backend keeps, per document, an append-only log of
 * Yjs updates and at most one snapshot (the log folded up to some point).
 *
 * The durability rule the server builds on: when `append` resolves, the update
 * is in the storage that the next `load` reads. The server acknowledges an
 * update to a client only after that.
 */
export interface StoredDocument {
  /** The folded state, or null if the document was never compacted. */
  snapshot: Uint8Array | null
  /** Updates appended after the snapshot, oldest first. */
  updates: Uint8Array[]
  /** Who owns which Yjs client id of the document (the claims appends won); kept across compaction. */
  owners?: ClientClaim[]
}

/** A Yjs client id of one document, and the user (token `sub`) who owns it: the first to claim it. */
export interface ClientClaim {
  readonly client: number
  readonly owner: string
}

export interface DocumentInfo {
  name: string
  /** Bytes held for the document (snapshot + log). */
  bytes: number
  /** Last append or compaction, ms since the epoch. */
  updatedAt: number
}

/**
 * What made a version: `named` (a user asked for it, with a label), `auto`
 * (VERSION_EVERY_MS of activity), `pre-restore` (the state just before a
 * restore replaced it).
 */
export type VersionKind = 'named' | 'auto' | 'pre-restore'

export interface VersionInfo {
  /** Unique across documents, increasing: newer versions have larger ids. */
  id: number
  kind: VersionKind
  /** The name given to a named version; null otherwise. */
  label: string | null
  /** User id of whoever asked for it; null for automatic versions and open mode. */
  createdBy: string | null
  /** ms since the epoch. */
  createdAt: number
  /** Size of the stored state. */
  bytes: number
}

export interface NewVersion {
  kind: VersionKind
  label: string | null
  createdBy: string | null
  /** The document's full state (`Y.encodeStateAsUpdate`). */
  data: Uint8Array
}

/** The change-feed events of a version being stored, made from it (its id is given by the insert): they commit in its transaction. */
export type Announce = (info: VersionInfo) => readonly NewEvent[]

export interface Storage {
  /** Read the document's snapshot and the log after it. A missing document reads as empty. */
  load(name: string): Promise<StoredDocument>
  /**
   * Durably append one update. Resolves only when it is stored. With `claims`,
   * each client id is claimed for its owner in the same transaction, unless
   * it is owned already (the database decides between concurrent claims):
   * when one is another owner's, nothing of this append is stored and it
   * resolves with those claims as stored (the winners).
   */
  append(name: string, update: Uint8Array, claims?: readonly ClientClaim[], feed?: AppendExtras): Promise<ClientClaim[] | void>
  /** The change feed's outbox (docs/events.md): events in commit order, dirty marks. */
  readonly events: EventStore
  /** Webhook endpoints and their delivery state (docs/events.md#webhooks). */
  readonly webhooks: WebhookStore
  /** Who owns which client id of the document (also what `load` returns as `owners`). */
  owners(name: string): Promise<ClientClaim[]>
  /**
   * Who sent the log entries stored at or after `since` (ms since the epoch),
   * each once, sorted. Entries compaction folded are gone, and who sent them
   * with them (the change feed keeps the authors per window).
   */
  senders(name: string, since: number): Promise<string[]>
  /**
   * Fold the snapshot and log into a new snapshot in one transaction, never
   * losing an append that races it. Returns the number of log entries folded.
   */
  compact(name: string): Promise<number>
  /** Number and bytes of log entries not yet folded into the snapshot. */
  logSize(name: string): Promise<{ count: number; bytes: number }>
  /** Known documents, ordered by name, paged. */
  list(options?: { after?: string; limit?: number }): Promise<DocumentInfo[]>
  /** Remove a document: snapshot, log, versions and client-id owners — with `events` (its `document.deleted`) in the same transaction. */
  delete(name: string, events?: readonly NewEvent[]): Promise<void>
  /**
   * Durably store a version: the document's full state at one moment, in its
   * own table, never read or changed by compaction. Resolves once committed.
   */
  saveVersion(name: string, version: NewVersion, announce?: Announce): Promise<VersionInfo>
  /**
   * Store a version unless the newest stored version of the same kind already
   * holds its state: `covered(newest.data)` decides, inside the write
   * transaction, which is serialised per document across every process on
   * this storage — so instances racing to save the same state store it once.
   * Resolves with the stored version, or null when it was covered.
   */
  saveVersionUnlessCovered(name: string, version: NewVersion, covered: (newest: Uint8Array) => boolean, announce?: Announce): Promise<VersionInfo | null>
  /** A document's versions, newest first; `before` pages by id. */
  listVersions(name: string, options?: { before?: number; limit?: number }): Promise<VersionInfo[]>
  /** One version with its state, or null (also when it belongs to another document). */
  getVersion(name: string, id: number): Promise<(VersionInfo & { data: Uint8Array }) | null>
  /** Keep the newest `keep` versions of these kinds, delete the older ones; returns how many went. */
  pruneVersions(name: string, kinds: readonly VersionKind[], keep: number): Promise<number>
  /** Throws when the storage cannot currently write `bytes` more (a write that is rolled back). */
  checkWritable(bytes?: number): Promise<void>
  close(): Promise<void>
}

/**
 * A change-feed event as stored (docs/events.md): `id` is the deployment's
 * commit-ordered cursor (an event with a larger id committed later; no event
 * ever becomes visible below an id a reader has already seen).
 */
export interface FeedEvent {
  readonly id: number
  /** Dotted topic: document.updated, chat.message.created, … */
  readonly type: string
  readonly document: string
  /** ms since the epoch, when it was committed. */
  readonly time: number
  /** The token's `sub` of whoever caused it, or `server`. */
  readonly actor: string
  readonly data: unknown
}

/** An event to store: its id and time are given at commit. */
export type NewEvent = Omit<FeedEvent, 'id' | 'time'>

/**
 * What commits with an append for the change feed: events born of this very
 * change (chat), and the document's dirty mark (`document.updated` is
 * coalesced: the mark says an event is owed, the coalescer pays it).
 */
export interface AppendExtras {
  /** Who sent it (the token's `sub`, `anonymous` in open mode, or `server`): stored with the log entry, with its time. */
  readonly sender?: string
  readonly events?: readonly NewEvent[]
  readonly mark?: DirtyMark
}

/**
 * "An event is owed for this document": written by `instance` in the cycle
 * `cycle` of its coalescer; cleared in the same transaction as the event that
 * pays it (EventStore.write), only for marks of that cycle or older.
 */
export interface DirtyMark {
  readonly instance: string
  readonly cycle: number
}

/** One document's mark of one instance. */
export interface MarkRef extends DirtyMark {
  readonly document: string
}

/** A dirty mark as stored, with when it was last set (ms). */
export interface StoredMark extends MarkRef {
  readonly at: number
}

export interface EventStore {
  /**
   * Store events in one transaction, and clear the marks they pay: for each
   * entry of `clear`, the document's mark of that instance if its cycle is ≤
   * the entry's (a mark set again in a later cycle stays); a store that
   * keeps no marks (`marksFromLog`) forgets the line of each instance named
   * there (a dead one's, paid now). `paid`: every change `instance` committed
   * before `through` (ms) now has its `document.updated` — the line such a
   * store keeps. Resolves with the stored events, ids in commit order.
   */
  write(events: readonly NewEvent[], clear?: readonly MarkRef[], paid?: { instance: string; through: number }): Promise<FeedEvent[]>
  /** Events with id > `after`, oldest first, at most `limit`. */
  read(after: number, limit: number): Promise<FeedEvent[]>
  /** One document's events with id < `before` (all when absent), newest first, at most `limit` (a document's activity). */
  ofDocument(document: string, options: { before?: number; limit: number }): Promise<FeedEvent[]>
  /** The newest id (0 when none) and the newest id retention removed (0 when none): a cursor below `pruned` cannot resume. */
  bounds(): Promise<{ newest: number; pruned: number }>
  /** Delete events older than `before` (ms since the epoch); returns how many went. */
  prune(before: number): Promise<number>
  /** Dirty marks set before `before` (ms), of any instance but `except`. */
  marks(before: number, except?: string): Promise<StoredMark[]>
  /**
   * True when the store writes no marks (AppendExtras.mark is ignored) and
   * tells what is owed from its own log instead: per instance a line, and
   * every document changed at or after a dead instance's line is owed
   * (SQLite: its processes are on one host). The append then costs nothing
   * more for `document.updated`.
   */
  readonly marksFromLog: boolean
  /** Before this instance's first append: start its line now (marksFromLog stores). */
  begin(instance: string): Promise<void>
  /** This instance is alive (marksFromLog stores: so others do not take its line for a dead one's). */
  alive(instance: string): Promise<void>
  /** A clean stop with nothing left to pay: forget this instance's line. */
  end(instance: string): Promise<void>
}

/** A webhook endpoint as configured (docs/events.md#webhooks). */
export interface WebhookConfig {
  readonly id: string
  readonly url: string
  /** `whsec_…` (Standard Webhooks). */
  readonly secret: string
  /** Event types (`chat.*` allowed); empty: all. */
  readonly types: readonly string[]
  /** Document patterns as in the docs claim; empty: all. */
  readonly documents: readonly string[]
  /** `config`: from WEBHOOKS_FILE; `api`: made with the admin REST resource. */
  readonly source: 'config' | 'api'
  readonly createdBy: string | null
}

/** Where an endpoint's delivery stands. */
export interface DeliveryState {
  /** Every event up to this id is delivered or parked. */
  readonly cursor: number
  /** Failed attempts at the event after the cursor. */
  readonly attempts: number
  /** No attempt before this (ms). */
  readonly nextAt: number
  /** When the event after the cursor first failed (ms), null when it has not. */
  readonly firstFailedAt: number | null
  readonly lastError: string | null
}

export type WebhookEndpoint = WebhookConfig & DeliveryState

/** A delivery given up on (parked): listed, and sent again on request. */
export interface WebhookFailure {
  readonly id: number
  readonly endpoint: string
  readonly event: number
  readonly attempts: number
  readonly lastError: string
  readonly failedAt: number
  /** Asked to be sent again. */
  readonly replay: boolean
}

/** What one turn of delivery did, written when the endpoint is let go. */
export interface DeliveryOutcome {
  readonly state: DeliveryState
  /** Events given up on in this turn. */
  readonly parked: ReadonlyArray<{ event: number; attempts: number; lastError: string }>
  /** Replays tried: delivered ones go, failed ones stay with the new error. */
  readonly replayed: ReadonlyArray<{ id: number; delivered: boolean; error?: string }>
}

export interface WebhookStore {
  list(): Promise<WebhookEndpoint[]>
  get(id: string): Promise<WebhookEndpoint | null>
  /** Add an endpoint (delivering from after event `cursor`); a `config` one with the same id is updated, its delivery state kept. */
  put(endpoint: WebhookConfig, cursor: number): Promise<WebhookEndpoint>
  delete(id: string): Promise<boolean>
  /**
   * Deliver for endpoint `id` if it is due (`nextAt` ≤ `now`) and no one else
   * is delivering for it — across instances on a shared database (a row lock,
   * skipped when held) — running `work` and storing its outcome. Resolves
   * false when it was not due, or held elsewhere.
   */
  claim(id: string, now: number, work: (endpoint: WebhookEndpoint, replays: readonly WebhookFailure[]) => Promise<DeliveryOutcome>): Promise<boolean>
  failures(endpoint: string): Promise<WebhookFailure[]>
  /** Mark a parked delivery to be sent again; false when there is no such failure of that endpoint. */
  replay(endpoint: string, failure: number): Promise<boolean>
}

/** The configured storage cannot be used at all (at start): `message` is one plain sentence for the operator. */
export class StorageOpenError extends Error {
  override readonly name = 'StorageOpenError'
}
