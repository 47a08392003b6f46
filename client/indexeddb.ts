/**
 * The browser's offline store: y-indexeddb, plus the reload journal
 * (client/journal.ts) for the changes IndexedDB has not yet confirmed.
 *
 * How a change is known to be in IndexedDB. y-indexeddb writes each change in
 * its own read-write transaction on its `updates` store, created in the
 * document's `update` event, and gives no signal when it commits. Its exported
 * `fetchUpdates(persistence)` (the read it also uses itself before compacting)
 * opens another read-write transaction on that store and resolves after
 * reading in it. IndexedDB runs read-write transactions on the same store in
 * the order they were created, so when that read is done every change
 * recorded before the call has finished its transaction: it is stored. (A
 * transaction that failed instead — quota — is reported by y-indexeddb as an
 * unhandled rejection; the journal cannot tell it from one that committed.)
 * The read applies what it finds to the document: changes the document
 * already has, so nothing changes.
 *
 * The journal itself is written on `pagehide`, when the page turns hidden and
 * when the room is left, and applied (before IndexedDB loads) on the next load.
 */
import type * as Y from 'yjs'
import { type JournalStorage, ReloadJournal } from './journal.ts'
import type { OfflineStore, OfflineStoreContext } from './offline.ts'

/** The page's localStorage, or undefined where there is none or it is blocked (reported). */
function pageStorage(context: OfflineStoreContext): JournalStorage | undefined {
  try {
    return (globalThis as { localStorage?: JournalStorage }).localStorage
  } catch (error) {
    context.reportError(error, 'opening localStorage for the reload journal (reloads then rely on IndexedDB alone)')
    return undefined
  }
}

/** Write `journal` whenever the page may be about to go; returns the function that stops. */
function writeWhenLeaving(journal: ReloadJournal): () => void {
  if (typeof addEventListener !== 'function' || typeof document === 'undefined') return () => undefined
  const onPageHide = () => journal.write()
  const onVisibility = () => {
    if (document.visibilityState === 'hidden') journal.write()
  }
  addEventListener('pagehide', onPageHide)
  document.addEventListener('visibilitychange', onVisibility)
  return () => {
    removeEventListener('pagehide', onPageHide)
    document.removeEventListener('visibilitychange', onVisibility)
  }
}

/** Open the room's IndexedDB store `key` for `doc`; the journal is restored and recording before this first awaits. */
export async function openIndexedDbStore(key: string, doc: Y.Doc, context: OfflineStoreContext): Promise<OfflineStore> {
  const storage = pageStorage(context)
  const journal = storage ? new ReloadJournal({ storage, key, onError: context.reportError }) : undefined
  /** Origins of changes that need no journal: the journal's own, and IndexedDB's (once it exists). */
  const stored = new Set<unknown>([journal?.origin])
  let confirm: () => void = () => undefined
  const record = (update: Uint8Array, origin: unknown) => {
    if (!journal || stored.has(origin)) return
    journal.record(update, context.isRemote(origin))
    confirm()
  }
  const stops: Array<() => void> = []
  if (journal) {
    journal.restore(doc)
    doc.on('update', record)
    stops.push(() => doc.off('update', record), context.onServerSaved(() => journal.serverSaved()), writeWhenLeaving(journal))
  }

  const { IndexeddbPersistence: Persistence, fetchUpdates } = await import('y-indexeddb')
  const store = new Persistence(key, doc)
  stored.add(store)
  let destroyed = false
  let running = false
  let failing = false
  confirm = () => {
    if (running || destroyed || !journal || journal.size === 0) return
    running = true
    void (async () => {
      // Created after y-indexeddb's own transactions for everything recorded (the first one after its load).
      await store.whenSynced
      while (!destroyed && journal.size > 0) {
        const mark = journal.mark
        await fetchUpdates(store)
        journal.confirmed(mark)
        failing = false
      }
    })()
      .catch((error: unknown) => {
        // Report once per failing stretch; the next change tries again.
        if (!failing) context.reportError(error, `confirming the IndexedDB writes of ${key} (the reload journal keeps them)`)
        failing = true
      })
      .finally(() => {
        running = false
        // A change recorded while this run was ending still needs its confirmation.
        if (!failing) confirm()
      })
  }
  confirm()

  return {
    whenLoaded: store.whenSynced,
    destroy: () => {
      destroyed = true
      for (const stop of stops) stop()
      journal?.write()
      return store.destroy()
    },
  }
}
