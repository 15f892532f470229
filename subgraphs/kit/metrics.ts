import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * How often the event loop's delay is sampled, ms (prom-client's default is 10). Each sample is
 * a timer that wakes the process: at 10 ms an idle process spent about 7 ms of CPU a second on
 * it, and seven processes share two vCPUs in docker/. Node records each sample as the whole time
 * between two timer callbacks, so every `nodejs_eventloop_lag_{min,max,mean,p50,p90,p99}_seconds`
 * gauge reads this interval plus the lag: subtract it (the dashboard's lag panel does). A stall
 * longer than the interval always shows; a shorter one shows when it holds up a sample.
 * Scenario B (2026-12-07): idle subgraph processes 0.004-0.008 cores against 0.010-0.025.
 */
export const EVENT_LOOP_SAMPLE_MS = 50;

/** A registry with the default process metrics (CPU, memory, event-loop lag, GC). */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  return registry;
}

/** Latency buckets, seconds: the gateway's subgraph fetches use the same, so the two compare. */
export const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What the kit's database reports: how long a transaction waited for a pooled connection, and how long it held one. */
export interface DatabaseObserver {
  poolWait(seconds: number): void;
  transaction(seconds: number, outcome: 'commit' | 'rollback'): void;
}

export interface SubgraphMetrics {
  registry: Registry;
  observeRequest(subgraph: string, route: string, status: number, seconds: number): void;
  database: DatabaseObserver;
  /** Reports `redis_up` from this client's connection state (the process's Redis). */
  watchRedis(redis: { status?: string }): void;
}

let processMetrics: SubgraphMetrics | undefined;

/**
 * The metrics of this process's subgraphs, served by each subgraph's `/metrics`. One registry per
 * process: the pool and the event loop belong to the process (`npm start` runs every subgraph in
 * one), and requests carry their subgraph as a label. Compared with the gateway's
 * `gateway_subgraph_fetch_duration_seconds`, they split a slow fetch into time in the subgraph
 * (and within it, waiting for a connection and inside the transaction) and time outside it
 * (network, queues, the two event loops).
 */
export function subgraphMetrics(): SubgraphMetrics {
  if (processMetrics) return processMetrics;
  const registry = createRegistry();
  const requests = new Histogram({
    name: 'subgraph_request_duration_seconds',
    help: 'HTTP request duration in the subgraph (from its headers read to its answer written), by subgraph, route and status',
    labelNames: ['subgraph', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const poolWait = new Histogram({
    name: 'db_pool_wait_seconds',
    help: 'Time a tenant transaction waited for a pooled PostgreSQL connection',
    buckets: [0.0005, ...LATENCY_BUCKETS],
    registers: [registry],
  });
  const transactions = new Histogram({
    name: 'db_transaction_duration_seconds',
    help: 'Tenant transaction duration on its connection (BEGIN to COMMIT or ROLLBACK answered), by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.0005, ...LATENCY_BUCKETS],
    registers: [registry],
  });
  let redis: { status?: string } | undefined;
  new Gauge({
    name: 'redis_up',
    help: "1 while this process's Redis client is connected (or Redis is the in-memory one), 0 while not: cache bypassed, limits counted per process",
    registers: [registry],
    collect() {
      // ioredis-mock (the in-memory Redis) has no status: always up.
      this.set(!redis || redis.status === undefined || redis.status === 'ready' ? 1 : 0);
    },
  });
  processMetrics = {
    registry,
    watchRedis(client) {
      redis = client;
    },
    observeRequest(subgraph, route, status, seconds) {
      requests.observe({ subgraph, route, status: String(status) }, seconds);
    },
    database: {
      poolWait: (seconds) => poolWait.observe(seconds),
      transaction: (seconds, outcome) => transactions.observe({ outcome }, seconds),
    },
  };
  return processMetrics;
}
