/**
 * Reading a document's root shared types without knowing them in advance.
 *
 * A Y.Doc built from an update knows its roots only by name: which Yjs type
 * each one is exists only in the code that calls `getText`/`getArray`/… . The
 * names of the room model (docs/chat-data-model.md) have fixed types; any other
 * root's type is read from its content. Everything here works on throwaway
 * documents built from a state, never on the live one (a wrong guess there
 * would pin the wrong type on a root for the rest of the server).
 */
import * as Y from 'yjs'
import { SharedNames, readMessage } from '../../client/model.ts'
import { keyItems } from '../internals.ts'

export type TypeKind = 'text' | 'xml' | 'array' | 'map'

/** A root shared type of one of the four kinds. */
export type RootType = Y.Text | Y.XmlFragment | Y.Array<unknown> | Y.Map<unknown>

const KNOWN: Readonly<Record<string, TypeKind>> = {
  [SharedNames.prosemirror]: 'xml',
  [SharedNames.codemirror]: 'text',
  [SharedNames.chat]: 'array',
  [SharedNames.chatReads]: 'map',
}

/** A throwaway document holding `state`. */
export function docFrom(state: Uint8Array): Y.Doc {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, state)
  return doc
}

/** The kind of root `name`, or null when it does not exist or holds nothing to tell. */
export function kindOf(doc: Y.Doc, name: string): TypeKind | null {
  const known = KNOWN[name]
  if (known) return known
  const type = doc.share.get(name)
  if (!type) return null
  if (type instanceof Y.Text) return 'text'
  if (type instanceof Y.XmlFragment) return 'xml'
  if (type instanceof Y.Array) return 'array'
  if (type instanceof Y.Map) return 'map'
  for (const item of Y.getTypeChildren(type)) {
    if (item.deleted) continue
    const content = item.content
    if (content instanceof Y.ContentString || content instanceof Y.ContentFormat || content instanceof Y.ContentEmbed) return 'text'
    if (content instanceof Y.ContentType && (content.type instanceof Y.XmlElement || content.type instanceof Y.XmlText || content.type instanceof Y.XmlHook)) {
      return 'xml'
    }
    return 'array'
  }
  for (const item of keyItems(type).values()) if (!item.deleted) return 'map'
  return null
}

/** The root `name` as its Yjs type. */
export function typed(doc: Y.Doc, name: string, kind: 'text'): Y.Text
export function typed(doc: Y.Doc, name: string, kind: 'xml'): Y.XmlFragment
export function typed(doc: Y.Doc, name: string, kind: 'array'): Y.Array<unknown>
export function typed(doc: Y.Doc, name: string, kind: 'map'): Y.Map<unknown>
export function typed(doc: Y.Doc, name: string, kind: TypeKind): RootType
export function typed(doc: Y.Doc, name: string, kind: TypeKind): RootType {
  switch (kind) {
    case 'text':
      return doc.getText(name)
    case 'xml':
      return doc.getXmlFragment(name)
    case 'array':
      return doc.getArray(name)
    case 'map':
      return doc.getMap(name)
  }
}

/** Every root with content, by name, with its kind. */
export function roots(doc: Y.Doc): Map<string, TypeKind> {
  const out = new Map<string, TypeKind>()
  for (const name of [...doc.share.keys()].sort()) {
    const kind = kindOf(doc, name)
    if (kind && !isEmpty(typed(doc, name, kind))) out.set(name, kind)
  }
  return out
}

function isEmpty(type: RootType): boolean {
  if (type instanceof Y.Map) return type.size === 0
  return type.length === 0
}

/** JSON of every root: a Y.Text as its string, XML as ProseMirror-like nodes, arrays and maps as JSON. */
export function documentJson(doc: Y.Doc): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, kind] of roots(doc)) out[name] = typeJson(typed(doc, name, kind))
  return out
}

function typeJson(type: RootType): unknown {
  if (type instanceof Y.Text) return type.toString()
  if (type instanceof Y.XmlFragment) return type.toArray().map(xmlNodeJson)
  return type.toJSON()
}

type XmlNode = Y.XmlElement | Y.XmlText | Y.XmlHook

/** `{ type, attrs?, content? }` for elements, `{ type: 'text', text, marks? }` for text runs. */
function xmlNodeJson(node: XmlNode): unknown {
  if (node instanceof Y.XmlText) {
    const runs = node.toDelta() as Array<{ insert: unknown; attributes?: Record<string, unknown> }>
    return runs.map((run) => {
      const marks = Object.entries(run.attributes ?? {}).map(([type, attrs]) =>
        attrs && typeof attrs === 'object' && Object.keys(attrs).length > 0 ? { type, attrs } : { type },
      )
      const base = typeof run.insert === 'string' ? { type: 'text', text: run.insert } : { type: 'embed', value: run.insert }
      return marks.length > 0 ? { ...base, marks } : base
    })
  }
  if (node instanceof Y.XmlHook) return { type: node.hookName, hook: node.toJSON() }
  const attrs = node.getAttributes()
  const content = node.toArray().flatMap((child) => {
    const json = xmlNodeJson(child)
    return Array.isArray(json) ? json : [json]
  })
  return { type: node.nodeName, ...(Object.keys(attrs).length > 0 ? { attrs } : {}), ...(content.length > 0 ? { content } : {}) }
}

/** A root as plain text, or null when it is not text (a map or an array). */
export function plainText(doc: Y.Doc, name: string): string | null {
  const kind = kindOf(doc, name)
  if (kind === 'text') return typed(doc, name, 'text').toString()
  if (kind === 'xml') return xmlPlainText(typed(doc, name, 'xml'))
  return null
}

/** Text of XML: runs joined, elements that hold elements one per line. */
function xmlPlainText(node: Y.XmlFragment | XmlNode): string {
  if (node instanceof Y.XmlText) return (node.toDelta() as Array<{ insert: unknown }>).map((r) => (typeof r.insert === 'string' ? r.insert : '')).join('')
  if (node instanceof Y.XmlHook) return ''
  const children = node.toArray()
  const blocks = children.some((c) => !(c instanceof Y.XmlText))
  return children.map(xmlPlainText).join(blocks ? '\n' : '')
}

/**
 * A root as lines to compare: text by line, XML by block, an array one entry
 * per line (a chat message as `name: text`), a map one `key: value` per line.
 */
export function lines(doc: Y.Doc, name: string, kind: TypeKind): string[] {
  if (kind === 'text' || kind === 'xml') {
    const text = plainText(doc, name) ?? ''
    return text === '' ? [] : text.replace(/\n$/, '').split('\n')
  }
  if (kind === 'map') {
    const map = typed(doc, name, 'map').toJSON() as Record<string, unknown>
    return Object.keys(map)
      .sort()
      .map((key) => `${key}: ${JSON.stringify(map[key])}`)
  }
  const array = typed(doc, name, 'array')
  if (name === SharedNames.chat) {
    return array.toArray().map((entry) => {
      const m = entry instanceof Y.Map ? readMessage(entry as Y.Map<unknown>) : undefined
      if (!m) return JSON.stringify(entry instanceof Y.AbstractType ? entry.toJSON() : entry)
      return m.deleted ? `[${m.id} deleted]` : `${m.name}: ${m.text}`
    })
  }
  return (array.toJSON() as unknown[]).map((v) => JSON.stringify(v))
}
