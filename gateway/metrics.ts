import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createRegistry, LATENCY_BUCKETS } from '../subgraphs/kit/metrics.ts';
import { SHED_REASONS, type ShedReason } from './admission.ts';
import type { FetchOutcome } from './subgraph-client.ts';

/** Operation names are chosen by clients: past this many distinct ones, new names count as "other". */
const MAX_OPERATION_LABELS = 500;

export interface GatewayMetrics {
  registry: Registry;
  observeRequest(operation: string, status: number, seconds: number): void;
  observeSubgraph(subgraph: string, seconds: number, outcome: FetchOutcome): void;
  /** A subgraph fetch answered by an identical one in flight (GATEWAY_FETCH_DEDUP). */
  countDeduplicated(subgraph: string): void;
  /** `count` query fetches sent to a subgraph as one request (GATEWAY_FETCH_MERGE). */
  countMerged(subgraph: string, count: number): void;
  /** A request waiting on an identical operation in flight for its answer (GATEWAY_OPERATION_DEDUP). */
  countSharedOperation(): void;
  /** Gauges of the admission control's current limit, running and waiting operations, and its service-time estimate. */
  watchAdmission(admission: { limit: number; active: number; waiting: number; serviceMs: number }): void;
  /** An operation refused by admission control (503 OVERLOADED), by reason. */
  observeShed(reason: ShedReason): void;
  /** An operation admitted after waiting `ms` for its slot. */
  observeAdmissionWait(ms: number): void;
}

/**
 * Prometheus metrics on a registry of its own (several gateways can live in one test process):
 * requests by operation and status, subgraph fetches by subgraph and outcome, and the default
 * process metrics (CPU, memory, event-loop lag, GC).
 */
export function createMetrics(): GatewayMetrics {
  const registry = createRegistry();
  const labels = ['operation', 'status'] as const;
  const requests = new Counter({ name: 'gateway_requests_total', help: 'HTTP requests by GraphQL operation and status', labelNames: labels, registers: [registry] });
  const duration = new Histogram({
    name: 'gateway_request_duration_seconds',
    help: 'HTTP request duration by GraphQL operation and status',
    labelNames: labels,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const subgraph = new Histogram({
    name: 'gateway_subgraph_fetch_duration_seconds',
    help: 'Subgraph fetch duration by subgraph and outcome (ok, timeout, unavailable; skipped: not sent, the client had hung up)',
    labelNames: ['subgraph', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const deduplicated = new Counter({
    name: 'gateway_subgraph_fetches_deduplicated_total',
    help: 'Subgraph query fetches not sent: an identical one (document, variables, credentials) was in flight, and its answer served both (GATEWAY_FETCH_DEDUP)',
    labelNames: ['subgraph'] as const,
    registers: [registry],
  });
  const merged = new Counter({
    name: 'gateway_subgraph_fetches_merged_total',
    help: 'Subgraph query fetches that went in another fetch\'s request: fetches of one plan stage to one subgraph are sent as one operation (GATEWAY_FETCH_MERGE)',
    labelNames: ['subgraph'] as const,
    registers: [registry],
  });
  const sharedOperations = new Counter({
    name: 'gateway_operations_deduplicated_total',
    help: 'GraphQL requests that waited on an identical query in flight (same body, Authorization and Accept) for its answer instead of running (GATEWAY_OPERATION_DEDUP)',
    registers: [registry],
  });
  const shed = new Counter({
    name: 'gateway_admission_shed_total',
    help: 'Operations refused by admission control (503 OVERLOADED) by reason: queue_timeout (waited GATEWAY_QUEUE_TIMEOUT_MS), predicted_wait (refused on arrival), queue_full (GATEWAY_QUEUE_MAX)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  for (const reason of SHED_REASONS) shed.inc({ reason }, 0); // every reason shows, at 0, from the start
  const wait = new Histogram({
    name: 'gateway_admission_wait_seconds',
    help: 'How long admitted operations waited for a slot (at most GATEWAY_QUEUE_TIMEOUT_MS)',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const seen = new Set<string>();
  const bounded = (operation: string) => {
    if (seen.has(operation)) return operation;
    if (seen.size >= MAX_OPERATION_LABELS) return 'other';
    seen.add(operation);
    return operation;
  };
  return {
    registry,
    observeRequest(operation, status, seconds) {
      const l = { operation: bounded(operation), status: String(status) };
      requests.inc(l);
      duration.observe(l, seconds);
    },
    observeSubgraph(name, seconds, outcome) {
      subgraph.observe({ subgraph: name, outcome }, seconds);
    },
    countDeduplicated(name) {
      deduplicated.inc({ subgraph: name });
    },
    countMerged(name, count) {
      merged.inc({ subgraph: name }, count - 1);
    },
    countSharedOperation() {
      sharedOperations.inc();
    },
    watchAdmission(admission) {
      const gauge = (name: string, help: string, read: () => number) =>
        new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
      gauge('gateway_admission_limit', 'Operations the gateway runs at once now (adaptive, GATEWAY_CONCURRENCY_MIN..MAX)', () => admission.limit);
      gauge('gateway_admission_active', 'Operations running', () => admission.active);
      gauge('gateway_admission_waiting', 'Operations waiting for a slot', () => admission.waiting);
      gauge('gateway_admission_service_seconds', 'Recent mean operation time admission control predicts waits with (0 until operations have ended)', () =>
        Number.isNaN(admission.serviceMs) ? 0 : admission.serviceMs / 1000,
      );
    },
    observeShed(reason) {
      shed.inc({ reason });
    },
    observeAdmissionWait(ms) {
      wait.observe(ms / 1000);
    },
  };
}
