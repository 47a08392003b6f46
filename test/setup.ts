/**
 * One deadline for every wait on a real event in the suite. vitest's own
 * default for `vi.waitFor` and `expect.poll` is 1 s; the conditions these
 * tests wait for take ~10–300 ms on a quiet machine and up to ~1.5 s with the
 * machine's two cores overloaded (load average ~19 in `npm run test:stress`
 * runs beside other work), so a 1 s deadline made tests fail without a fault.
 * 10 s is more than 3× the worst seen; a wait that names its own timeout keeps it.
 */
import { vi } from 'vitest'

export const WAIT_TIMEOUT_MS = 10_000

const waitFor = vi.waitFor.bind(vi)
vi.waitFor = ((callback: Parameters<typeof vi.waitFor>[0], options?: Parameters<typeof vi.waitFor>[1]) =>
  waitFor(callback, typeof options === 'number' ? options : { timeout: WAIT_TIMEOUT_MS, ...options })) as typeof vi.waitFor
