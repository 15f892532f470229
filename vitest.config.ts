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
    // Each worker process keeps its modules between the files it runs (the test file itself is
    // still evaluated afresh): the supergraph's code (Apollo, Fastify, the subgraphs) is loaded
    // and compiled once a worker instead of once a file, a large share of a file's CPU time on
    // this host. Each file still starts its own servers on free ports against a database, Redis
    // prefix and keys of its own; what a module keeps for the life of a process is shared by the
    // files of a worker (the Saleor stand-in's in-memory order book: orders bi-webhooks places are
    // seen by later files), so no test may count on such state being fresh.
    isolate: false,
    // Two cores: a couple of files at a time keeps the shared PostgreSQL and timings sane.
    maxWorkers: 2,
  },
});
