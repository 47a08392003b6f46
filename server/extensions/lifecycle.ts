import type {
  Document,
  Extension,
  Hocuspocus,
  afterUnloadDocumentPayload,
  beforeUnloadDocumentPayload,
  connectedPayload,
  onAuthenticatePayload,
} from '@hocuspocus/server'
import type { Logger } from 'pino'
import { CloseCode } from '../../client/protocol.ts'
import { HookRefusal } from '../errors.ts'

export interface LifecycleConfiguration {
  /** Keep a document loaded this long after its last client leaves (0 = unload at once). */
  idleMs: number
  /** Most documents loaded at once (0 = no cap). */
  maxDocuments: number
  logger: Logger
  /** The load queue (server/storage/load-queue.ts), and how many waiting loads make a socket's new document be refused (0: never). */
  loads?: { readonly length: number }
  loadQueueMax?: number
}

/** The longest unloadNow waits for Hocuspocus to unload a document after its pending store. */
const UNLOAD_WAIT_MS = 10_000

/**
 * Which documents stay in memory. Hocuspocus unloads a document as soon as its
 * last client leaves; we keep it warm for `idleMs` (a client that reconnects
 * finds it loaded), then unload it, which folds its log (persistence). With
 * `maxDocuments` reached, opening another document first evicts the
 * longest-idle one; if every loaded document is in use, it is refused.
 */
export class DocumentLifecycle implements Extension {
  readonly extensionName = 'lifecycle'
  /** Last: its capacity check must follow authentication. */
  readonly priority = 1

  private readonly config: LifecycleConfiguration
  private readonly releasable = new WeakSet<Document>()
  private readonly timers = new Map<string, NodeJS.Timeout>()
  private readonly idleSince = new Map<string, number>()
  private shuttingDown = false
  /** Who waits for a document to be unloaded (unloadNow). */
  private readonly unloaded = new Map<string, () => void>()

  constructor(config: LifecycleConfiguration) {
    this.config = config
  }

  /** Runs after authentication (lowest priority): an unauthenticated client cannot make us evict anything. */
  async onAuthenticate({ documentName, instance }: onAuthenticatePayload): Promise<void> {
    if (this.shedding(instance, documentName)) throw new HookRefusal(CloseCode.ServerBusy)
    if (!(await this.admit(instance, documentName))) throw new HookRefusal(CloseCode.ServerAtCapacity)
  }

  /** Shedding load: opening `documentName` would start one more load while LOAD_QUEUE_MAX wait (one loaded or loading costs none). */
  private shedding(instance: Hocuspocus, documentName: string): boolean {
    const { loads, loadQueueMax = 0 } = this.config
    if (!loads || loadQueueMax === 0 || loads.length < loadQueueMax) return false
    if (instance.documents.has(documentName) || instance.loadingDocuments.has(documentName)) return false
    this.config.logger.warn({ documentName, waiting: loads.length }, 'refusing a document: shedding load (LOAD_QUEUE_MAX)')
    return true
  }

  /**
   * The one capacity decision, for every door that loads a document (the
   * socket above, REST through server/history/live.ts): whether `documentName`
   * may be loaded now. At `maxDocuments`, the longest-idle documents (nobody
   * connected) are unloaded first; one with a client never is. False: refuse.
   */
  async admit(instance: Hocuspocus, documentName: string): Promise<boolean> {
    const { maxDocuments } = this.config
    if (maxDocuments === 0 || instance.documents.has(documentName) || instance.loadingDocuments.has(documentName)) return true
    const loaded = () => instance.documents.size + instance.loadingDocuments.size
    if (loaded() < maxDocuments) return true
    const idle = [...instance.documents.values()]
      .filter((d) => d.getConnectionsCount() === 0)
      .sort((a, b) => (this.idleSince.get(a.name) ?? 0) - (this.idleSince.get(b.name) ?? 0))
    for (const doc of idle) {
      if (loaded() < maxDocuments) break
      await this.unloadNow(instance, doc)
    }
    if (loaded() < maxDocuments) return true
    this.config.logger.warn({ documentName, maxDocuments }, 'refusing a document: at capacity')
    return false
  }

  async connected({ documentName, instance }: connectedPayload): Promise<void> {
    this.cancel(documentName)
    const doc = instance.documents.get(documentName)
    if (doc) this.releasable.delete(doc)
  }

  async beforeUnloadDocument({ document, instance }: beforeUnloadDocumentPayload): Promise<void> {
    if (this.shuttingDown || this.config.idleMs === 0 || this.releasable.has(document)) return
    this.idleSince.set(document.name, Date.now())
    if (!this.timers.has(document.name)) {
      const timer = setTimeout(() => void this.unloadNow(instance, document), this.config.idleMs)
      timer.unref()
      this.timers.set(document.name, timer)
    }
    throw new HookRefusal() // keep it loaded for now
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    this.unloaded.get(documentName)?.()
    this.unloaded.delete(documentName)
    this.cancel(documentName)
    this.idleSince.delete(documentName)
  }

  /**
   * Unload now if nobody is connected: Hocuspocus's own unload, which this
   * extension then lets through. A store Hocuspocus still has pending (its
   * debounced `onStoreDocument`) holds an unload back; it is run now, and
   * Hocuspocus unloads the document right after it.
   */
  async unloadNow(instance: Hocuspocus, document: Document): Promise<void> {
    this.cancel(document.name)
    this.releasable.add(document)
    try {
      if (document.getConnectionsCount() === 0 && !instance.shouldUnloadDocument(document)) {
        let timer: NodeJS.Timeout | undefined
        const gone = new Promise<boolean>((resolve) => {
          this.unloaded.set(document.name, () => resolve(true))
          timer = setTimeout(() => resolve(false), UNLOAD_WAIT_MS)
        })
        instance.flushPendingStores()
        const unloaded = await gone
        clearTimeout(timer)
        this.unloaded.delete(document.name)
        if (!unloaded) this.config.logger.warn({ documentName: document.name }, 'a document was not unloaded after its pending store (a client came back, or the store failed)')
        return
      }
      await instance.unloadDocument(document)
    } catch (error) {
      this.config.logger.error({ err: error, documentName: document.name }, 'unloading failed')
    }
  }

  private cancel(documentName: string): void {
    const timer = this.timers.get(documentName)
    if (timer) clearTimeout(timer)
    this.timers.delete(documentName)
  }

  /** Shutdown: from now on documents unload as soon as they are free; unload the idle ones now. */
  async shutdown(instance: Hocuspocus): Promise<void> {
    this.shuttingDown = true
    const idle = [...instance.documents.values()].filter((d) => d.getConnectionsCount() === 0)
    await Promise.all(idle.map((d) => this.unloadNow(instance, d)))
  }
}
