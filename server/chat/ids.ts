/**
 * The message ids of one document's chat, so "is this id new?" costs a set
 * lookup, not a walk over 10,000 messages. Built once on first use, then kept
 * current from every transaction that adds chat entries — whatever its source
 * (socket, REST, Redis, server code). A document-level listener, because a
 * root type object can be replaced (Yjs `Doc.get` upgrading a generic root
 * drops the type's own observers).
 */
import * as Y from 'yjs'
import { MessageKey, SharedNames } from '../../client/model.ts'

export class MessageIds {
  private readonly ids = new Set<string>()

  constructor(doc: Y.Doc) {
    const root = doc.share.get(SharedNames.chat)
    if (root) for (const item of Y.getTypeChildren(root)) this.add(item)
    doc.on('afterTransaction', (tr: Y.Transaction) => this.onTransaction(tr))
  }

  has(id: string): boolean {
    return this.ids.has(id)
  }

  get size(): number {
    return this.ids.size
  }

  private add(item: Y.Item): void {
    if (item.deleted || !(item.content instanceof Y.ContentType) || !(item.content.type instanceof Y.Map)) return
    const id: unknown = item.content.type.get(MessageKey.id)
    if (typeof id === 'string') this.ids.add(id)
  }

  /** Index the entries a transaction added to `chat` (only its new structs are visited). */
  private onTransaction(tr: Y.Transaction): void {
    const root = tr.doc.share.get(SharedNames.chat)
    if (!root || !tr.changed.has(root)) return
    for (const [client, after] of tr.afterState) {
      const before = tr.beforeState.get(client) ?? 0
      if (after <= before) continue
      const structs = tr.doc.store.clients.get(client)!
      for (let i = Y.findIndexSS(structs, before); i < structs.length; i++) {
        const s = structs[i]!
        if (s instanceof Y.Item && s.parent === root) this.add(s)
      }
    }
  }
}

const byDoc = new WeakMap<Y.Doc, MessageIds>()

/** The id index of `doc`, built on first use. */
export function messageIds(doc: Y.Doc): MessageIds {
  let ids = byDoc.get(doc)
  if (!ids) {
    ids = new MessageIds(doc)
    byDoc.set(doc, ids)
  }
  return ids
}
