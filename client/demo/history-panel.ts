/**
 * The History panel, on the public REST API (client/demo/history-api.ts): the
 * room's versions, named and automatic, newest first and paged; save the
 * document now as a named version (role write); compare a version with now;
 * restore one (role admin) after a confirmation — the state before is saved
 * as a `pre-restore` version, listed at once. Labels and diff lines are text.
 */
import type { Room } from '../index.ts'
import { drawDiff, versionTitle } from './history-diff.ts'
import { type HistoryApi, problemText, type Role, type Version, type VersionPage } from './history-api.ts'
import { byId, h } from './dom.ts'

const KIND: Record<Version['kind'], string> = { named: 'Named', auto: 'Automatic', 'pre-restore': 'Before restore' }
const time = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' })

/** The mounted panel. */
export interface HistoryPanel {
  /** Load the newest page of versions again. */
  refresh(): Promise<void>
}

/** Mount the panel into #history; the versions are loaded once the room has synced (a refused room asks nothing). */
export function mountHistory(room: Room, api: HistoryApi): HistoryPanel {
  const list = byId('history-list')
  const more = byId<HTMLButtonElement>('history-more')
  const status = byId('history-status')
  const diffBox = byId('history-diff')
  const form = byId<HTMLFormElement>('history-save')
  const label = byId<HTMLInputElement>('history-label')
  const roleHint = byId('history-role')

  let versions: Version[] = []
  let next: number | null = null
  let role: Role | null = null
  let confirming: number | null = null

  /** Say what happened (or went wrong: `code` is the API error code, for styles and tests). */
  const say = (text: string, code?: string) => {
    status.textContent = text
    if (code) status.dataset.code = code
    else delete status.dataset.code
  }
  /** Run a call; a failure is said in the status line. */
  const attempt = async (action: string, fn: () => Promise<void>) => {
    try {
      await fn()
    } catch (error) {
      say(problemText(error, action), (error as { code?: string }).code ?? 'failed')
    }
  }

  function item(version: Version): HTMLElement {
    const own = h('span', { class: 'version-title' }, versionTitle(version))
    const buttons = h(
      'div',
      { class: 'version-actions' },
      h('button', { type: 'button', class: 'small version-diff', onclick: () => void compare(version) }, 'Compare with now'),
      role === 'admin' ? h('button', { type: 'button', class: 'small version-restore', onclick: () => ((confirming = version.id), draw()) }, 'Restore…') : null,
    )
    const confirm =
      confirming === version.id
        ? h(
            'div',
            { class: 'version-confirm', role: 'group', 'aria-label': 'Confirm the restore' },
            h('span', {}, 'Change the document back to this version for everyone? What is there now is saved first as a “before restore” version.'),
            h('button', { type: 'button', class: 'small primary version-restore-confirm', onclick: () => void restore(version) }, 'Restore'),
            h('button', { type: 'button', class: 'small', onclick: () => ((confirming = null), draw()) }, 'Cancel'),
          )
        : null
    return h(
      'li',
      { class: 'version', 'data-id': version.id, 'data-kind': version.kind },
      h('div', { class: 'version-head' },
        h('span', { class: 'version-kind' }, KIND[version.kind]),
        own,
        h('time', { datetime: version.createdAt }, time.format(new Date(version.createdAt))),
        version.createdBy ? h('span', { class: 'hint' }, `by ${version.createdBy}`) : null,
      ),
      buttons,
      confirm,
    )
  }

  function draw(): void {
    list.replaceChildren(...versions.map(item))
    more.hidden = next === null
    const canSave = role === 'write' || role === 'admin'
    for (const control of [label, ...form.querySelectorAll('button')]) control.disabled = !canSave
    roleHint.textContent =
      role === null ? '' : role === 'read' ? 'Your token gives the read role here: you can look at versions, not save or restore them.' : role === 'write' ? 'Restoring a version needs the admin role.' : ''
    if (versions.length === 0 && role !== null) list.append(h('li', { class: 'hint version-none' }, 'No versions yet. Save one, or wait for an automatic one.'))
  }

  function take(page: VersionPage, append: boolean): void {
    versions = append ? [...versions, ...page.versions] : page.versions
    next = page.next
    role = page.role
    draw()
  }

  async function compare(version: Version): Promise<void> {
    await attempt('compare', async () => {
      drawDiff(diffBox, version, await api.diffWithNow(version.id), () => (diffBox.hidden = true))
      diffBox.scrollIntoView({ block: 'nearest' })
      say(`Compared “${versionTitle(version)}” with now.`)
    })
  }

  async function restore(version: Version): Promise<void> {
    confirming = null
    await attempt('restore', async () => {
      const { preRestore } = await api.restore(version.id)
      take(await api.list(), false)
      diffBox.hidden = true
      say(`Restored “${versionTitle(version)}”. What was there before is saved as “${versionTitle(preRestore)}”.`)
    })
  }

  const refresh = () =>
    attempt('load the versions', async () => {
      take(await api.list(), false)
      if (status.textContent?.startsWith('The versions load')) say('')
    })

  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const text = label.value.trim()
    if (!text) return
    void attempt('save the version', async () => {
      const saved = await api.save(text)
      label.value = ''
      take(await api.list(), false)
      say(`Saved “${versionTitle(saved)}”.`)
    })
  })
  more.addEventListener('click', () => {
    if (next !== null) void attempt('load older versions', async () => take(await api.list(next!), true))
  })
  byId('history-refresh').addEventListener('click', () => void refresh())
  say('The versions load once the room is connected.')
  room.synced.then(refresh, () => undefined) // left before it synced: nothing to load
  return { refresh }
}
