/**
 * One authenticated document connection: who, which role, until when. Lives in
 * the Hocuspocus connection context (`context.session`), so every later hook
 * (awareness guard, chat guard, …) reads the current user and role from it.
 * The object is mutated in place when a fresh token arrives: Hocuspocus copies
 * the context object on token sync, but every copy points at this session.
 */
import type { Role } from './access.ts'
import type { TokenUser } from './jwt.ts'

/** Longest delay Node's timers accept (~24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1
/** After an answer that did not extend the lifetime, ask again no sooner than this. */
const MIN_ASK_INTERVAL_MS = 1000

export interface SessionTimers {
  /** Ask the client for a fresh token before this one expires. */
  requestToken(): void
  /** The token expired and no fresh one arrived: end this document connection. */
  expire(): void
}

export class AuthSession {
  /** `token`: a verified JWT; `open`: development mode, no identity. */
  readonly mode: 'token' | 'open'
  /** From the token; null in open mode. */
  user: TokenUser | null
  role: Role
  /** `exp` of the current token, ms since the epoch; null in open mode. */
  expiresAt: number | null

  private timers: SessionTimers | undefined
  private refreshTimer: NodeJS.Timeout | undefined
  private expiryTimer: NodeJS.Timeout | undefined
  private refreshBeforeMs = 0
  /** The client was asked for a fresh token for the current expiry. */
  private asked = false
  /** The update being handled right now (see `hold`). */
  private inflight: { done: Promise<void>; release: () => void } | undefined
  /** Fresh tokens are handled one after the other, in arrival order. */
  private refreshes: Promise<void> = Promise.resolve()
  private ended = false

  constructor(mode: 'token' | 'open', role: Role, user: TokenUser | null = null, expiresAt: number | null = null) {
    this.mode = mode
    this.role = role
    this.user = user
    this.expiresAt = expiresAt
  }

  get closed(): boolean {
    return this.ended
  }

  /** Start the lifetime timers: a token request before `exp`, the end at `exp`. */
  start(timers: SessionTimers, refreshBeforeMs: number): void {
    if (this.ended || this.expiresAt === null) return
    this.timers = timers
    this.refreshBeforeMs = refreshBeforeMs
    this.arm()
  }

  /** A fresh token was accepted: take its identity, role and lifetime. */
  renew(user: TokenUser, role: Role, expiresAt: number): void {
    const extended = this.expiresAt === null || expiresAt > this.expiresAt
    this.user = user
    this.role = role
    this.expiresAt = expiresAt
    if (!this.timers) return
    if (extended) this.arm()
    // Asked, but the answer did not last longer (a fixed or cached token): ask again, less and less often.
    else if (this.asked) this.askAgain()
  }

  /** Run fresh-token handling strictly in arrival order. */
  serialize(job: () => Promise<void>): Promise<void> {
    const next = this.refreshes.then(job)
    this.refreshes = next.catch(() => undefined) // the caller handles the error; the queue goes on
    return next
  }

  /**
   * Mark an update as being handled. Its storage write and its application read
   * `connection.readOnly` at different moments; a role change waits (`idle`)
   * until neither is under way, so an update is stored and applied, or
   * neither, under one role.
   */
  hold(): void {
    if (this.inflight) return
    let release = () => {}
    const done = new Promise<void>((resolve) => (release = resolve))
    this.inflight = { done, release }
  }

  release(): void {
    const inflight = this.inflight
    this.inflight = undefined
    inflight?.release()
  }

  /** Resolves when no update is being handled. */
  async idle(): Promise<void> {
    while (this.inflight) await this.inflight.done
  }

  /** The connection ended: stop the timers. */
  end(): void {
    this.ended = true
    clearTimeout(this.refreshTimer)
    clearTimeout(this.expiryTimer)
    this.release()
  }

  private arm(): void {
    clearTimeout(this.refreshTimer)
    clearTimeout(this.expiryTimer)
    if (this.ended || this.expiresAt === null || !this.timers) return
    const timers = this.timers
    const remaining = this.expiresAt - Date.now()
    // Ask `refreshBeforeMs` ahead, or halfway through a shorter remaining lifetime.
    const askIn = Math.max(0, remaining - Math.min(this.refreshBeforeMs, remaining / 2))
    this.asked = false
    this.refreshTimer = setTimeout(() => this.ask(), Math.min(askIn, MAX_TIMER_MS)).unref()
    const check = () => {
      if (this.ended || this.expiresAt === null) return
      const left = this.expiresAt - Date.now()
      if (left > 0) this.expiryTimer = setTimeout(check, Math.min(left, MAX_TIMER_MS)).unref()
      else timers.expire()
    }
    check()
  }

  private ask(): void {
    if (this.ended || !this.timers) return
    this.asked = true
    this.timers.requestToken()
  }

  private askAgain(): void {
    clearTimeout(this.refreshTimer)
    const remaining = (this.expiresAt ?? 0) - Date.now()
    const wait = Math.max(MIN_ASK_INTERVAL_MS, remaining / 2)
    if (wait < remaining) this.refreshTimer = setTimeout(() => this.ask(), Math.min(wait, MAX_TIMER_MS)).unref()
  }
}

/** The session Hocuspocus keeps in a connection's context, if any. */
export function sessionOf(context: unknown): AuthSession | undefined {
  const session = (context as { session?: unknown } | null | undefined)?.session
  return session instanceof AuthSession ? session : undefined
}
