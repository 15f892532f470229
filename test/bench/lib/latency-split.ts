/**
 * Where a subgraph fetch's time went over one measured window, from the gateway's and the
 * subgraphs' own `/metrics` (histogram sums and counts read before and after): the gateway's view
 * of each fetch (request written to answer parsed), the subgraph's view of the same request
 * (headers read to answer written), and inside it the wait for a pooled PostgreSQL connection
 * and the transaction. Fetch minus server time is the time outside the subgraph: the loopback
 * network, both processes waiting for a CPU, and both event loops busy with other requests.
 * Means, so a few slow fetches weigh in; the event-loop lag p99 is over the window.
 */
import { EVENT_LOOP_SAMPLE_MS } from '../../../subgraphs/kit/metrics.ts';

export interface SubgraphSplit {
  subgraph: string;
  fetches: number;
  /** Mean ms of a fetch as the gateway saw it. */
  fetchMs: number;
  /** Mean ms of a /graphql request as the subgraph saw it. */
  serverMs: number;
  /** Mean ms a transaction waited for a connection, and held one. NaN when none ran. */
  poolWaitMs: number;
  transactionMs: number;
  /** The subgraph process's event-loop lag p99 (prom-client), ms. */
  loopLagP99Ms: number;
}

/** Samples of one scrape: `name{labels}` (labels sorted) to value. */
type Samples = Map<string, number>;

export interface Snapshot {
  gateway: Samples;
  subgraphs: Record<string, Samples>;
}

function key(name: string, labels: Record<string, string> = {}): string {
  const inner = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`)
    .join(',');
  return inner ? `${name}{${inner}}` : name;
}

/** The Prometheus text format, just enough of it: one sample per line, labels without commas or escapes. */
export function parseSamples(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').split(',')) {
      const eq = pair.indexOf('=');
      if (eq > 0) labels[pair.slice(0, eq)] = pair.slice(eq + 2, -1);
    }
    samples.set(key(match[1]!, labels), Number(match[3]));
  }
  return samples;
}

async function scrape(url: string): Promise<Samples> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return parseSamples(await response.text());
}

/** Reads the gateway's and every subgraph's /metrics (subgraph URLs end in /graphql). */
export async function snapshot(gatewayBase: string, subgraphUrls: Record<string, string>): Promise<Snapshot> {
  const names = Object.keys(subgraphUrls);
  const [gateway, ...each] = await Promise.all([
    scrape(`${gatewayBase}/metrics`),
    ...names.map((name) => scrape(subgraphUrls[name]!.replace(/\/graphql$/, '/metrics'))),
  ]);
  return { gateway: gateway!, subgraphs: Object.fromEntries(names.map((name, i) => [name, each[i]!])) };
}

/** Mean ms of a histogram between two scrapes; NaN when it saw nothing. */
function meanMs(before: Samples, after: Samples, name: string, labels?: Record<string, string>): { n: number; ms: number } {
  const delta = (suffix: string) => (after.get(key(name + suffix, labels)) ?? 0) - (before.get(key(name + suffix, labels)) ?? 0);
  const n = delta('_count');
  return { n, ms: n > 0 ? (delta('_sum') * 1000) / n : NaN };
}

/** The split of every subgraph the gateway fetched from between the two snapshots. */
export function split(before: Snapshot, after: Snapshot): SubgraphSplit[] {
  const rows: SubgraphSplit[] = [];
  for (const name of Object.keys(after.subgraphs)) {
    const fetch = meanMs(before.gateway, after.gateway, 'gateway_subgraph_fetch_duration_seconds', { subgraph: name, outcome: 'ok' });
    if (!fetch.n) continue;
    const [b, a] = [before.subgraphs[name]!, after.subgraphs[name]!];
    rows.push({
      subgraph: name,
      fetches: fetch.n,
      fetchMs: fetch.ms,
      serverMs: meanMs(b, a, 'subgraph_request_duration_seconds', { subgraph: name, route: '/graphql', status: '200' }).ms,
      poolWaitMs: meanMs(b, a, 'db_pool_wait_seconds').ms,
      transactionMs: meanMs(b, a, 'db_transaction_duration_seconds', { outcome: 'commit' }).ms,
      // Node records each sample as the whole interval: the lag is what exceeds it.
      loopLagP99Ms: Math.max(0, (a.get('nodejs_eventloop_lag_p99_seconds') ?? NaN) * 1000 - EVENT_LOOP_SAMPLE_MS),
    });
  }
  return rows;
}
