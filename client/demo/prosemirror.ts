/**
 * The rich-text editor: ProseMirror bound to the room's `prosemirror`
 * `Y.XmlFragment` with y-prosemirror (sync, others' cursors and selections in
 * their name and colour, collaborative undo), and a toolbar of real buttons.
 * The schema is prosemirror-schema-basic plus lists: another editor sharing
 * the fragment needs the same node and mark names.
 */
import { exampleSetup } from 'prosemirror-example-setup'
import { setBlockType, toggleMark, wrapIn } from 'prosemirror-commands'
import { keymap } from 'prosemirror-keymap'
import { type MarkType, Schema } from 'prosemirror-model'
import { schema as basicSchema } from 'prosemirror-schema-basic'
import { addListNodes, wrapInList } from 'prosemirror-schema-list'
import { type Command, EditorState, Plugin } from 'prosemirror-state'
import { EditorView } from 'prosemirror-view'
import { redoCommand, undoCommand, yCursorPlugin, ySyncPlugin, yUndoPlugin } from 'y-prosemirror'
import type { Room } from '../index.ts'
import { byId, h } from './dom.ts'

/** Basic nodes and marks, plus bullet and ordered lists. */
export const schema = new Schema({
  nodes: addListNodes(basicSchema.spec.nodes, 'paragraph block*', 'block'),
  marks: basicSchema.spec.marks,
})

interface Tool {
  label: string
  title: string
  command: Command
  /** Whether the tool is "on" at the selection (marks). */
  active?: (state: EditorState) => boolean
}

function markActive(type: MarkType): (state: EditorState) => boolean {
  return (state) => {
    const { from, $from, to, empty } = state.selection
    return empty ? Boolean(type.isInSet(state.storedMarks ?? $from.marks())) : state.doc.rangeHasMark(from, to, type)
  }
}

const { strong, em, code } = schema.marks
const { heading, paragraph, blockquote, bullet_list: bulletList, ordered_list: orderedList } = schema.nodes

const tools: Tool[] = [
  { label: 'B', title: 'Bold (Ctrl+B)', command: toggleMark(strong!), active: markActive(strong!) },
  { label: 'I', title: 'Italic (Ctrl+I)', command: toggleMark(em!), active: markActive(em!) },
  { label: '</>', title: 'Inline code (Ctrl+`)', command: toggleMark(code!), active: markActive(code!) },
  { label: 'H1', title: 'Heading 1 (Ctrl+Shift+1)', command: setBlockType(heading!, { level: 1 }) },
  { label: 'H2', title: 'Heading 2 (Ctrl+Shift+2)', command: setBlockType(heading!, { level: 2 }) },
  { label: '¶', title: 'Paragraph (Ctrl+Shift+0)', command: setBlockType(paragraph!) },
  { label: '• List', title: 'Bullet list (Ctrl+Shift+8)', command: wrapInList(bulletList!) },
  { label: '1. List', title: 'Numbered list (Ctrl+Shift+9)', command: wrapInList(orderedList!) },
  { label: '❝', title: 'Quote (Ctrl+>)', command: wrapIn(blockquote!) },
  { label: '↶', title: 'Undo your last change (Ctrl+Z)', command: undoCommand },
  { label: '↷', title: 'Redo (Ctrl+Y)', command: redoCommand },
]

/**
 * The toolbar is one Tab stop (the ARIA toolbar pattern): the arrow keys, Home
 * and End move between its enabled buttons, and Tab goes on to the editor.
 */
function rovingFocus(bar: HTMLElement, buttons: HTMLButtonElement[]): () => void {
  const enabled = () => buttons.filter((b) => !b.disabled)
  const current = () => buttons.find((b) => b.tabIndex === 0)
  const setCurrent = (target: HTMLButtonElement) => buttons.forEach((b) => (b.tabIndex = b === target ? 0 : -1))
  if (buttons[0]) setCurrent(buttons[0])
  bar.addEventListener('focusin', (event) => {
    if (event.target instanceof HTMLButtonElement) setCurrent(event.target)
  })
  bar.addEventListener('keydown', (event) => {
    const list = enabled()
    const at = list.indexOf(document.activeElement as HTMLButtonElement)
    const next =
      event.key === 'ArrowRight' ? list[(at + 1) % list.length] :
      event.key === 'ArrowLeft' ? list[(at - 1 + list.length) % list.length] :
      event.key === 'Home' ? list[0] :
      event.key === 'End' ? list[list.length - 1] : undefined
    if (!next) return
    event.preventDefault()
    setCurrent(next)
    next.focus()
  })
  // Keep a reachable stop when the current button gets disabled.
  return () => {
    const stop = current()
    const first = enabled()[0]
    if ((!stop || stop.disabled) && first) setCurrent(first)
  }
}

/** A plugin that keeps the toolbar buttons' pressed/disabled state in step with the editor (all disabled while read-only). */
function toolbarPlugin(buttons: Array<[Tool, HTMLButtonElement]>, afterSync: () => void, readOnly: () => boolean): Plugin {
  const sync = (view: EditorView) => {
    for (const [tool, button] of buttons) {
      button.disabled = readOnly() || !tool.command(view.state)
      if (tool.active) button.setAttribute('aria-pressed', String(tool.active(view.state)))
    }
    afterSync()
  }
  return new Plugin({ view: (view) => (sync(view), { update: sync }) })
}

/** The mounted rich-text editor. */
export interface ProseMirrorEditor {
  view: EditorView
  /** Not editable (the server's `read` role): typing, pasting and the toolbar do nothing. */
  setReadOnly(readOnly: boolean): void
}

/** Mount the editor into #prosemirror and its toolbar into #pm-toolbar. */
export function mountProseMirror(room: Room): ProseMirrorEditor {
  let readOnly = false
  const bar = byId('pm-toolbar')
  const buttons = tools.map((tool): [Tool, HTMLButtonElement] => {
    const button = h('button', {
      type: 'button',
      class: 'tool',
      title: tool.title,
      'aria-label': tool.title,
      // Keep the editor's selection: act on click, but don't take focus on mouse down.
      onmousedown: (event: MouseEvent) => event.preventDefault(),
      // `view` exists by the time anyone clicks.
      onclick: () => {
        tool.command(view.state, view.dispatch, view)
        view.focus()
      },
    }, tool.label)
    return [tool, button]
  })
  bar.replaceChildren(...buttons.map(([, button]) => button))
  const keepStop = rovingFocus(bar, buttons.map(([, button]) => button))

  const state = EditorState.create({
    schema,
    plugins: [
      ySyncPlugin(room.prosemirror),
      yCursorPlugin(room.presence.awareness),
      yUndoPlugin(),
      keymap({ 'Mod-z': undoCommand, 'Mod-y': redoCommand, 'Mod-Shift-z': redoCommand }),
      // Input rules, keys and the base keymap; history comes from Yjs, the toolbar is ours.
      ...exampleSetup({ schema, history: false, menuBar: false }),
      toolbarPlugin(buttons, keepStop, () => readOnly),
    ],
  })
  const view = new EditorView(byId('prosemirror'), {
    state,
    attributes: () => ({ 'aria-label': 'Notes (rich text)', 'aria-multiline': 'true', role: 'textbox', spellcheck: 'true', 'aria-readonly': String(readOnly) }),
    editable: () => !readOnly,
  })
  return {
    view,
    setReadOnly(value) {
      readOnly = value
      // New props make the view read `editable` and `attributes` again, and the plugins update.
      view.setProps({ editable: () => !readOnly })
    },
  }
}
