/**
 * The typing indicator, on the awareness `typing` field. `start()` on every
 * keystroke is cheap: only the first one after a pause sends anything, and the
 * flag clears itself after `timeoutMs` without another `start()`.
 */
import type { Awareness } from 'y-protocols/awareness'
import { type PresenceEntry, presenceEntries } from './presence.ts'

/** Clear the indicator after this long without input, ms. */
export const DEFAULT_TYPING_TIMEOUT_MS = 3000

/** `room.typing`: say that the local user is typing, and see who else is. */
export class Typing {
  private readonly awareness: Awareness
  private readonly timeoutMs: number
  private readonly onActivity: () => void
  private timer: ReturnType<typeof setTimeout> | undefined

  /** `onActivity` is called on every `start()` (presence counts typing as activity). */
  constructor(awareness: Awareness, options: { timeoutMs: number; onActivity: () => void }) {
    this.awareness = awareness
    this.timeoutMs = options.timeoutMs
    this.onActivity = options.onActivity
  }

  /** Whether the local user is marked as typing. */
  get isTyping(): boolean {
    return this.awareness.getLocalState()?.typing === true
  }

  /** The local user typed: mark them typing, and clear it after `timeoutMs` without another call. */
  start(): void {
    this.onActivity()
    clearTimeout(this.timer)
    this.timer = setTimeout(() => this.stop(), this.timeoutMs)
    if (!this.isTyping && this.awareness.getLocalState() !== null) this.awareness.setLocalStateField('typing', true)
  }

  /** The local user stopped typing (e.g. sent the message or cleared the input). */
  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.isTyping) this.awareness.setLocalStateField('typing', false)
  }

  /** The others who are typing now. */
  who(): PresenceEntry[] {
    return presenceEntries(this.awareness, false).filter((e) => e.typing)
  }

  /** Call `listener` with `who()` whenever the set of typers changes; returns the unsubscribe function. */
  onChange(listener: (who: PresenceEntry[]) => void): () => void {
    let last = this.key(this.who())
    const handler = () => {
      const who = this.who()
      const key = this.key(who)
      if (key === last) return
      last = key
      listener(who)
    }
    this.awareness.on('change', handler)
    return () => this.awareness.off('change', handler)
  }

  /** Stop the timer (the room is left). */
  destroy(): void {
    clearTimeout(this.timer)
  }

  private key(who: PresenceEntry[]): string {
    return who
      .map((e) => e.clientId)
      .sort((a, b) => a - b)
      .join(',')
  }
}
