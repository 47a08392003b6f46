/**
 * The reload journal: the changes of a room that IndexedDB has not yet
 * confirmed stored, kept in memory and written synchronously to localStorage
 * when the page may go away (`pagehide`, the page turning hidden, leaving the
 * room). IndexedDB cannot be flushed, and a reload aborts its open
 * transactions; localStorage is written at once. The next page load applies
 * the journal to the document (Yjs updates are idempotent: applying one the
 * document already has changes nothing) and removes it once IndexedDB has
 * stored it.
 *
 * Bounded: a written journal is at most `maxLength` characters. Over that,
 * changes the server already stored are left out first (the server sends
 * them back on the next sync), then the oldest others (the likeliest to be in
 * IndexedDB already), and `onError` gets a `JournalOverflowError`.
 *
 * One key per page and room (`yjs-collab-journal:<page id>:<store key>`), so
 * two tabs of the same room never overwrite each other's journal.
 */
import * as buffer from 'lib0/buffer'
import * as random from 'lib0/random'
import * as Y from 'yjs'

/** Longest journal written for one room, in characters (base64 of the merged changes). @default 262144 */
export const JOURNAL_MAX_LENGTH = 256 * 1024

const PREFIX = 'yjs-collab-journal:'
const FORMAT = '1:'
/** Past this many entries in memory (IndexedDB not confirming), older neighbours are merged... */
const COMPACT_AT = 256
/** ...all but the newest this many, which stay one by one for the bound's "newest first". */
const COMPACT_KEEP = 64

/** Web Storage, as much of it as the journal needs (`localStorage` in the browser). */
export type JournalStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem' | 'key' | 'length'>

/** Changes the server had not stored did not fit in the journal's bound: they survive a reload only if IndexedDB stored them. */
export class JournalOverflowError extends Error {
  /** Changes left out of the journal. */
  readonly dropped: number
  /** The bound, in characters. */
  readonly maxLength: number

  /** `dropped` of the unsaved changes were left out to stay within `maxLength`. */
  constructor(dropped: number, maxLength: number) {
    super(`reload journal: ${dropped} unsaved change(s) left out to stay within ${maxLength} characters`)
    this.name = 'JournalOverflowError'
    this.dropped = dropped
    this.maxLength = maxLength
  }
}

/** Options of `new ReloadJournal()`. */
export interface JournalOptions {
  storage: JournalStorage
  /** The room's offline store key (`offlineKey()`). */
  key: string
  /** @default JOURNAL_MAX_LENGTH */
  maxLength?: number
  onError: (error: unknown, context: string) => void
}

interface Entry {
  update: Uint8Array
  /** The server has stored it (a remote change, or a local one it acknowledged). */
  saved: boolean
  /** Order of recording; `confirmed(mark)` drops entries up to `mark`. */
  seq: number
}

/** The store key a journal key belongs to, or undefined if it is not a journal key. */
function storeKeyOf(key: string): string | undefined {
  if (!key.startsWith(PREFIX)) return undefined
  const rest = key.slice(PREFIX.length)
  const sep = rest.indexOf(':')
  return sep === -1 ? undefined : rest.slice(sep + 1)
}

function encode(entries: readonly Entry[]): string {
  return FORMAT + buffer.toBase64(Y.mergeUpdates(entries.map((e) => e.update)))
}

/** The update a journal value holds, or undefined if it is damaged (checked whole: applyUpdate could apply part of it). */
function decode(value: string): Uint8Array | undefined {
  if (!value.startsWith(FORMAT)) return undefined
  try {
    const update = buffer.fromBase64(value.slice(FORMAT.length))
    Y.decodeUpdate(update)
    return update
  } catch {
    // Damaged (cut short, or not base64): the caller reports and removes it.
    return undefined
  }
}

/** One room's journal in one page. */
export class ReloadJournal {
  /** Transaction origin of the changes `restore()` applies. */
  readonly origin = { journal: true }
  private readonly options: JournalOptions
  private readonly maxLength: number
  private readonly ownKey: string
  private entries: Entry[] = []
  private seq = 0
  /** Journals of earlier pages that `restore()` applied: key → value, removed once this page holds their changes. */
  private readonly consumed = new Map<string, string>()
  /** `seq` of the last restored entry: confirming up to it releases the consumed keys. */
  private restoredUpTo = 0
  private ownWritten = false

  /** A journal for `options.key`, under a fresh key of this page's own. */
  constructor(options: JournalOptions) {
    this.options = options
    this.maxLength = options.maxLength ?? JOURNAL_MAX_LENGTH
    this.ownKey = `${PREFIX}${random.uuidv4()}:${options.key}`
  }

  /** Changes held (not yet confirmed stored by IndexedDB). */
  get size(): number {
    return this.entries.length
  }

  /** The mark of everything recorded so far, for `confirmed()`. */
  get mark(): number {
    return this.seq
  }

  /** Apply what earlier pages journaled for this room to `doc` (origin `this.origin`), and hold it until confirmed. */
  restore(doc: Y.Doc): void {
    const { storage, key } = this.options
    const updates: Uint8Array[] = []
    try {
      const found: Array<[string, string]> = []
      for (let i = 0; i < storage.length; i++) {
        const k = storage.key(i)
        if (k !== null && storeKeyOf(k) === key) found.push([k, storage.getItem(k) ?? ''])
      }
      for (const [k, value] of found) {
        const update = decode(value)
        if (update) {
          updates.push(update)
          this.consumed.set(k, value)
        } else {
          this.options.onError(new Error(`reload journal ${k} is damaged`), `reading the reload journals of ${key} (the damaged one is removed)`)
          storage.removeItem(k)
        }
      }
      if (updates.length > 0) doc.transact(() => updates.forEach((u) => Y.applyUpdate(doc, u)), this.origin)
    } catch (error) {
      this.options.onError(error, `reading the reload journals of ${key}`)
    }
    for (const update of updates) this.entries.push({ update, saved: false, seq: ++this.seq })
    this.restoredUpTo = this.seq
  }

  /** A change to the document not yet stored by IndexedDB; `saved`: the server has it already. */
  record(update: Uint8Array, saved: boolean): void {
    this.entries.push({ update, saved, seq: ++this.seq })
    if (this.entries.length > COMPACT_AT) this.compact()
  }

  /** The server has stored every local change made so far. */
  serverSaved(): void {
    for (const entry of this.entries) entry.saved = true
  }

  /** IndexedDB has stored everything recorded up to `mark`: drop it, here and in localStorage. */
  confirmed(mark: number): void {
    this.entries = this.entries.filter((e) => e.seq > mark)
    if (this.restoredUpTo > 0 && mark >= this.restoredUpTo) this.releaseConsumed()
    if (this.ownWritten) this.write()
  }

  /** Write the journal to localStorage now (synchronous), or remove it when nothing is held. */
  write(): void {
    const { storage } = this.options
    try {
      const value = this.entries.length > 0 ? this.withinBound() : undefined
      if (value === undefined) {
        if (this.ownWritten) storage.removeItem(this.ownKey)
        this.ownWritten = false
      } else {
        storage.setItem(this.ownKey, value)
        this.ownWritten = true
      }
      // What the earlier pages' journals held is now in this page's journal (or stored, or reported lost).
      this.releaseConsumed()
    } catch (error) {
      this.options.onError(error, `writing the reload journal of ${this.options.key}`)
    }
  }

  /**
   * The journal's value within the bound: everything; else without what the server has;
   * else also without the oldest changes (reported). Undefined when nothing is left to write.
   */
  private withinBound(): string | undefined {
    const all = encode(this.entries)
    if (all.length <= this.maxLength) return all
    let kept = this.entries.filter((e) => !e.saved)
    if (kept.length === 0) return undefined
    let value = encode(kept)
    if (value.length <= this.maxLength) return value
    const unsaved = kept.length
    // Keep the newest changes whose sizes fit (base64: 4 characters per 3 bytes), then drop more until the merge fits.
    let budget = ((this.maxLength - FORMAT.length) * 3) / 4
    let from = kept.length
    while (from > 0 && kept[from - 1]!.update.byteLength <= budget) budget -= kept[--from]!.update.byteLength
    kept = kept.slice(from)
    value = kept.length > 0 ? encode(kept) : ''
    while (kept.length > 0 && value.length > this.maxLength) {
      kept = kept.slice(1)
      value = kept.length > 0 ? encode(kept) : ''
    }
    this.options.onError(new JournalOverflowError(unsaved - kept.length, this.maxLength), `writing the reload journal of ${this.options.key}`)
    return kept.length > 0 ? value : undefined
  }

  /** Merge older neighbouring entries with the same `saved` (keeps memory flat while IndexedDB does not confirm). */
  private compact(): void {
    const newest = this.entries.slice(-COMPACT_KEEP)
    const merged: Entry[] = []
    let run: Entry[] = []
    const flush = () => {
      if (run.length === 0) return
      merged.push({ update: Y.mergeUpdates(run.map((e) => e.update)), saved: run[0]!.saved, seq: run[run.length - 1]!.seq })
      run = []
    }
    for (const entry of this.entries.slice(0, -COMPACT_KEEP)) {
      if (run.length > 0 && run[0]!.saved !== entry.saved) flush()
      run.push(entry)
    }
    flush()
    this.entries = [...merged, ...newest]
  }

  /** Remove the earlier pages' journals this page restored, unless another page rewrote one meanwhile. */
  private releaseConsumed(): void {
    const { storage } = this.options
    try {
      for (const [k, value] of this.consumed) if (storage.getItem(k) === value) storage.removeItem(k)
    } catch (error) {
      this.options.onError(error, `removing the reload journals of ${this.options.key} that this page took over`)
    }
    this.consumed.clear()
    this.restoredUpTo = 0
  }
}
