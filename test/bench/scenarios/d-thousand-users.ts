/**
 * Scenario D: scenario B's setup (our supergraph on PostgreSQL and Redis, production settings,
 * one process per subgraph, nothing pinned unless --pin) under 1000 open keep-alive connections for 60 s at a total of 500
 * requests/s of B's mix (login left out: argon2 bounds it to a few per second). Target: zero
 * errors, p99 at most 250 ms. Run by the scenario B runner (runScenarioB with
 * `manyConnections`); the load comes from lib/many-connections-worker.ts, because autocannon
 * cannot keep more connections open than requests per second.
 *
 *   npm run bench -- --scenario D                  # 1000 connections, 500 req/s, warm-up + 60 s, cache warm
 *   npm run bench -- --scenario D --cache cold     # subgraph response cache off
 */
export const D_REQUEST_TYPES = ['leads', 'page', 'products', 'rest-leads'];
