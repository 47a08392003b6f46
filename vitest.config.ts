import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One deadline for waits on real events (vi.waitFor, expect.poll): see test/setup.ts.
    setupFiles: ['test/setup.ts'],
    expect: { poll: { timeout: 10_000 } },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: run two files at a time, each with its own servers on free ports.
    maxWorkers: 2,
    reporters: ['default'],
  },
})
