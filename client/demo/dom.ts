/**
 * A tiny DOM builder for the page: `h('button', { class: 'x', onclick }, 'Text')`.
 * Text children become text nodes (never HTML), so user content is safe to show.
 */
type Child = Node | string | number | false | null | undefined
type Props = Record<string, unknown>

/** Create an element with attributes (`on*` functions become listeners; `true` sets a boolean attribute) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value as EventListener)
    else el.setAttribute(key, value === true ? '' : String(value))
  }
  append(el, children)
  return el
}

/** Append children (strings as text). */
export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child)
  }
}

/** The element with `id`; throws if the page lacks it (a broken index.html should fail loudly). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id)
  if (!el) throw new Error(`page: #${id} is missing`)
  return el as T
}

/** Run `fn` once per animation frame at most, however often it is scheduled. */
export function coalesce(fn: () => void): () => void {
  let queued = false
  return () => {
    if (queued) return
    queued = true
    requestAnimationFrame(() => {
      queued = false
      fn()
    })
  }
}
