import type { Connection, Document } from '@hocuspocus/server'

/** Told whenever a connection of this instance starts or stops speaking for an awareness client id. */
export interface OwnershipListener {
  bound(documentName: string, clientId: number): void
  released(documentName: string, clientId: number): void
}

/**
 * Which local connection speaks for which awareness client id, per document
 * (the awareness guard decides; this only keeps the books), and which
 * connections wait for an id that was taken when they asked for it — a client
 * that reconnected here while its old entry (from another instance, or from
 * its previous socket) was still present. When that entry goes, the first one
 * still waiting gets it.
 */
export class AwarenessOwnership {
  private readonly owners = new WeakMap<Document, Map<number, Connection>>()
  private readonly waiting = new WeakMap<Document, Map<number, Set<Connection>>>()
  private readonly listeners: OwnershipListener[] = []

  listen(listener: OwnershipListener): void {
    this.listeners.push(listener)
  }

  holder(document: Document, clientId: number): Connection | undefined {
    return this.owners.get(document)?.get(clientId)
  }

  /** Whether a connection of this instance that is still open speaks for the id. */
  heldHere(document: Document, clientId: number): boolean {
    const holder = this.holder(document, clientId)
    return holder !== undefined && document.hasConnection(holder)
  }

  bind(document: Document, clientId: number, connection: Connection): void {
    let owners = this.owners.get(document)
    if (!owners) this.owners.set(document, (owners = new Map()))
    this.unwait(document, clientId, connection)
    const previous = owners.get(clientId)
    owners.set(clientId, connection)
    if (previous === undefined) for (const l of this.listeners) l.bound(document.name, clientId)
  }

  /** The connection closed: it no longer holds or waits for the id. */
  release(document: Document, clientId: number, connection: Connection): void {
    this.unwait(document, clientId, connection)
    const owners = this.owners.get(document)
    if (owners?.get(clientId) !== connection) return
    owners.delete(clientId)
    for (const l of this.listeners) l.released(document.name, clientId)
  }

  wait(document: Document, clientId: number, connection: Connection): void {
    let waiting = this.waiting.get(document)
    if (!waiting) this.waiting.set(document, (waiting = new Map()))
    let queue = waiting.get(clientId)
    if (!queue) waiting.set(clientId, (queue = new Set()))
    queue.add(connection)
  }

  /** The first connection still open that waits for the id (taken off the queue), unless the id is held here. */
  nextWaiting(document: Document, clientId: number): Connection | undefined {
    const queue = this.waiting.get(document)?.get(clientId)
    if (!queue || this.heldHere(document, clientId)) return undefined
    for (const connection of queue) {
      queue.delete(connection)
      if (document.hasConnection(connection)) return connection
    }
    return undefined
  }

  /** Every client id held here in the document, with its connection. */
  held(document: Document): Array<[number, Connection]> {
    return [...(this.owners.get(document) ?? [])].filter(([, connection]) => document.hasConnection(connection))
  }

  private unwait(document: Document, clientId: number, connection: Connection): void {
    const waiting = this.waiting.get(document)
    const queue = waiting?.get(clientId)
    if (!queue) return
    queue.delete(connection)
    if (queue.size === 0) waiting!.delete(clientId)
  }
}
