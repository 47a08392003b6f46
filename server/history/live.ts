/**
 * Server-side reads and writes of documents, outside any client connection
 * (REST, restore, automatic versions), keeping the promise every door keeps:
 * nothing is applied, broadcast or acknowledged before it is in storage.
 */
import type { Document, Hocuspocus } from '@hocuspocus/server'
import type { Logger } from 'pino'
import * as Y from 'yjs'
import { CloseCode, Errors, documentCloseReason } from '../../client/protocol.ts'
import { documentGate } from '../chat/gate.ts'
import type { Deletions } from '../storage/deletions.ts'
import { foldState } from '../storage/merge.ts'
import type { NewEvent, Storage } from '../storage/types.ts'
import type { DecodedUpdate } from '../chat/effects.ts'
import { Refusal, WriteRefused } from '../errors.ts'
import { type DurableFeature, durableOrigin } from '../origin.ts'
import type { WritePipeline } from '../pipeline/pipeline.ts'
import { type Replace, Write, type Writer } from '../pipeline/write.ts'
import type { HistoryFeed } from './versions.ts'

export interface LiveDocumentsConfiguration {
  hocuspocus: Hocuspocus
  storage: Storage
  /** The one write path: every server-side write goes through it, like a socket's. */
  pipeline: WritePipeline
  logger: Logger
  /** Unload a document now, whatever keeps it warm (the lifecycle extension's `unload`). */
  unload?: (document: Document) => Promise<void>
  /** Whether a document that is not loaded may be loaded now (MAX_DOCUMENTS: the lifecycle extension's `admit`). */
  admit?: (documentName: string) => Promise<boolean>
  /** Documents being deleted: their loads wait until the delete has committed (persistence). */
  deletions?: Deletions
  /** The change feed: `document.deleted` commits with the delete (docs/events.md). */
  feed?: HistoryFeed
}

/** A document held open through Hocuspocus; `close()` lets it go (it unloads as usual once idle). */
export interface OpenDocument {
  readonly document: Document
  close(): Promise<void>
}

export class LiveDocuments {
  private readonly config: LiveDocumentsConfiguration

  constructor(config: LiveDocumentsConfiguration) {
    this.config = config
  }

  /** Whether the document is loaded on this instance. */
  loaded(name: string): boolean {
    return this.config.hocuspocus.documents.has(name)
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
    if (this.config.admit && !(await this.config.admit(name))) throw new WriteRefused(new Refusal(Errors.ServerAtCapacity, `cannot load ${name}: at MAX_DOCUMENTS`))
    const direct = await this.config.hocuspocus.openDirectConnection(name, { source: 'server' })
    const document = direct.document
    if (!document) throw new Error(`could not open ${name}`)
    return { document, close: () => direct.disconnect() }
  }

  /**
   * A server-side write through the one write path (server/pipeline): the
   * same checks as a socket's update, for `writer` (a REST caller; a restore
   * is the server's own change made for an admin, which the chat rules let
   * through), then the durable append; then it is applied to the open
   * document with a durable origin (so it is not stored twice) and broadcast
   * to its connections at once. Throws WriteRefused; nothing was stored then.
   * `decoded`: the update as the door decoded it already; `events` commit
   * with its append. Resolves with the Replace when a check took part of the
   * update out (the rest was applied), and whether anything was appended (so
   * whether `events` were stored).
   */
  async write(document: Document, update: Uint8Array, door: DurableFeature, writer: Writer, decoded?: DecodedUpdate, events?: readonly NewEvent[]): Promise<{ replaced: Replace | undefined; appended: boolean }> {
    const write = new Write({ door, documentName: document.name, document, update, writer, decoded, events })
    const replaced = await this.config.pipeline.apply(write, durableOrigin(door), () => document.flush())
    return { replaced, appended: write.appended }
  }

  /**
   * Delete a document: close its connections (4410), drop it from memory and
   * remove it from storage with its versions. Returns whether it existed.
   * Loads of the name meanwhile wait for it (`deletions`), and find it empty.
   */
  delete(name: string, actor = 'server'): Promise<boolean> {
    const { deletions } = this.config
    return deletions ? deletions.run(name, () => this.deleteNow(name, actor)) : this.deleteNow(name, actor)
  }

  private async deleteNow(name: string, actor: string): Promise<boolean> {
    const { hocuspocus, storage, logger } = this.config
    const document = hocuspocus.documents.get(name) ?? (await hocuspocus.loadingDocuments.get(name))
    const existed = Boolean(document) || (await this.state(name)) !== null || (await storage.listVersions(name, { limit: 1 })).length > 0
    if (document) {
      for (const connection of document.getConnections()) {
        connection.close({ code: CloseCode.DocumentDeleted.code, reason: documentCloseReason(CloseCode.DocumentDeleted) })
      }
      // The last connection leaving starts Hocuspocus's unload, which the
      // lifecycle extension may turn down to keep the document warm; let it
      // finish, then unload it now (Hocuspocus's own unload: every extension's
      // hooks run and forget it).
      await hocuspocus.unloadingDocuments.get(name)
      if (hocuspocus.documents.get(name) === document) await (this.config.unload ? this.config.unload(document) : hocuspocus.unloadDocument(document))
      // Writes admitted before the connections closed are stored before storage is emptied, not after it.
      await documentGate(document).anyBusy()
    }
    // Its event commits with the delete (a crash cannot leave one without the other).
    const feed = this.config.feed
    await storage.delete(name, existed && feed ? [{ type: 'document.deleted', document: name, actor, data: {} }] : undefined)
    if (existed) {
      logger.info({ documentName: name }, 'document deleted')
      feed?.committed()
    }
    return existed
  }
}
