import { describe, expect, it } from 'vitest'
import { TokenBucket } from '../../server/ws/limits.ts'

describe('TokenBucket', () => {
  it('says how long until the next token, and when it is full again', () => {
    const bucket = new TokenBucket(2, 2, 0) // 2/s, burst 2
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, false])
    expect(bucket.waitMs(0)).toBe(500)
    expect(bucket.waitMs(250)).toBe(250)
    expect(bucket.isFull(500)).toBe(false)
    expect(bucket.take(500)).toBe(true)
    expect(bucket.isFull(1500)).toBe(true)
  })
})
