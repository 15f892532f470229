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
 *
 * Overload (issue 15): a rate past what the machine serves; the table then splits the answers into
 * served (200) and refused (503 OVERLOADED, Retry-After) with their latencies, and counts client
 * timeouts. --compare-admission <rev> runs a second gateway, this tree with that revision's
 * gateway/admission.ts, and loads both in turn each round (before/after within one run):
 *
 *   npm run bench -- --scenario D --open-connections 3000 --rate 3000 --client-timeout 10000 \
 *     --seconds 20 --warmup 5 --rounds 2 --compare-admission 1fa2369 --no-write
 */
export const D_REQUEST_TYPES = ['leads', 'page', 'products', 'rest-leads'];
