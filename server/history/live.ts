/**
 * Server-side reads and writes of documents, outside any client connection
 * (REST, restore, automatic versions), keeping the promise every door keeps:
 * nothing is applied, broadcast or acknowledged before it is in storage.
 */
import type { Document, Hocuspocus } from '@hocuspocus/server'
import type { Logger } from 'pino'
import * as Y from 'yjs'
import { CloseCode, documentCloseReason } from '../../client/protocol.ts'
import { DURABLE_CONTEXT, type Persistence } from '../extensions/persistence.ts'
import { foldState } from '../storage/merge.ts'
import type { Storage } from '../storage/types.ts'
import { documentGate } from '../chat/gate.ts'
import { ChatRules, type Principal } from './chat-rules.ts'
import { WriteRefused } from '../errors.ts'

/** The transaction origin of a server-side write that was stored before it was applied. */
export interface DurableOrigin {
  source: 'local'
  /** Persistence skips these in onChange: the update is in storage already. */
  context: typeof DURABLE_CONTEXT
  /** Which feature made the change (logs, other extensions). */
  feature: 'rest' | 'restore'
}


export interface LiveDocumentsConfiguration {
  hocuspocus: Hocuspocus
  storage: Storage
  persistence: Persistence
  logger: Logger
  /** Largest stored size of a document (snapshot + log); undefined = no limit. */
  maxDocumentBytes?: number
  /** Whether a document that is not loaded may be loaded now (MAX_DOCUMENTS: the lifecycle extension's `admit`). */
  admit?: (documentName: string) => Promise<boolean>
}

/** A document held open through Hocuspocus; `close()` lets it go (it unloads as usual once idle). */
export interface OpenDocument {
  readonly document: Document
  close(): Promise<void>
}

export class LiveDocuments {
  private readonly config: LiveDocumentsConfiguration
  private readonly chatRules = new ChatRules()
  /** Per document, the tail of its server-side writes: each is checked, stored and applied before the next is checked. */
  private readonly writes = new Map<string, Promise<void>>()

  constructor(config: LiveDocumentsConfiguration) {
    this.config = config
  }

  /** The full state: from memory when the document is loaded, else from storage; null when there is no such document. */
  async state(name: string): Promise<Uint8Array | null> {
    const loaded = this.config.hocuspocus.documents.get(name)
    if (loaded) return Y.encodeStateAsUpdate(loaded)
    const stored = await this.config.storage.load(name)
    if (!stored.snapshot && stored.updates.length === 0) return null
    return foldState(stored)
  }

  /**
   * Open the document through Hocuspocus: the loaded one, or loaded now (a
   * load under way is joined, not repeated). While open it cannot unload, and
   * whatever is applied to it reaches its clients, other instances and every
   * extension's hooks. Throws WriteRefused `server-at-capacity` when loading
   * it would pass MAX_DOCUMENTS (the socket's own decision, `admit`).
   */
  async open(name: string): Promise<OpenDocument> {
    if (this.config.admit && !(await this.config.admit(name))) throw new WriteRefused('server-at-capacity', `cannot load ${name}: at MAX_DOCUMENTS`)
    const direct = await this.config.hocuspocus.openDirectConnection(name, { source: 'server' })
    const document = direct.document
    if (!document) throw new Error(`could not open ${name}`)
    return { document, close: () => direct.disconnect() }
  }

  /**
   * Check, store, then apply: the update must integrate completely, keep the
   * document under its size limit and — for REST writes, as `principal` —
   * obey the chat rules; then it is appended to the document's log (awaited
   * until committed), applied to the open document with a durable origin (so
   * it is not stored twice) and broadcast to its connections at once. A
   * restore is the server's own change, made for an admin: it is not held to
   * the chat rules (it may take back messages sent after the version).
   * Throws WriteRefused (nothing stored) or Persistence's storage error.
   */
  applyDurably(document: Document, update: Uint8Array, feature: DurableOrigin['feature'], principal: Principal | null = null): Promise<void> {
    return this.inOrder(document.name, async () => {
      // Chat checks and applies of one document happen one at a time, socket
      // updates included (the chat guard's gate): the check must still hold
      // when the update is applied.
      const gate = documentGate(document)
      for (let busy = gate.busy(['chat']); busy; busy = gate.busy(['chat'])) await busy
      const release = gate.hold(['chat'])
      try {
        await this.checkStoreApply(document, update, feature, principal)
      } finally {
        release()
      }
    })
  }

  private async checkStoreApply(document: Document, update: Uint8Array, feature: DurableOrigin['feature'], principal: Principal | null): Promise<void> {
    const { persistence, maxDocumentBytes } = this.config
    const missing = missingDependency(document, update)
    if (missing) throw new WriteRefused('missing-dependencies', missing)
    if (feature === 'rest') this.chatRules.check(document, update, principal)
    const stored = persistence.storedBytes(document.name) ?? 0
    if (maxDocumentBytes !== undefined && stored + update.byteLength > maxDocumentBytes) {
      throw new WriteRefused('document-too-large', `${stored} + ${update.byteLength} bytes > ${maxDocumentBytes}`)
    }
    await persistence.append(document.name, update)
    const origin: DurableOrigin = { source: 'local', context: DURABLE_CONTEXT, feature }
    Y.applyUpdate(document, update, origin)
    // Send the broadcast now rather than at the end of the event-loop turn: by the
    // time the caller answers, every connected client has been sent the change.
    document.flush()
  }

  /** Run `job` after the document's earlier server-side writes, whatever their outcome. */
  private inOrder(name: string, job: () => Promise<void>): Promise<void> {
    const run = (this.writes.get(name) ?? Promise.resolve()).then(job)
    const tail = run.catch(() => undefined) // the caller gets the error; the queue goes on
    this.writes.set(name, tail)
    void tail.then(() => {
      if (this.writes.get(name) === tail) this.writes.delete(name)
    })
    return run
  }

  /**
   * Delete a document: close its connections (4410), drop it from memory and
   * remove it from storage with its versions. Returns whether it existed.
   */
  async delete(name: string): Promise<boolean> {
    const { hocuspocus, storage, logger } = this.config
    const document = hocuspocus.documents.get(name) ?? (await hocuspocus.loadingDocuments.get(name))
    const existed = Boolean(document) || (await this.state(name)) !== null || (await storage.listVersions(name, { limit: 1 })).length > 0
    if (document) {
      for (const connection of document.getConnections()) {
        connection.close({ code: CloseCode.DocumentDeleted.code, reason: documentCloseReason(CloseCode.DocumentDeleted) })
      }
      // The last connection leaving starts Hocuspocus's unload, which the
      // lifecycle extension may turn down to keep the document warm; let it
      // finish, then drop the document ourselves and run the unload hooks so
      // every extension forgets it.
      await hocuspocus.unloadingDocuments.get(name)
      if (hocuspocus.documents.get(name) === document) {
        hocuspocus.documents.delete(name)
        document.destroy()
        await hocuspocus.hooks('afterUnloadDocument', { instance: hocuspocus, documentName: name })
      }
    }
    await storage.delete(name)
    if (existed) logger.info({ documentName: name }, 'document deleted')
    return existed
  }
}

/**
 * Why `update` cannot be integrated into `doc` now, or undefined. An update
 * whose predecessors (earlier changes of the same client) are missing would
 * wait in the document invisibly and be re-sent with every state forever.
 */
function missingDependency(doc: Y.Doc, update: Uint8Array): string | undefined {
  const { from } = Y.parseUpdateMeta(update)
  const have = Y.decodeStateVector(Y.encodeStateVector(doc))
  for (const [client, clock] of from) {
    const known = have.get(client) ?? 0
    if (clock > known) return `client ${client} starts at clock ${clock}; the document has ${known}`
  }
  return undefined
}
