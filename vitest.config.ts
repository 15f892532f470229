import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Tests that spawn, crash and overload whole processes: `npm start` on embedded PGlite (twice, a
 * restart), a crash is one fatal log line and exit 1, the production build run by plain node, a
 * gateway shedding load. Long fault, load and process runs, outside `npm test` (kept under 5
 * minutes on two cores): `npm run test:processes` (vitest.processes.config.ts), which `.ci/run`
 * runs on every Node version after `npm test`.
 */
export const PROCESS_TESTS = ['test/start.test.ts', 'test/crash.test.ts', 'test/production-build.test.ts', 'test/gateway-overload.test.ts', 'test/tracing.test.ts'];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...PROCESS_TESTS],
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
