/**
 * A version compared with the document now, per shared type: the lines
 * removed since (−) and the lines added since (+). Every line is text
 * (text nodes, never HTML), whatever it holds.
 */
import { h } from './dom.ts'
import type { TypeDiff, Version } from './history-api.ts'

/** What the room's shared types are called on the page. */
const TYPE_NAMES: Record<string, string> = {
  prosemirror: 'Notes',
  codemirror: 'Code',
  chat: 'Chat',
  'chat-reads': 'Read marks',
}

/** A short name for a version: its label, or what kind it is. */
export function versionTitle(version: Version): string {
  if (version.kind === 'auto') return 'Automatic version'
  return version.label ?? (version.kind === 'pre-restore' ? 'Before a restore' : `Version ${version.id}`)
}

/** Draw into `box` the difference between `version` and now. */
export function drawDiff(box: HTMLElement, version: Version, types: Record<string, TypeDiff>, close: () => void): void {
  const names = Object.keys(types)
  box.hidden = false
  box.dataset.version = String(version.id)
  box.replaceChildren(
    h(
      'div',
      { class: 'diff-head' },
      h('h3', {}, 'Changes since ', h('q', { class: 'diff-title' }, versionTitle(version))),
      h('button', { type: 'button', class: 'small', onclick: close }, 'Close'),
    ),
    names.length === 0
      ? h('p', { class: 'hint diff-none' }, 'No differences: the document is as it was in this version.')
      : h('p', { class: 'hint' }, '− was in this version and is gone now · + is new since'),
    ...names.map((name) => {
      const diff = types[name]!
      return h(
        'section',
        { class: 'diff-type', 'data-type': name },
        h('h4', {}, TYPE_NAMES[name] ?? name, ' ', h('span', { class: 'hint' }, `${diff.removed.length} removed · ${diff.added.length} added`)),
        h(
          'ul',
          { class: 'diff-lines' },
          ...diff.removed.map((line) => h('li', { class: 'diff-line', 'data-op': 'removed' }, h('span', { 'aria-hidden': 'true' }, '− '), h('span', { class: 'diff-text' }, line))),
          ...diff.added.map((line) => h('li', { class: 'diff-line', 'data-op': 'added' }, h('span', { 'aria-hidden': 'true' }, '+ '), h('span', { class: 'diff-text' }, line))),
        ),
      )
    }),
  )
}
