import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, gql, login } from './support/graphql.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.ts';
import { startAll, startAllEnv, stopProcess } from './support/start-all.ts';
import { ADMIN_URL, createPostgresDatabase, postgresReachable, REDIS_URL, redisReachable, uniqueSuffix, type PostgresDatabase } from './support/services.ts';

/**
 * OpenTelemetry tracing end to end, through the process entry users run (`npm start`'s
 * start-all.ts) on PostgreSQL and Redis: with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a local
 * OTLP/HTTP receiver (this test's), one query that joins crm, auth and Saleor arrives as one
 * trace: the gateway's request span (operation name, type, document id, tenant; no variables),
 * Apollo Gateway's plan and fetch spans under it, each subgraph's request span under its fetch
 * (joined by the traceparent header the gateway sent), and the SQL and Redis spans under those.
 */

const realServices = (await postgresReachable()) && (await redisReachable());
const dataDir = mkdtempSync(join(tmpdir(), 'bizosaas-tracing-'));
let receiver: OtlpReceiver;
let database: PostgresDatabase | undefined;
let child: ChildProcess | undefined;
let gateway = '';

beforeAll(async () => {
  if (!realServices) return;
  receiver = await startOtlpReceiver();
  database = await createPostgresDatabase(ADMIN_URL, 'bizosaas_tracing');
  let env: Record<string, string>;
  ({ env, gateway } = await startAllEnv({
    DATA_DIR: dataDir,
    DATABASE_URL: database.appUrl,
    DATABASE_OWNER_URL: database.ownerUrl,
    REDIS_URL,
    REDIS_PREFIX: `tracing:${uniqueSuffix()}:`,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    // Export every 100 ms rather than every 5 s.
    OTEL_BSP_SCHEDULE_DELAY: '100',
  }));
  child = (await startAll(env)).child;
}, 150_000);

afterAll(async () => {
  if (child) await stopProcess(child);
  receiver?.server.close();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

const PIPELINE = `query TracedPipeline($first: Int!) {
  viewer { account { email } }
  deals(first: $first) { edges { node { title owner { email } products { name } } } }
}`;

describe('OpenTelemetry tracing (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  it.skipIf(!realServices)('one trace for a query joining crm, auth and Saleor: gateway span > fetch spans > subgraph request spans > SQL and Redis spans', async () => {
    const token = await login(gateway, 'owner@acme.example');
    const traceId = 'ab'.repeat(16);
    // The client's own trace: the gateway's span joins it.
    const result = await gql(gateway, PIPELINE, { first: 20 }, { ...bearer(token), traceparent: `00-${traceId}-${'cd'.repeat(8)}-01` });
    expect(result.errors).toBeUndefined();
    const deals = result.data!.deals.edges.map((e: any) => e.node);
    expect(deals.some((d: any) => d.owner?.email && d.products.some((p: any) => p?.name))).toBe(true);

    const ofTrace = () => receiver.spans.filter((s) => s.traceId === traceId);
    // Spans arrive in batches; wait until the subgraphs' (which end before the gateway's) and the gateway's are all in.
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && !ofTrace().some((s) => s.name === 'POST /graphql' && s.scope === 'bizosaas.gateway')) await sleep(100);
    await sleep(500);
    const spans = ofTrace();
    expect(receiver.requests.every((r) => r.contentType?.startsWith('application/json'))).toBe(true);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const byIdAll = () => new Map(receiver.spans.map((s) => [s.spanId, s]));
    const ancestors = (span: ReceivedSpan) => {
      const chain: ReceivedSpan[] = [];
      for (let parent = byId.get(span.parentSpanId); parent; parent = byId.get(parent.parentSpanId)) chain.push(parent);
      return chain;
    };

    // The gateway's request span: a child of the client's span, with the operation but not its variables.
    const root = spans.find((s) => s.scope === 'bizosaas.gateway' && s.name === 'POST /graphql')!;
    expect(root).toBeDefined();
    expect(root.parentSpanId).toBe('cd'.repeat(8));
    expect(root.service).toBe('bizosaas-supergraph');
    expect(root.attributes).toMatchObject({
      'graphql.operation.name': 'TracedPipeline',
      'graphql.operation.type': 'query',
      'http.route': '/graphql',
      'http.response.status_code': 200,
    });
    expect(root.attributes['graphql.document.id']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(root.attributes['bizosaas.tenant.id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(spans)).not.toContain('"first"');

    // Apollo Gateway's plan and fetch spans under it, one fetch per subgraph asked, each marked ok.
    const fetches = spans.filter((s) => s.name === 'gateway.fetch');
    expect(new Set(fetches.map((s) => s.attributes.service))).toEqual(new Set(['auth', 'crm', 'saleor']));
    for (const fetch of fetches) {
      expect(ancestors(fetch)).toContain(root);
      expect(fetch.attributes['bizosaas.fetch.outcome']).toBe('ok');
    }
    expect(spans.some((s) => s.name === 'gateway.plan' && ancestors(s).includes(root))).toBe(true);

    // Each subgraph's request span is a child of a fetch span of its subgraph (the traceparent it was sent).
    for (const subgraph of ['auth', 'crm', 'saleor']) {
      const served = spans.filter((s) => s.scope === `bizosaas.${subgraph}` && s.name === 'POST /graphql');
      expect(served.length, subgraph).toBeGreaterThan(0);
      for (const span of served) expect(byId.get(span.parentSpanId)?.attributes.service, subgraph).toBe(subgraph);
    }
    // SQL spans (pg) under crm's and auth's request spans; Redis spans (ioredis) under a subgraph's.
    const under = (span: ReceivedSpan, subgraph: string) => ancestors(span).some((a) => a.scope === `bizosaas.${subgraph}`);
    const sql = spans.filter((s) => s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql');
    expect(sql.some((s) => under(s, 'crm'))).toBe(true);
    expect(sql.some((s) => under(s, 'auth'))).toBe(true);
    // Statements are parameterized: the tenant's id never appears as a value in them.
    expect(sql.map((s) => String(s.attributes['db.statement'] ?? s.attributes['db.query.text'] ?? '')).join('\n')).not.toContain(String(root.attributes['bizosaas.tenant.id']));
    const redis = spans.filter((s) => s.attributes['db.system'] === 'redis' || s.attributes['db.system.name'] === 'redis');
    expect(redis.some((s) => ['crm', 'auth', 'saleor'].some((name) => under(s, name)))).toBe(true);
    // Every span of the request is in the one trace, and the process's background work made no trace of its own here.
    expect(spans.every((s) => s === root || ancestors(s).includes(root))).toBe(true);
    // Only requests start traces: not the warm-up before the processes serve, nor pg-boss's polling or other background SQL and Redis.
    const all = byIdAll();
    const roots = receiver.spans.filter((s) => !all.has(s.parentSpanId));
    expect(new Set(roots.map((s) => `${s.scope} ${s.name}`))).toEqual(new Set(['bizosaas.gateway POST /graphql']));
  });
});
