/**
 * A tiny typed event emitter. `on` returns the function that unsubscribes, so
 * a UI can tie a listener's life to a component's in one line.
 */

/** Maps each event name to the type of its payload. */
export type EventMap = Record<string, unknown>

/** A listener for one event. */
export type Listener<T> = (payload: T) => void

/** Subscribe to typed events; what `Room`, `Chat`, `CollabClient` expose. */
export interface Subscribable<E extends EventMap> {
  /** Call `listener` on every `event` until the returned function is called. */
  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void
}

/** The emitter behind `Subscribable`. A throwing listener does not stop the others; its error is reported. */
export class Emitter<E extends EventMap> implements Subscribable<E> {
  private readonly listeners = new Map<keyof E, Set<Listener<never>>>()
  private readonly onListenerError: (error: unknown) => void

  /** `onListenerError` receives what a listener throws (default: `console.error`). */
  constructor(onListenerError: (error: unknown) => void = (error) => console.error('collab client: a listener threw', error)) {
    this.onListenerError = onListenerError
  }

  /** Call `listener` on every `event` until the returned function is called. */
  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    let set = this.listeners.get(event)
    if (!set) this.listeners.set(event, (set = new Set()))
    set.add(listener as Listener<never>)
    return () => {
      set.delete(listener as Listener<never>)
    }
  }

  /** Call every listener of `event` with `payload`. */
  emit<K extends keyof E>(event: K, payload: E[K]): void {
    const set = this.listeners.get(event)
    if (!set) return
    for (const listener of [...set]) {
      try {
        ;(listener as Listener<E[K]>)(payload)
      } catch (error) {
        this.onListenerError(error)
      }
    }
  }

  /** Whether anyone listens to `event` (skip building payloads nobody reads). */
  has(event: keyof E): boolean {
    return (this.listeners.get(event)?.size ?? 0) > 0
  }

  /** Drop every listener. */
  clear(): void {
    this.listeners.clear()
  }
}
