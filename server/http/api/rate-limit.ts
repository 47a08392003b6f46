/**
 * Request rates for /api: one token bucket per client address and one per
 * Bearer token (the socket's TokenBucket, the gateway's clientAddress). Every
 * request counts, a preflight or a request that opens a long-lived stream
 * included. Buckets that have filled up again are forgotten.
 */
import { Errors } from '../../../client/protocol.ts'
import { createHash } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { TokenBucket, clientAddress } from '../../ws/limits.ts'
import { ApiError } from './errors.ts'

export interface RateLimitSettings {
  /** Requests per second per token (0 = no per-token limit), and the burst. */
  apiRateLimitPerSecond: number
  apiRateLimitBurst: number
  /** Requests per second per client address (0 = no per-address limit), and the burst. */
  apiRateLimitPerIpPerSecond: number
  apiRateLimitPerIpBurst: number
  /** Proxies whose X-Forwarded-For to trust (the gateway's rule). */
  trustProxy: number
}

/** Forget full buckets at most this often. */
const SWEEP_EVERY_MS = 1000

/** Token buckets by key, each made on first use; full ones are dropped now and then. */
class Buckets {
  private readonly buckets = new Map<string, TokenBucket>()
  private readonly rate: number
  private readonly burst: number
  private lastSweep = performance.now()

  constructor(rate: number, burst: number) {
    this.rate = rate
    this.burst = burst
  }

  /** Take one token for `key`: 0 when granted, else the milliseconds until one is there. */
  take(key: string, now = performance.now()): number {
    if (now - this.lastSweep >= SWEEP_EVERY_MS) this.sweep(now)
    let bucket = this.buckets.get(key)
    if (!bucket) {
      bucket = new TokenBucket(this.rate, this.burst, now)
      this.buckets.set(key, bucket)
    }
    return bucket.take(now) ? 0 : Math.max(1, bucket.waitMs(now))
  }

  private sweep(now: number): void {
    this.lastSweep = now
    for (const [key, bucket] of this.buckets) if (bucket.isFull(now)) this.buckets.delete(key)
  }
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i

/** The limits of one server; `check` throws 429 `rate-limited` with Retry-After (whole seconds). */
export class ApiRateLimit {
  private readonly perAddress: Buckets | undefined
  private readonly perToken: Buckets | undefined
  private readonly trustProxy: number

  constructor(settings: RateLimitSettings) {
    this.trustProxy = settings.trustProxy
    if (settings.apiRateLimitPerIpPerSecond > 0) this.perAddress = new Buckets(settings.apiRateLimitPerIpPerSecond, settings.apiRateLimitPerIpBurst)
    if (settings.apiRateLimitPerSecond > 0) this.perToken = new Buckets(settings.apiRateLimitPerSecond, settings.apiRateLimitBurst)
  }

  /**
   * Count the request against its address, then against its token (before the
   * token is verified: a made-up token still pays for its address, and
   * verifying costs more than counting).
   */
  check(req: IncomingMessage): void {
    const address = clientAddress(req, this.trustProxy)
    const addressWait = this.perAddress?.take(address) ?? 0
    if (addressWait > 0) throw limited('this address', addressWait)
    const token = BEARER.exec(req.headers.authorization ?? '')?.[1]
    if (token === undefined || !this.perToken) return
    // Keyed by a digest: the map holds no tokens, and keys have one size.
    const tokenWait = this.perToken.take(createHash('sha256').update(token).digest('base64'))
    if (tokenWait > 0) throw limited('this token', tokenWait)
  }
}

function limited(who: string, waitMs: number): ApiError {
  const seconds = Math.ceil(waitMs / 1000)
  return new ApiError(Errors.RateLimited, `too many requests from ${who}; retry in ${seconds} s`, { 'retry-after': String(seconds) })
}
