/**
 * The code editor: CodeMirror 6 bound to the room's `codemirror` `Y.Text` with
 * y-codemirror.next (sync, others' cursors with their names, collaborative
 * undo). Tab moves focus on and off the editor, as in any form.
 */
import { javascript } from '@codemirror/lang-javascript'
import { Compartment, EditorState } from '@codemirror/state'
import { basicSetup, EditorView } from 'codemirror'
import { yCollab } from 'y-codemirror.next'
import type { Room } from '../index.ts'
import { byId } from './dom.ts'

const theme = EditorView.theme({
  '&': { fontSize: '13.5px', height: '100%' },
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.55' },
  '.cm-content': { padding: '10px 0' },
  '.cm-gutters': { background: 'var(--surface-2)', color: 'var(--muted)', border: 'none' },
  '&.cm-focused': { outline: 'none' },
})

/** The mounted code editor. */
export interface CodeMirrorEditor {
  view: EditorView
  /** Not editable (the server's `read` role). */
  setReadOnly(readOnly: boolean): void
}

const editable = (yes: boolean) => [EditorState.readOnly.of(!yes), EditorView.editable.of(yes)]

/** Mount the editor into #codemirror. */
export function mountCodeMirror(room: Room): CodeMirrorEditor {
  const text = room.codemirror
  const access = new Compartment()
  const view = new EditorView({
    parent: byId('codemirror'),
    state: EditorState.create({
      doc: text.toString(),
      extensions: [
        basicSetup,
        javascript({ typescript: true }),
        theme,
        yCollab(text, room.presence.awareness),
        EditorView.contentAttributes.of({ 'aria-label': 'Code (plain text)' }),
        access.of(editable(true)),
      ],
    }),
  })
  return { view, setReadOnly: (readOnly) => view.dispatch({ effects: access.reconfigure(editable(!readOnly)) }) }
}
