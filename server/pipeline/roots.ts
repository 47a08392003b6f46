/**
 * The root shared types an admitted write changes (the `types` of a
 * `document.updated` event, docs/events.md), from the effects the checks
 * worked out already: no decode, no walk of the document beyond each changed
 * type's ancestors (cached per type; types never move in Yjs).
 */
import * as Y from 'yjs'
import type { Effects, Parent } from '../chat/effects.ts'

const rootOfType = new WeakMap<Y.AbstractType<unknown>, string>()

/** The name of the root a type sits under (cached per type). */
export function rootName(type: Y.AbstractType<unknown>): string {
  let name = rootOfType.get(type)
  if (name !== undefined) return name
  let top = type
  while (top.parent) top = top.parent as Y.AbstractType<unknown>
  name = Y.findRootTypeKey(top)
  rootOfType.set(type, name)
  return name
}

function parentRoot(parent: Parent): string {
  if (parent.kind === 'root') return parent.name
  if (parent.kind === 'type') return rootName(parent.type)
  return parentRoot(parent.write.parent)
}

export function changedRoots(effects: Effects): string[] {
  const roots = new Set<string>()
  for (const w of effects.writes) roots.add(parentRoot(w.parent))
  for (const item of effects.removals) roots.add(rootName(item.parent as Y.AbstractType<unknown>))
  return [...roots]
}
