import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_LOOP_SAMPLE_MS } from '../subgraphs/kit/metrics.ts';
import { repoPath } from '../subgraphs/kit/paths.ts';
import auth from '../subgraphs/auth/index.ts';
import crm from '../subgraphs/crm/index.ts';
import { DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import { bearer, gql } from './support/graphql.ts';
import { startSubgraphs, type RunningSubgraphs } from './support/stack.ts';

let stack: RunningSubgraphs;
let token: string;

beforeAll(async () => {
  stack = await startSubgraphs([auth, crm]);
  token = await stack.login('owner@acme.example');
});
afterAll(() => stack?.close());

/** The metrics text of a subgraph, and one sample's value (0 when absent). */
async function scrape(subgraph: string) {
  const response = await fetch(stack.urls[subgraph]!.replace(/\/graphql$/, '/metrics'));
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  const text = await response.text();
  return {
    text,
    value(sample: string): number {
      const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
      return line ? Number(line.slice(sample.length + 1)) : 0;
    },
  };
}

const REQUESTS = 'subgraph_request_duration_seconds_count{subgraph="crm",route="/graphql",status="200"}';
const COMMITS = 'db_transaction_duration_seconds_count{outcome="commit"}';
const ROLLBACKS = 'db_transaction_duration_seconds_count{outcome="rollback"}';
const POOL_WAITS = 'db_pool_wait_seconds_count';

describe('subgraph /metrics', () => {
  it('counts requests by subgraph, route and status, and the transactions they ran', async () => {
    const before = await scrape('crm');
    const statements: string[] = [];
    const stop = stack.backends.db.onStatement((text) => statements.push(text));
    const result = await gql(stack.urls.crm!, '{ leads(first: 5) { totalCount edges { node { name } } } }', {}, bearer(token));
    stop();
    expect(result.errors).toBeUndefined();
    expect(result.data!.leads.edges.length).toBeGreaterThan(0);
    const after = await scrape('crm');
    expect(after.value(REQUESTS) - before.value(REQUESTS)).toBe(1);
    // The page (its count in its statement) is one transaction: at least one committed, each after a wait for a connection.
    const commits = after.value(COMMITS) - before.value(COMMITS);
    expect(commits).toBeGreaterThanOrEqual(1);
    expect(after.value(POOL_WAITS) - before.value(POOL_WAITS)).toBe(commits);
    expect(after.value(ROLLBACKS)).toBe(before.value(ROLLBACKS));
    expect(after.value('db_transaction_duration_seconds_sum{outcome="commit"}')).toBeGreaterThan(before.value('db_transaction_duration_seconds_sum{outcome="commit"}'));
    // Process metrics of the subgraph's own process: event-loop lag and GC, to tell a busy subgraph from a slow network.
    expect(after.text).toContain('nodejs_eventloop_lag_p99_seconds');
    expect(after.text).toContain('process_cpu_seconds_total');
  });

  it('samples the event loop every EVENT_LOOP_SAMPLE_MS: its delay gauges read that interval plus the lag', async () => {
    await scrape('crm'); // prom-client resets the histogram at each scrape
    await new Promise((resolve) => setTimeout(resolve, EVENT_LOOP_SAMPLE_MS * 10));
    const after = await scrape('crm');
    // The median sample: one can read short of the interval (libuv times from its cached loop
    // clock) or long (the tests' own work), not most of them; no samples at all would read 0.
    const p50 = after.value('nodejs_eventloop_lag_p50_seconds') * 1000;
    expect(p50).toBeGreaterThan(EVENT_LOOP_SAMPLE_MS * 0.9);
    expect(p50).toBeLessThan(EVENT_LOOP_SAMPLE_MS * 4);
    // The dashboard's lag panel subtracts the same interval.
    const dashboard = readFileSync(repoPath('docker/monitoring/grafana-dashboard.json'), 'utf8');
    expect(dashboard).toContain(`clamp_min(nodejs_eventloop_lag_p99_seconds{job=~\\"$gateway_job|$subgraph_job\\"} - ${EVENT_LOOP_SAMPLE_MS / 1000}, 0)`);
  });

  it('counts a transaction that failed as a rollback', async () => {
    const before = await scrape('crm');
    const scope = { tenantId: DEMO_TENANTS[0].id, accountId: null };
    await expect(stack.backends.db.withTenant(scope, (tx) => tx.query('SELECT no_such_column FROM crm.leads'))).rejects.toThrow(/no_such_column/);
    const after = await scrape('crm');
    expect(after.value(ROLLBACKS) - before.value(ROLLBACKS)).toBe(1);
  });

  it('labels unmatched paths "-", not by their URL, and carries no tenant data', async () => {
    const before = await scrape('crm');
    // A marker no metric value can contain (digits could turn up in any sum).
    const missing = await fetch(stack.urls.crm!.replace(/\/graphql$/, '/no/such/path-qxzv'));
    expect(missing.status).toBe(404);
    const after = await scrape('crm');
    const sample = 'subgraph_request_duration_seconds_count{subgraph="crm",route="-",status="404"}';
    expect(after.value(sample) - before.value(sample)).toBe(1);
    expect(after.text).not.toContain('qxzv');
    expect(after.text).not.toContain(DEMO_TENANTS[0].id);
    expect(after.text).not.toContain('acme');
  });

  it('labels each subgraph of a process by its name (one registry per process, served by each)', async () => {
    const sample = 'subgraph_request_duration_seconds_count{subgraph="auth",route="/graphql",status="200"}';
    const before = await scrape('auth');
    const result = await gql(stack.urls.auth!, '{ tenant { slug } }', {}, bearer(token));
    expect(result.data!.tenant.slug).toBe('acme');
    const fromAuth = await scrape('auth');
    expect(fromAuth.value(sample) - before.value(sample)).toBe(1);
    const fromCrm = await scrape('crm');
    expect(fromCrm.value(sample)).toBe(fromAuth.value(sample));
    expect(fromAuth.value(REQUESTS)).toBe(fromCrm.value(REQUESTS));
  });
});
