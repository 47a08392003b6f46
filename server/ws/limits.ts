/**
 * The abuse limits the gateway applies before anything reaches Hocuspocus:
 * message rate per socket, sockets per client address, browser origins and
 * document names (the REST API takes the bucket, the address and the names
 * from here too). Small and pure, so each is unit-tested on its own.
 */
import type { IncomingMessage } from 'node:http'

/** A token bucket: `burst` messages at once, `rate` per second on average. */
export class TokenBucket {
  private tokens: number
  private last: number
  private readonly rate: number
  private readonly burst: number

  constructor(rate: number, burst: number, now = performance.now()) {
    this.rate = rate
    this.burst = burst
    this.tokens = burst
    this.last = now
  }

  /** Take one token; false when the bucket is empty. */
  take(now = performance.now()): boolean {
    this.refill(now)
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** Milliseconds until a token is there again (0 when one is there now). */
  waitMs(now = performance.now()): number {
    this.refill(now)
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.rate) * 1000
  }

  /** Whether the bucket is full again, so forgetting it changes nothing. */
  isFull(now = performance.now()): boolean {
    this.refill(now)
    return this.tokens >= this.burst
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate)
    this.last = now
  }
}

/** Open sockets per client address, with a cap (0 = no cap). */
export class AddressCounter {
  private readonly counts = new Map<string, number>()
  private readonly max: number

  constructor(max: number) {
    this.max = max
  }

  /** Count one more socket for `address`; false (and not counted) when at the cap. */
  acquire(address: string): boolean {
    const n = this.counts.get(address) ?? 0
    if (this.max > 0 && n >= this.max) return false
    this.counts.set(address, n + 1)
    return true
  }

  release(address: string): void {
    const n = (this.counts.get(address) ?? 1) - 1
    if (n <= 0) this.counts.delete(address)
    else this.counts.set(address, n)
  }
}

/**
 * The client's address: the socket's, or — behind `trustProxy` proxies — the
 * X-Forwarded-For entry the outermost trusted proxy saw. Entries further left
 * were written by the client and are not trusted.
 */
export function clientAddress(req: IncomingMessage, trustProxy: number): string {
  const socketAddress = req.socket.remoteAddress ?? 'unknown'
  if (trustProxy <= 0) return socketAddress
  const header = req.headers['x-forwarded-for']
  const chain = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((s) => s.trim()).filter(Boolean)
  return chain[chain.length - trustProxy] ?? chain[0] ?? socketAddress
}

/** Whether a browser origin may open a socket (no Origin header: not a browser, allowed). */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  return allowed.length === 0 || origin === undefined || allowed.includes(origin)
}

const RESERVED = new Set(['__proto__', 'constructor', 'prototype'])

/**
 * Why a document name is refused, or undefined when it is fine: not empty, at
 * most `maxLength` characters, no control characters, no `.`/`..` path
 * segments, no empty segments, no reserved object keys.
 */
export function documentNameProblem(name: string, maxLength: number): string | undefined {
  if (name.length === 0) return 'empty'
  if (name.length > maxLength) return `longer than ${maxLength} characters`
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'control character'
  for (const segment of name.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') return 'empty, "." or ".." path segment'
    if (RESERVED.has(segment)) return `reserved name "${segment}"`
  }
  return undefined
}
