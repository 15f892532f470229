import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    // A test that asserts nothing fails: none may pass on an empty loop or an early return.
    expect: { requireAssertions: true },
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: a couple of files at a time keeps the shared PostgreSQL and timings sane.
    maxWorkers: 2,
  },
});
