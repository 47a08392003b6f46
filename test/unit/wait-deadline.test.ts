import { describe, expect, it, vi } from 'vitest'
import { WAIT_TIMEOUT_MS } from '../setup.ts'

describe('the suite waits on real events with one deadline (test/setup.ts)', () => {
  it('vi.waitFor waits longer than vitest’s 1 s default, and still gives up', async () => {
    const start = Date.now()
    await vi.waitFor(() => expect(Date.now() - start).toBeGreaterThan(1200), { interval: 50 })
    await expect(vi.waitFor(() => expect(false).toBe(true), { timeout: 100, interval: 20 })).rejects.toThrow()
    expect(WAIT_TIMEOUT_MS).toBeGreaterThan(3 * 1500)
  })
})
