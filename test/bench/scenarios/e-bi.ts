/**
 * Scenario E: chart data over a million fact rows (issue 16, "Freshness and speed"). Our
 * supergraph as scenario B starts it (one process per subgraph, the gateway with production
 * settings, a fresh PostgreSQL database, real Redis), with `--rows` leads (crm.leads) and as
 * many orders with their lines (bi.orders, bi.order_lines) in acme, and a fiftieth of that in
 * globex (a second tenant, so row-level security has rows to filter out). Charts of every type
 * through the gateway's `chartPreview` as owner@acme.example, one request at a time:
 *
 * - cold: the tenant's bi cache generation bumped (Redis INCR) before each request, as a write in
 *   bi does, so every request computes its chart in PostgreSQL (and writes it to the cache);
 * - warm: the same request repeated, answered from the engine's Redis chart cache;
 * - warm straight to bi: the same warm request sent to the bi subgraph itself (no gateway hop);
 * - the floor: the cheapest bi round trip through the gateway (`biDataset`, from code and the
 *   response cache: one Redis read, as a warm chart), which no chart cache can go under.
 *
 * Then the EXPLAIN (ANALYZE, BUFFERS) of each chart's statement (the engine's own SQL, as the app
 * role under RLS), and, with `--ablate` (by default: the indexes of the migrations that claim
 * chart queries, see ABLATE below), the same cold requests and EXPLAINs once those indexes are
 * dropped: what each index buys, measured in the same run on the same data.
 *
 *   npm run bench -- --scenario E                     # 1,000,000 rows, 3 rounds (slow: the load takes minutes)
 *   npm run bench -- --scenario E --rows 100000       # a quicker run
 *   npm run bench -- --scenario E --rows 100000 --rounds 1 --no-write --ablate none
 *
 * Data are generated with set-based SQL (generate_series) in the tenant, seeded (setseed), so
 * two runs with the same --rows chart the same facts: created_at over three years, doubling every
 * year (growth); lead sources, statuses and scores, order statuses, channels,
 * currencies, log-normal order totals, 1-5 lines per order over 200 products of very unequal
 * popularity. Then VACUUM ANALYZE: a table at rest has been vacuumed by autovacuum (insert-driven
 * since PostgreSQL 13), and without its visibility map no index-only scan skips the heap.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Agent, request } from 'undici';
import { Redis } from 'ioredis';
import { productionNodeFlags } from '../../../gateway/node-flags.ts';
import { datasetByName, resolveRange, validateChart } from '../../../subgraphs/bi/engine/index.ts';
import { buildChartQuery } from '../../../subgraphs/bi/engine/sql.ts';
import { tenantKey } from '../../../subgraphs/kit/redis.ts';
import { createTestKeys } from '../../support/deps.ts';
import { freePorts } from '../../support/ports.ts';
import { createPostgresDatabase } from '../../support/services.ts';
import { gitRevision, loadAverage, machineInfo } from '../lib/machine.ts';
import { spawnNode, waitUntil, type Child } from '../lib/processes.ts';
import { deleteRedisKeys } from '../lib/redis-keys.ts';
import { findProfile, renderProfile, summariseProfile } from '../lib/profile.ts';
import { updateMarkdown } from '../lib/report.ts';
import { DEMO_EMAIL, DEMO_PASSWORD } from './b-supergraph.ts';

/** The run's shared secret of auth and agents (required in production). */
const DELEGATION_SECRET = randomBytes(32).toString('base64url');

export const SCENARIO_E_TITLE = 'Scenario E: chart data over a million fact rows (bi, PostgreSQL and Redis)';

const ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const UNTHROTTLED = '1000000000';
const ACME = 'acme';
const GLOBEX = 'globex';

/** Indexes that exist for charts, dropped for the "without" side of --ablate (default). */
const ABLATE_MIGRATIONS = [
  'subgraphs/crm/migrations/002_facts.sql',
  'subgraphs/bi/migrations/004_chart_indexes.sql',
  'subgraphs/bi/migrations/005_order_line_dates.sql',
];
const ABLATE_ALWAYS = new Set(['crm.leads_facts_idx']);

/** The chart indexes those migrations create (schema-qualified), for --ablate's default. */
export function chartIndexes(root: string): string[] {
  const names: string[] = [];
  for (const file of ABLATE_MIGRATIONS) {
    const path = join(root, file);
    if (!existsSync(path)) continue;
    const up = readFileSync(path, 'utf8').split('-- Down Migration')[0]!;
    for (const m of up.matchAll(/CREATE INDEX (?:IF NOT EXISTS )?(\w+) ON (\w+)\./g)) {
      const name = `${m[2]}.${m[1]}`;
      if (/\/00[45]_/.test(file) || ABLATE_ALWAYS.has(name)) names.push(name);
    }
  }
  return names;
}

export interface BenchChart {
  id: string;
  label: string;
  input: Record<string, unknown>;
}

/** Typical charts of an agency's dashboards (the demo dashboards' kinds), every chart type. */
export const CHARTS: BenchChart[] = [
  {
    id: 'leads-this-month',
    label: 'leads created this month',
    input: { name: 'Leads this month', type: 'BIG_NUMBER', dataset: 'leads', metrics: [{ aggregate: 'COUNT' }], timeRange: { relative: 'THIS_MONTH' } },
  },
  {
    id: 'orders-this-month',
    label: 'orders this month',
    input: { name: 'Orders this month', type: 'BIG_NUMBER', dataset: 'orders', metrics: [{ aggregate: 'COUNT' }], timeRange: { relative: 'THIS_MONTH' } },
  },
  {
    id: 'leads-per-month',
    label: 'leads per month and average score, last 365 days',
    input: { name: 'Leads per month', type: 'LINE', dataset: 'leads', timeGrain: 'MONTH', metrics: [{ aggregate: 'COUNT' }, { aggregate: 'AVG', column: 'score' }], timeRange: { relative: 'LAST_365_DAYS' } },
  },
  {
    id: 'orders-per-day',
    label: 'orders per day, last 30 days',
    input: { name: 'Orders per day', type: 'LINE', dataset: 'orders', timeGrain: 'DAY', metrics: [{ aggregate: 'COUNT' }], timeRange: { relative: 'LAST_30_DAYS' } },
  },
  {
    id: 'leads-by-source-week',
    label: 'leads by source per week, last 90 days',
    input: { name: 'Leads by source', type: 'BAR', dataset: 'leads', timeGrain: 'WEEK', dimensions: ['source'], metrics: [{ aggregate: 'COUNT' }], timeRange: { relative: 'LAST_90_DAYS' } },
  },
  {
    id: 'top-products-90d',
    label: 'top 10 products by revenue, last 90 days',
    input: {
      name: 'Top products',
      type: 'BAR',
      dataset: 'order_lines',
      dimensions: ['product_name'],
      metrics: [{ aggregate: 'SUM', column: 'total_gross', label: 'revenue' }],
      timeRange: { relative: 'LAST_90_DAYS' },
      sort: [{ by: 'revenue', descending: true }],
      rowLimit: 10,
    },
  },
  {
    id: 'top-products-all',
    label: 'top 10 products by revenue, all time',
    input: { name: 'Top products ever', type: 'BAR', dataset: 'order_lines', dimensions: ['product_name'], metrics: [{ aggregate: 'SUM', column: 'total_gross', label: 'revenue' }], sort: [{ by: 'revenue', descending: true }], rowLimit: 10 },
  },
  {
    id: 'paid-revenue-month',
    label: 'paid revenue per month, last 365 days',
    input: {
      name: 'Paid revenue',
      type: 'AREA',
      dataset: 'orders',
      timeGrain: 'MONTH',
      metrics: [{ aggregate: 'SUM', column: 'total_gross', label: 'revenue' }],
      timeRange: { relative: 'LAST_365_DAYS' },
      filters: [{ column: 'paid', operator: 'EQ', values: [true] }],
    },
  },
  {
    id: 'leads-by-status',
    label: 'leads by status, all time',
    input: { name: 'Leads by status', type: 'PIE', dataset: 'leads', dimensions: ['status'], metrics: [{ aggregate: 'COUNT' }] },
  },
  {
    id: 'orders-by-channel-90d',
    label: 'revenue by channel, last 90 days',
    input: { name: 'Revenue by channel', type: 'PIE', dataset: 'orders', dimensions: ['channel'], metrics: [{ aggregate: 'SUM', column: 'total_gross', label: 'revenue' }], timeRange: { relative: 'LAST_90_DAYS' } },
  },
  {
    id: 'orders-by-status-table',
    label: 'orders by status and paid: count, revenue, average, last 365 days',
    input: {
      name: 'Orders by status',
      type: 'TABLE',
      dataset: 'orders',
      dimensions: ['status', 'paid'],
      metrics: [{ aggregate: 'COUNT' }, { aggregate: 'SUM', column: 'total_gross', label: 'revenue' }, { aggregate: 'AVG', column: 'total_gross', label: 'average' }],
      timeRange: { relative: 'LAST_365_DAYS' },
    },
  },
  {
    id: 'leads-by-owner-table',
    label: 'qualified leads by owner and source, last 30 days',
    input: {
      name: 'Qualified leads by owner',
      type: 'TABLE',
      dataset: 'leads',
      dimensions: ['owner_id', 'source'],
      metrics: [{ aggregate: 'COUNT' }, { aggregate: 'AVG', column: 'score' }],
      timeRange: { relative: 'LAST_30_DAYS' },
      filters: [{ column: 'status', operator: 'IN', values: ['qualified', 'converted'] }],
    },
  },
];

const FLOOR = JSON.stringify({ query: 'query Floor { biDataset(name: "leads") { name } }' });

/**
 * One POST as a frontend's HTTP client sends it (keep-alive), timed by the caller. undici's
 * `request` on a keep-alive agent, as autocannon in the other scenarios: the WHATWG `fetch` of
 * the bench process itself (web streams, Request/Response objects) would add its own
 * milliseconds to every sample on this host.
 */
const client = new Agent({ keepAliveTimeout: 60_000, connections: 4 });
async function post(url: string, token: string, body: string): Promise<{ status: number; text: string }> {
  const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body, dispatcher: client });
  return { status: response.statusCode, text: await response.body.text() };
}

const PREVIEW = `query ChartBench($input: ChartInput!) { chartPreview(input: $input) { errors { field message } data { rowCount truncated rows } } }`;

export interface ScenarioEOptions {
  rows: number;
  rounds: number;
  coldSamples: number;
  warmSamples: number;
  /** Indexes (schema.name) dropped for the "without" measurements; empty: none. */
  ablate: string[];
  redisUrl: string;
  /** Processes run under `node --cpu-prof` (`gateway`, `bi`, ...): their profiles over the rounds are printed at the end. */
  profile: string[];
  command: string;
  jsonFile: string | null;
  markdownFile: string | null;
}

interface PlanSummary {
  executionMs: number;
  planningMs: number;
  hit: number;
  read: number;
  /** Scan and join nodes, e.g. "Index Only Scan leads_facts_idx (heap 0)". */
  nodes: string[];
  rows: number;
}

interface ChartMeasurement {
  id: string;
  type: string;
  label: string;
  resultRows: number;
  cold: number[][];
  warm: number[][];
  /** Warm requests sent straight to the bi subgraph (no gateway hop), per round. */
  direct: number[][];
  plan: PlanSummary | null;
  without?: { cold: number[]; plan: PlanSummary | null };
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const targetScript = (name: string) => fileURLToPath(new URL(`../targets/${name}.ts`, import.meta.url));

function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  // Nearest rank: p99 of 60 samples is the 60th, i.e. the slowest; said so in the report.
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const ms = (x: number) => (!Number.isFinite(x) ? '-' : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : Math.round(x).toLocaleString('en-US'));
const count = (x: number) => x.toLocaleString('en-US');

// ---------------------------------------------------------------------------------------------
// Data.

interface DataInfo {
  loadSeconds: Record<string, number>;
  sizes: Record<string, string>;
  counts: Record<string, number>;
  indexes: Record<string, string>;
  /** What the load left to write, and how long writing it took (settleWrites). */
  settle: { dirtyMiB: number; seconds: number; checkpointed: boolean; synced: boolean };
}

/** The kernel's dirty and in-writeback page cache, MiB (0 where /proc/meminfo is missing). */
function dirtyMiB(): number {
  const meminfo = existsSync('/proc/meminfo') ? readFileSync('/proc/meminfo', 'utf8') : '';
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(meminfo)?.[1] ?? 0);
  return Math.round((kib('Dirty') + kib('Writeback')) / 1024);
}

/** What settleWrites did, for the log and the report. */
const settledBy = (settle: DataInfo['settle']) =>
  [settle.checkpointed ? 'CHECKPOINT' : 'no CHECKPOINT', settle.synced ? '`sync`' : 'no `sync`'].join(' and ');

/**
 * A million rows and the VACUUM after them leave gigabytes to write: PostgreSQL's dirty buffers
 * and the kernel's dirty page cache, flushed over the next minutes by the checkpointer and the
 * kernel's writeback threads, on the cores the rounds measure (a run before this step: warm p99
 * up to 18.7 ms at 1M rows against 8 ms at 20k). A database at rest has written them: CHECKPOINT
 * (as the admin URL's superuser; skipped, and said, where it is not one), then `sync`, before any
 * round. (`sync` flushes this host's disks: a PostgreSQL elsewhere settles by its CHECKPOINT alone.)
 */
async function settleWrites(): Promise<DataInfo['settle']> {
  const t0 = Date.now();
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  let checkpointed = false;
  try {
    await admin.connect();
    await admin.query('CHECKPOINT');
    checkpointed = true;
  } catch (error) {
    log(`CHECKPOINT skipped: ${(error as Error).message}`);
  } finally {
    await admin.end().catch(() => undefined);
  }
  // After CHECKPOINT (PostgreSQL's buffers now in the kernel's cache), before sync writes them.
  const dirty = dirtyMiB();
  let synced = false;
  try {
    execFileSync('sync');
    synced = true;
  } catch (error) {
    log(`sync skipped: ${(error as Error).message}`);
  }
  return { dirtyMiB: dirty, seconds: (Date.now() - t0) / 1000, checkpointed, synced };
}

/**
 * Leads, orders and lines for one tenant, set-based, in one transaction of the app role in that
 * tenant (as the kit's withTenant): the owner role may only read crm.leads (owner_access SELECT),
 * and row-level security checks every row written against the tenant.
 */
async function loadFacts(appUrl: string, tenantId: string, channel: string, rows: number, seed: number, members: string[]): Promise<void> {
  const owner = new pg.Client({ connectionString: appUrl });
  await owner.connect();
  try {
    await owner.query('BEGIN');
    await owner.query(`SELECT set_config('app.tenant_id', $1, true), setseed($2)`, [tenantId, seed]);
    await insertFacts(owner, tenantId, channel, rows, members);
    await owner.query('COMMIT');
  } finally {
    await owner.end();
  }
}

async function insertFacts(owner: pg.Client, tenantId: string, channel: string, rows: number, members: string[]): Promise<void> {
  await insertLeads(owner, tenantId, rows, members);
  await insertOrders(owner, tenantId, channel, rows);
}

/** `rows` leads in the transaction's tenant (app.tenant_id set, setseed called). */
export async function insertLeads(owner: pg.Client, tenantId: string, rows: number, members: string[]): Promise<void> {
  // created_at: up to 1095 days back, growing: twice as many rows a day as a year earlier
  // (exponential, inverse-transform sampled: 1 - 2^-3 = 0.875 of the mass in three years), so
  // the last 365 days hold 57% of the rows, the last 90 days 18%.
  await owner.query(
    `INSERT INTO crm.leads (tenant_id, name, email, company, source, status, score, owner_id, converted_at, created_at, updated_at, last_activity_at)
     SELECT $1::uuid, 'Lead ' || g, 'lead' || g || '@example.com', 'Company ' || (g % 5000),
       CASE WHEN r1 < 0.35 THEN 'web' WHEN r1 < 0.55 THEN 'ads' WHEN r1 < 0.70 THEN 'referral' WHEN r1 < 0.82 THEN 'social'
            WHEN r1 < 0.90 THEN 'event' WHEN r1 < 0.96 THEN 'email' WHEN r1 < 0.99 THEN 'partner' ELSE NULL END,
       st, least(100, floor(power(r3, 0.8) * 101))::smallint,
       CASE WHEN r4 < 0.15 THEN NULL ELSE ($3::uuid[])[1 + (g % greatest(1, cardinality($3::uuid[])))] END,
       CASE WHEN st = 'converted' THEN created + interval '1 day' * (1 + floor(r4 * 60)) END,
       created, created + interval '1 hour' * floor(r4 * 2000), CASE WHEN r2 < 0.7 THEN created + interval '1 hour' * floor(r2 * 900) END
     FROM (SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4,
             now() - interval '1 day' * (-ln(1 - random() * 0.875) / ln(2) * 365) AS created
           FROM generate_series(1, $2::int) g) s
     CROSS JOIN LATERAL (SELECT CASE WHEN r2 < 0.30 THEN 'new' WHEN r2 < 0.55 THEN 'contacted' WHEN r2 < 0.72 THEN 'qualified'
                                     WHEN r2 < 0.90 THEN 'unqualified' ELSE 'converted' END AS st) t`,
    [tenantId, rows, members],
  );
}

/** `rows` orders and their lines in the transaction's tenant. */
export async function insertOrders(owner: pg.Client, tenantId: string, channel: string, rows: number): Promise<void> {
  // Order totals: log-normal (Box-Muller), median about 40; the wholesale channel's 4x larger, in EUR.
  await owner.query(
    `INSERT INTO bi.orders (tenant_id, order_id, number, channel, status, paid, total_gross, total_net, currency, created_at, updated_at)
     SELECT $1::uuid, 'T3JkZXI6bench-' || md5($3 || g), (1000000 + g)::text, ch, st,
       st NOT IN ('CANCELED', 'UNCONFIRMED') AND (st <> 'UNFULFILLED' OR r3 < 0.6),
       gross, round(gross / 1.2, 2), CASE WHEN wholesale THEN 'EUR' ELSE 'USD' END, created, created + interval '1 hour' * floor(r3 * 72)
     FROM (SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS u1, random() AS u2,
             now() - interval '1 day' * (-ln(1 - random() * 0.875) / ln(2) * 365) AS created
           FROM generate_series(1, $2::int) g) s
     CROSS JOIN LATERAL (SELECT r1 >= 0.85 AS wholesale, CASE WHEN r1 < 0.85 THEN $3 ELSE $3 || '-wholesale' END AS ch,
                                CASE WHEN r2 < 0.70 THEN 'FULFILLED' WHEN r2 < 0.80 THEN 'UNFULFILLED' WHEN r2 < 0.83 THEN 'PARTIALLY_FULFILLED'
                                     WHEN r2 < 0.91 THEN 'CANCELED' WHEN r2 < 0.93 THEN 'UNCONFIRMED' ELSE 'RETURNED' END AS st) c
     CROSS JOIN LATERAL (SELECT least(999999, round((exp(3.7 + 0.8 * sqrt(-2 * ln(greatest(u1, 1e-12))) * cos(2 * pi() * u2)) * CASE WHEN wholesale THEN 4 ELSE 1 END)::numeric, 2)) AS gross) x`,
    [tenantId, rows, channel],
  );
  // 1-5 lines per order (1.9 on average), 200 products, the first few sold far more often.
  await owner.query(
    `INSERT INTO bi.order_lines (tenant_id, order_id, line_id, product_id, product_name, variant_id, sku, quantity, unit_price_gross, total_gross, currency, created_at)
     SELECT o.tenant_id, o.order_id, 'T3JkZXJMaW5lOg' || o.number || '-' || k, 'UHJvZHVjdDo' || p, 'Product ' || lpad(p::text, 3, '0'),
       'UHJvZHVjdFZhcmlhbnQ6' || p, 'SKU-' || p, q, price, price * q, o.currency, o.created_at
     FROM bi.orders o
     CROSS JOIN LATERAL generate_series(1, 1 + floor(power(random(), 2) * 4)::int + 0 * length(o.order_id)) k
     CROSS JOIN LATERAL (SELECT floor(200 * power(random(), 2.5))::int + 0 * k AS p, 1 + floor(power(random(), 4) * 5)::int + 0 * k AS q) pq
     CROSS JOIN LATERAL (SELECT round((4.99 + (p * 7919 % 190))::numeric, 2) AS price) pr
     WHERE o.tenant_id = $1::uuid AND o.order_id LIKE 'T3JkZXI6bench-%'`,
    [tenantId],
  );
}

// ---------------------------------------------------------------------------------------------
// What a write pays for the daily rollups.

const ROLLUP_TRIGGERS: Record<string, string[]> = {
  'crm.leads': ['leads_daily_insert', 'leads_daily_update', 'leads_daily_delete'],
  'bi.orders': ['orders_rollup_insert', 'orders_rollup_update', 'orders_rollup_delete'],
  'bi.order_lines': ['order_lines_rollup_insert', 'order_lines_rollup_update', 'order_lines_rollup_delete'],
};

/**
 * Writes as the app role in the tenant's transaction, one transaction each, timed (p50 of 20):
 * a lead created today, an order of today whose status changes (and back), an order with two
 * lines written today (what a webhook stores); with the rollup triggers enabled and disabled
 * (the owner's ALTER TABLE), alternating blocks. The rows written are deleted after (triggers on,
 * so the rollups end where they began).
 */
async function measureRollupWrites(appUrl: string, owner: pg.Client, tenantId: string, channel: string): Promise<string[]> {
  const app = new pg.Client({ connectionString: appUrl });
  await app.connect();
  const setTriggers = async (on: boolean) => {
    for (const [table, triggers] of Object.entries(ROLLUP_TRIGGERS))
      for (const trigger of triggers) await owner.query(`ALTER TABLE ${table} ${on ? 'ENABLE' : 'DISABLE'} TRIGGER ${trigger}`);
  };
  const inTenant = async (work: () => Promise<unknown>) => {
    const t = performance.now();
    await app.query('BEGIN');
    await app.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
    await work();
    await app.query('COMMIT');
    return performance.now() - t;
  };
  const { rows } = await owner.query<{ order_id: string }>(`SELECT order_id FROM bi.orders WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT 1`, [tenantId]);
  const orderId = rows[0]!.order_id;
  const writes: Record<string, (i: string) => Promise<unknown>> = {
    'a lead created': (i) => app.query(`INSERT INTO crm.leads (tenant_id, name, source, status, score) VALUES ($1, $2, 'web', 'new', 10)`, [tenantId, `rollup-write ${i}`]),
    'an order status changed': () =>
      app.query(`UPDATE bi.orders SET status = CASE status WHEN 'FULFILLED' THEN 'RETURNED' WHEN 'RETURNED' THEN 'FULFILLED' ELSE status END WHERE tenant_id = $1 AND order_id = $2`, [tenantId, orderId]),
    'an order with 2 lines written': async (i) => {
      await app.query(
        `INSERT INTO bi.orders (tenant_id, order_id, number, channel, status, paid, total_gross, total_net, currency, created_at, updated_at)
         VALUES ($1, $2, $2, $3, 'UNFULFILLED', true, 20, 16.67, 'USD', now(), now())`,
        [tenantId, `rollup-write-${i}`, channel],
      );
      await app.query(
        `INSERT INTO bi.order_lines (tenant_id, order_id, line_id, product_id, product_name, quantity, unit_price_gross, total_gross, currency, created_at)
         SELECT $1, $2, $2 || '-' || k, 'UHJvZHVjdDox', 'Product 001', 1, 10, 10, 'USD', now() FROM generate_series(1, 2) k`,
        [tenantId, `rollup-write-${i}`],
      );
    },
  };
  const times: Record<string, { on: number[]; off: number[] }> = Object.fromEntries(Object.keys(writes).map((k) => [k, { on: [], off: [] }]));
  let n = 0;
  try {
    for (const on of [true, false, true, false]) {
      await setTriggers(on);
      for (const [name, write] of Object.entries(writes)) for (let i = 0; i < 10; i++) times[name]![on ? 'on' : 'off'].push(await inTenant(() => write(String(n++))));
    }
  } finally {
    await setTriggers(true);
    await inTenant(async () => {
      await app.query(`DELETE FROM crm.leads WHERE tenant_id = $1 AND name LIKE 'rollup-write %'`, [tenantId]);
      await app.query(`DELETE FROM bi.orders WHERE tenant_id = $1 AND order_id LIKE 'rollup-write-%'`, [tenantId]);
    });
    await app.end();
  }
  return Object.entries(times).map(
    ([name, { on, off }]) => `rollup write cost, ${name}: p50 ${ms(percentile(on, 50))} ms with the rollup triggers, ${ms(percentile(off, 50))} ms without (${on.length} each)`,
  );
}

// ---------------------------------------------------------------------------------------------
// EXPLAIN.

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Heap Fetches'?: number;
  'Workers Launched'?: number;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

function summarisePlan(json: { Plan: PlanNode; 'Execution Time': number; 'Planning Time': number }): PlanSummary {
  const nodes: string[] = [];
  const walk = (node: PlanNode) => {
    const type = node['Node Type'];
    if (/Scan|Join|Nested Loop|Gather/.test(type) && type !== 'Result') {
      const on = node['Index Name'] ?? node['Relation Name'];
      const rows = (node['Actual Rows'] ?? 0) * (node['Actual Loops'] ?? 1);
      const extra = [
        type.includes('Gather') ? `${node['Workers Launched'] ?? 0} workers` : null,
        type === 'Index Only Scan' ? `heap fetches ${count(node['Heap Fetches'] ?? 0)}` : null,
        /Scan/.test(type) ? `${count(Math.round(rows))} rows` : null,
      ].filter(Boolean);
      // The tenant's setting read once per statement (kit.tenant_table) is an InitPlan "Result": left out.
      nodes.push(`${type}${on ? ` ${on}` : ''}${extra.length ? ` (${extra.join(', ')})` : ''}`);
    }
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(json.Plan);
  return {
    executionMs: json['Execution Time'],
    planningMs: json['Planning Time'],
    hit: json.Plan['Shared Hit Blocks'] ?? 0,
    read: json.Plan['Shared Read Blocks'] ?? 0,
    nodes,
    rows: json.Plan['Actual Rows'] ?? 0,
  };
}

/** The engine's statement for a chart, EXPLAINed as the app role in the tenant (RLS applies): median of 3 executions. */
async function explainChart(appUrl: string, tenantId: string, chart: BenchChart, textPlans: string[]): Promise<PlanSummary> {
  const validated = validateChart(chart.input);
  if ('errors' in validated) throw new Error(`${chart.id}: ${JSON.stringify(validated.errors)}`);
  const { definition } = validated;
  const query = buildChartQuery(datasetByName(definition.dataset)!, definition, resolveRange(definition.timeRange, new Date()));
  const client = new pg.Client({ connectionString: appUrl });
  await client.connect();
  try {
    const runs: PlanSummary[] = [];
    for (let i = 0; i < 3; i++) {
      await client.query('BEGIN');
      // As chartData runs it (kit withTenant, then the engine's SET LOCALs).
      await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
      await client.query('SET LOCAL plan_cache_mode = force_custom_plan');
      const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode; 'Execution Time': number; 'Planning Time': number }] }>(
        `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${query.text}`,
        query.values,
      );
      runs.push(summarisePlan(rows[0]!['QUERY PLAN'][0]));
      if (i === 2) {
        const text = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${query.text}`, query.values);
        textPlans.push(`-- ${chart.id}: ${chart.label}\n-- ${query.text}\n-- ${JSON.stringify(query.values)}\n${text.rows.map((r) => r['QUERY PLAN']).join('\n')}\n`);
      }
      await client.query('ROLLBACK');
    }
    const sorted = [...runs].sort((a, b) => a.executionMs - b.executionMs);
    return sorted[1]!;
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// The runner.

export async function runScenarioE(options: ScenarioEOptions): Promise<number> {
  const started = Date.now();
  const loadBefore = loadAverage();
  const loadDuring: number[] = [];
  const prefix = `bench-e-${process.pid}-${Date.now().toString(36)}:`;
  const keys = await createTestKeys();
  const { subgraphNames } = await import('../../../subgraphs/kit/registry.ts');
  const names = subgraphNames();
  const ports = await freePorts(names.length + 1);
  const subgraphPorts = Object.fromEntries(names.map((n, i) => [n, ports[i]!]));
  const gatewayPort = ports[names.length]!;
  const base = `http://127.0.0.1:${gatewayPort}`;
  const db = await createPostgresDatabase(ADMIN_URL, 'bizosaas_bench_e');
  const workDir = mkdtempSync(join(tmpdir(), 'bizosaas-bench-e-'));
  log(`scenario E: database ${db.name}, redis prefix ${prefix}, ${count(options.rows)} rows, work dir ${workDir}`);
  const profileDir = (name: string) => join(workDir, 'profiles', name);
  const profileFlags = (name: string) => (options.profile.includes(name) ? ['--cpu-prof', '--cpu-prof-dir', profileDir(name)] : []);
  const common = { NODE_ENV: 'production', LOG_LEVEL: 'warn', REDIS_URL: options.redisUrl, REDIS_PREFIX: prefix, RATE_LIMIT_PER_MINUTE_IP: UNTHROTTLED, RATE_LIMIT_PER_MINUTE_TENANT: UNTHROTTLED };
  const subgraphEnv = {
    ...common,
    DATABASE_URL: db.appUrl,
    DATABASE_OWNER_URL: db.ownerUrl,
    AUTH_PRIVATE_JWK: JSON.stringify(keys.privateJwk),
    AUTH_JWKS_URL: `http://127.0.0.1:${subgraphPorts.auth}/.well-known/jwks.json`,
    DEMO_DATA: 'true',
    LOGIN_MAX_ATTEMPTS_PER_IP: UNTHROTTLED,
    LOGIN_MAX_FAILURES_PER_ACCOUNT: UNTHROTTLED,
    CACHE_TTL_SECONDS: '60',
    // Required in production (subgraphs/bi/share/settings.ts); no share link is used here.
    // Auth and agents share it in production (agents' runs act through auth's /internal/delegate).
    AUTH_DELEGATION_SECRET: DELEGATION_SECRET,
    BI_SHARE_LINK_SECRET: randomBytes(32).toString('base64url'),
  };
  const redis = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let subgraphs: Child[] = [];
  let gateway: Child | null = null;
  const owner = new pg.Client({ connectionString: db.ownerUrl });
  const measurements: ChartMeasurement[] = [];
  /** Per round: the floor under a warm chart (see floorRequest). */
  const floor: number[][] = [];
  /** Wall-clock span of the rounds: the profiles (--profile) keep only its samples. */
  const roundsWindow = { from: 0, to: 0 };
  /** When each process exited (its profile ends then). */
  const exited = new Map<string, number>();
  const textPlans: string[] = [];
  const dataInfo: DataInfo = { loadSeconds: {}, sizes: {}, counts: {}, indexes: {}, settle: { dirtyMiB: 0, seconds: 0, checkpointed: false, synced: false } };
  let exitCode = 0;

  try {
    await redis.connect();
    // Migrations and the demo data (tenants acme and globex, their members, demo dashboards).
    const prepare = spawnNode({ name: 'prepare', script: targetScript('supergraph-subgraphs'), args: ['--prepare'], env: subgraphEnv, cpu: null });
    const code = await new Promise<number | null>((resolve) => prepare.process.once('exit', resolve));
    if (code !== 0) throw new Error(`migrating and seeding failed (${code}):\n${prepare.tail()}`);

    await owner.connect();
    const tenants = Object.fromEntries(
      (await owner.query<{ slug: string; id: string; saleor_channel: string }>(`SELECT slug, id, saleor_channel FROM auth.tenants WHERE slug = ANY($1)`, [[ACME, GLOBEX]])).rows.map((r) => [r.slug, r]),
    );
    if (!tenants[ACME] || !tenants[GLOBEX]) throw new Error('the demo tenants acme and globex are missing');
    const membersOf = async (tenantId: string) =>
      (await owner.query<{ account_id: string }>('SELECT account_id FROM auth.memberships WHERE tenant_id = $1 ORDER BY account_id', [tenantId])).rows.map((r) => r.account_id);
    for (const [slug, rows, seed] of [[ACME, options.rows, 0.16], [GLOBEX, Math.max(1, Math.round(options.rows / 50)), 0.61]] as const) {
      const t0 = Date.now();
      await loadFacts(db.appUrl, tenants[slug]!.id, tenants[slug]!.saleor_channel, rows, seed, await membersOf(tenants[slug]!.id));
      dataInfo.loadSeconds[slug] = (Date.now() - t0) / 1000;
      log(`loaded ${count(rows)} leads and orders (with lines) into ${slug} in ${dataInfo.loadSeconds[slug]!.toFixed(1)} s`);
    }
    let t0 = Date.now();
    await owner.query('VACUUM (ANALYZE) crm.leads, bi.orders, bi.order_lines, crm.leads_daily, bi.orders_daily, bi.order_lines_daily');
    dataInfo.loadSeconds.vacuum = (Date.now() - t0) / 1000;
    dataInfo.settle = await settleWrites();
    log(`settled (${settledBy(dataInfo.settle)}): ${dataInfo.settle.dirtyMiB} MiB dirty pages written in ${dataInfo.settle.seconds.toFixed(1)} s`);
    for (const table of ['crm.leads', 'bi.orders', 'bi.order_lines']) {
      const { rows } = await owner.query<{ n: string; size: string }>(
        `SELECT count(*) FILTER (WHERE tenant_id = $1) AS n, pg_size_pretty(pg_total_relation_size($2::regclass)) AS size FROM ${table}`,
        [tenants[ACME]!.id, table],
      );
      dataInfo.counts[table] = Number(rows[0]!.n);
      dataInfo.sizes[table] = rows[0]!.size;
    }
    for (const name of options.ablate) {
      const { rows } = await owner.query<{ size: string }>('SELECT pg_size_pretty(pg_relation_size($1::regclass)) AS size', [name]).catch(() => ({ rows: [{ size: 'missing' }] }));
      dataInfo.indexes[name] = rows[0]!.size;
    }
    log(`acme: ${Object.entries(dataInfo.counts).map(([t, n]) => `${t} ${count(n)} rows`).join(', ')}; sizes ${JSON.stringify(dataInfo.sizes)}; vacuum analyze ${dataInfo.loadSeconds.vacuum!.toFixed(1)} s`);

    // One process per subgraph, as scenario B (and docker/compose.yaml) runs them; the gateway.
    const readyFiles = names.map((name) => {
      const readyFile = join(workDir, `ready-${name}.json`);
      const child = spawnNode({ name, script: targetScript('supergraph-subgraphs'), args: ['--ports', JSON.stringify(subgraphPorts), '--only', name, '--ready-file', readyFile], env: subgraphEnv, cpu: null, nodeFlags: profileFlags(name) });
      subgraphs.push(child);
      return { child, readyFile };
    });
    const urls: Record<string, string> = {};
    for (const { child, readyFile } of readyFiles) {
      await waitUntil(child, async () => existsSync(readyFile), 180_000);
      Object.assign(urls, JSON.parse(readFileSync(readyFile, 'utf8')) as Record<string, string>);
    }
    gateway = spawnNode({
      name: 'gateway',
      script: targetScript('supergraph-gateway'),
      args: ['--port', String(gatewayPort), '--subgraphs', JSON.stringify(urls)],
      env: { ...common, CACHE_TTL_SECONDS: '0' },
      cpu: null,
      nodeFlags: [...productionNodeFlags(), ...profileFlags('gateway')],
    });
    let token = '';
    await waitUntil(
      gateway,
      async () => {
        const response = await fetch(`${base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: 'mutation Login($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken } }', variables: { email: DEMO_EMAIL, password: DEMO_PASSWORD } }),
        });
        token = ((await response.json()) as { data?: { login?: { accessToken?: string } } }).data?.login?.accessToken ?? '';
        return token.length > 20;
      },
      120_000,
    );
    log(`gateway up (pid ${gateway.pid}), logged in as ${DEMO_EMAIL}`);

    const generation = tenantKey(prefix, tenants[ACME]!.id, 'gen', 'bi');
    const expected = new Map<string, string>();
    /** One chartPreview; throws on anything but a 200 with data, no errors, the same rows as the first answer. */
    const chartRequest = async (chart: BenchChart, cold: boolean, url = `${base}/graphql`): Promise<number> => {
      if (cold) await redis.incr(generation);
      const body = JSON.stringify({ query: PREVIEW, variables: { input: chart.input } });
      const t = performance.now();
      const response = await post(url, token, body);
      const elapsed = performance.now() - t;
      const text = response.text;
      const json = JSON.parse(text) as { data?: { chartPreview?: { errors: unknown[]; data: { rowCount: number; rows: unknown[][] } | null } }; errors?: unknown };
      const preview = json.data?.chartPreview;
      if (response.status !== 200 || json.errors || !preview || preview.errors.length || !preview.data || preview.data.rowCount < 1)
        throw new Error(`${chart.id}: ${response.status} ${text.slice(0, 500)}`);
      const rows = JSON.stringify(preview.data.rows);
      const first = expected.get(chart.id);
      if (first === undefined) expected.set(chart.id, rows);
      // Relative ranges are whole days: the same rows all run long unless the run crosses midnight UTC.
      else if (first !== rows && new Date().getUTCHours() !== 0) throw new Error(`${chart.id}: rows changed between requests: first ${first.slice(0, 600)}, now ${rows.slice(0, 600)}`);
      return elapsed;
    };
    /**
     * The floor under every warm chart: the cheapest bi round trip through the gateway
     * (`biDataset`, answered from code: no PostgreSQL; the kit's response cache makes its one
     * Redis read, as a warm chart's cache does), checked like a chart.
     */
    const floorRequest = async (): Promise<number> => {
      const t = performance.now();
      const response = await post(`${base}/graphql`, token, FLOOR);
      const elapsed = performance.now() - t;
      const text = response.text;
      if (response.status !== 200 || !text.includes('"name":"leads"') || text.includes('"errors"')) throw new Error(`floor: ${response.status} ${text.slice(0, 500)}`);
      return elapsed;
    };

    // Steady state first (compiled code, filled pools), not counted.
    for (const chart of CHARTS) {
      for (let i = 0; i < 2; i++) await chartRequest(chart, true);
      for (let i = 0; i < 5; i++) await chartRequest(chart, false);
    }
    for (const chart of CHARTS) {
      const rows = (JSON.parse(expected.get(chart.id)!) as unknown[]).length;
      measurements.push({ id: chart.id, type: String(chart.input.type), label: chart.label, resultRows: rows, cold: [], warm: [], direct: [], plan: null });
    }
    log(`warmed up; ${CHARTS.length} charts, ${options.rounds} rounds of ${options.coldSamples} cold and ${options.warmSamples} warm requests each`);

    roundsWindow.from = Date.now();
    for (let round = 0; round < options.rounds; round++) {
      // Charts interleaved, their order rotated each round: the host's noise spreads over all.
      const shift = round % CHARTS.length;
      const order = [...CHARTS.slice(shift), ...CHARTS.slice(0, shift)];
      for (const chart of order) {
        const m = measurements.find((x) => x.id === chart.id)!;
        const cold: number[] = [];
        for (let i = 0; i < options.coldSamples; i++) cold.push(await chartRequest(chart, true));
        const warm: number[] = [];
        await chartRequest(chart, false); // the last cold one was cached: this is a hit too, not counted
        for (let i = 0; i < options.warmSamples; i++) warm.push(await chartRequest(chart, false));
        const direct: number[] = [];
        for (let i = 0; i < options.warmSamples; i++) direct.push(await chartRequest(chart, false, urls.bi));
        m.cold.push(cold);
        m.warm.push(warm);
        m.direct.push(direct);
        log(`round ${round + 1}/${options.rounds} ${chart.id}: cold p50 ${ms(percentile(cold, 50))} max ${ms(Math.max(...cold))} ms; warm p50 ${ms(percentile(warm, 50))} p99 ${ms(percentile(warm, 99))} ms; straight to bi p50 ${ms(percentile(direct, 50))} p99 ${ms(percentile(direct, 99))} ms`);
      }
      const floorRound: number[] = [];
      for (let i = 0; i < options.warmSamples * 2; i++) floorRound.push(await floorRequest());
      floor.push(floorRound);
      log(`round ${round + 1}/${options.rounds} floor (biDataset through the gateway): p50 ${ms(percentile(floorRound, 50))} p99 ${ms(percentile(floorRound, 99))} ms`);
      loadDuring.push(loadAverage()[0]!);
    }
    roundsWindow.to = Date.now();

    for (const m of measurements) m.plan = await explainChart(db.appUrl, tenants[ACME]!.id, CHARTS.find((c) => c.id === m.id)!, textPlans);
    log('explained every chart');

    // What the rollups' triggers cost a write, on this tenant's busiest day, with every index in
    // place (before the ablation below drops the chart indexes). Its rows are gone after it.
    for (const line of await measureRollupWrites(db.appUrl, owner, tenants[ACME]!.id, tenants[ACME]!.saleor_channel)) log(line);

    if (options.ablate.length) {
      t0 = Date.now();
      for (const name of options.ablate) await owner.query(`DROP INDEX IF EXISTS ${name}`);
      log(`dropped ${options.ablate.join(', ')} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      textPlans.push(`-- ===== without ${options.ablate.join(', ')} =====\n`);
      for (const chart of CHARTS) {
        const m = measurements.find((x) => x.id === chart.id)!;
        await chartRequest(chart, true);
        const cold: number[] = [];
        for (let i = 0; i < options.coldSamples; i++) cold.push(await chartRequest(chart, true));
        m.without = { cold, plan: await explainChart(db.appUrl, tenants[ACME]!.id, chart, textPlans) };
        log(`without indexes ${chart.id}: cold p50 ${ms(percentile(cold, 50))} ms (with: ${ms(percentile(m.cold.flat(), 50))}), execution ${ms(m.without.plan!.executionMs)} ms (with: ${ms(m.plan!.executionMs)})`);
      }
      loadDuring.push(loadAverage()[0]!);
    }
  } catch (error) {
    exitCode = 1;
    log(`scenario E failed: ${(error as Error).stack ?? error}`);
    for (const child of [...subgraphs, ...(gateway ? [gateway] : [])]) if (child.process.exitCode !== null) log(`${child.name} exited:\n${child.tail()}`);
  } finally {
    for (const child of [...(gateway ? [gateway] : []), ...subgraphs]) {
      // (When it exits, not when stop() returns: a profile ends then.)
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.once('exit', () => exited.set(child.name, Date.now()));
      await child.stop();
    }
    subgraphs = [];
    await owner.end().catch(() => undefined);
    redis.disconnect();
    const deleted = await deleteRedisKeys(options.redisUrl, prefix).catch(() => -1);
    await db.drop();
    log(`dropped database ${db.name}; deleted ${deleted} Redis keys under ${prefix}`);
  }

  for (const name of options.profile) {
    const file = findProfile(profileDir(name));
    if (file && roundsWindow.to) process.stdout.write(`\n${renderProfile(name, summariseProfile(file, { windows: [roundsWindow], endedAtMs: exited.get(name) ?? Date.now() }))}\n`);
    else log(`no profile of ${name} (${file ? 'the rounds did not finish' : 'not a process of this scenario, or it did not exit cleanly'})`);
  }
  const plansFile = join(workDir, 'plans.txt');
  writeFileSync(plansFile, textPlans.join('\n'));
  log(`EXPLAIN (ANALYZE, BUFFERS) text of every chart: ${plansFile}`);
  if (exitCode || !measurements.length || measurements.some((m) => !m.cold.length)) return 1;

  const info = {
    date: new Date(started).toISOString(),
    command: options.command,
    machine: machineInfo(),
    git: gitRevision(),
    loadAverage: { before: loadBefore, during: loadDuring, after: loadAverage() },
    durationSeconds: Math.round((Date.now() - started) / 1000),
  };
  const text = renderE(measurements, floor, info, options, dataInfo);
  process.stdout.write(`\n## ${SCENARIO_E_TITLE}\n\n${text}\n`);
  if (options.jsonFile) {
    const file = options.jsonFile;
    const existing = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { generatedBy?: string; scenarios?: Record<string, unknown> }) : {};
    // Percentiles, not every sample: the file is committed.
    const summary = (xs: number[]) => ({ n: xs.length, p50: percentile(xs, 50), p99: percentile(xs, 99), max: Math.max(...xs) });
    const charts = measurements.map((m) => ({
      id: m.id,
      type: m.type,
      label: m.label,
      resultRows: m.resultRows,
      cold: { ...summary(m.cold.flat()), p50PerRound: m.cold.map((r) => percentile(r, 50)) },
      warm: summary(m.warm.flat()),
      warmStraightToBi: summary(m.direct.flat()),
      plan: m.plan,
      ...(m.without ? { without: { cold: summary(m.without.cold), plan: m.without.plan } } : {}),
    }));
    const scenarios = { ...(existing.scenarios ?? {}), E: { title: SCENARIO_E_TITLE, run: { ...info, settings: { ...options, redisUrl: undefined, jsonFile: undefined, markdownFile: undefined } }, data: dataInfo, charts, floor: summary(floor.flat()) } };
    writeFileSync(file, `${JSON.stringify({ generatedBy: existing.generatedBy ?? 'npm run bench (test/bench/run.ts)', scenarios }, null, 2)}\n`);
  }
  if (options.markdownFile) updateMarkdown(options.markdownFile, { scenario: { id: 'E', title: SCENARIO_E_TITLE, baseline: 'ours' }, targets: [], subgraphChecks: [] }, text);
  return 0;
}

function renderE(
  measurements: ChartMeasurement[],
  floor: number[][],
  info: { date: string; command: string; machine: ReturnType<typeof machineInfo>; git: string; loadAverage: { before: number[]; during: number[]; after: number[] }; durationSeconds: number },
  options: ScenarioEOptions,
  data: DataInfo,
): string {
  const during = info.loadAverage.during;
  const coldN = options.rounds * options.coldSamples;
  const lines = [
    `${info.date.slice(0, 16).replace('T', ' ')} UTC, ${info.machine.cpus} vCPU ${info.machine.model}, ${info.machine.memoryGiB} GiB, Node ${info.machine.node.slice(1)}, git ${info.git}; ${Math.round(info.durationSeconds / 60)} min.${options.profile.length ? ` Under \`node --cpu-prof\` (a few % slower): ${options.profile.join(', ')}.` : ''}`,
    `Load average (1/5/15 min) before: ${info.loadAverage.before.join(' / ')}; 1-min during the rounds: ${during.length ? `${Math.min(...during)}-${Math.max(...during)}` : '-'}; after: ${info.loadAverage.after.join(' / ')}. ` +
      'Scenario B\'s setup (a process per subgraph, production settings, a fresh database with the demo data, real Redis).',
    `Data in acme, generated in SQL (seeded): ${count(data.counts['crm.leads'] ?? 0)} leads (${data.sizes['crm.leads']} with indexes), ${count(data.counts['bi.orders'] ?? 0)} orders (${data.sizes['bi.orders']}), ${count(data.counts['bi.order_lines'] ?? 0)} order lines (${data.sizes['bi.order_lines']}), created over 3 years with growth; globex a fiftieth of that. Load ${Math.round((data.loadSeconds.acme ?? 0) + (data.loadSeconds.globex ?? 0))} s, VACUUM ANALYZE ${Math.round(data.loadSeconds.vacuum ?? 0)} s; then ${settledBy(data.settle)} (${count(data.settle.dirtyMiB)} MiB dirty, ${Math.round(data.settle.seconds)} s).`,
    `Each chart through the gateway's \`chartPreview\` as owner@acme.example, one request at a time, ${options.rounds} rounds (charts interleaved, order rotated): cold = the tenant's bi cache generation bumped before each request (as an order fact write does), computed in PostgreSQL (its buffers warm), ${options.coldSamples} per round; warm = the same request again, from the engine's Redis cache, ${options.warmSamples} per round. Percentiles by nearest rank over all rounds: cold p99 of ${coldN} samples is ${coldN <= 100 ? 'the slowest one' : 'the 99th percentile'}. Issue 16 aims at p99 <= 250 ms cold and <= 10 ms warm.`,
    '',
    '```sh',
    info.command,
    '```',
    '',
    '| chart | type | cold p50 / p99 ms | warm p50 / p99 ms | scan in the plan (EXPLAIN ANALYZE) | buffers |',
    '|---|---|---|---|---|---|',
  ];
  // (One page: the plan's scan node only; the full plans are in the run's log.)
  const scan = (nodes: string[] | undefined) => (nodes ? (nodes.filter((n) => /Scan/.test(n)).at(-1) ?? nodes.at(-1) ?? '-') : '-');
  for (const m of measurements) {
    const cold = m.cold.flat();
    const warm = m.warm.flat();
    const p = m.plan;
    lines.push(
      `| ${m.label} | ${m.type} | ${ms(percentile(cold, 50))} / ${ms(percentile(cold, 99))} | ${ms(percentile(warm, 50))} / ${ms(percentile(warm, 99))} | ${scan(p?.nodes)} | ${p ? count(p.hit + p.read) : '-'} |`,
    );
  }
  const byType = new Map<string, ChartMeasurement[]>();
  for (const m of measurements) byType.set(m.type, [...(byType.get(m.type) ?? []), m]);
  lines.push(
    '',
    'Per chart type (all its charts\' samples); "straight to bi": the same warm requests sent to the bi subgraph itself, no gateway hop:',
    '',
    '| type | charts | cold p50 ms | cold p99 ms | warm p50 ms | warm p99 ms | straight to bi p50 / p99 ms |',
    '|---|---|---|---|---|---|---|',
  );
  for (const [type, group] of byType) {
    const cold = group.flatMap((m) => m.cold.flat());
    const warm = group.flatMap((m) => m.warm.flat());
    const direct = group.flatMap((m) => m.direct.flat());
    lines.push(`| ${type} | ${group.length} | ${ms(percentile(cold, 50))} | ${ms(percentile(cold, 99))} | ${ms(percentile(warm, 50))} | ${ms(percentile(warm, 99))} | ${ms(percentile(direct, 50))} / ${ms(percentile(direct, 99))} |`);
  }
  const floorAll = floor.flat();
  lines.push(
    '',
    `The floor under a warm chart, same run: the cheapest bi round trip through the gateway (\`biDataset(name) { name }\`, answered from code and bi's response cache: no PostgreSQL, one Redis read), ${floorAll.length} requests: p50 ${ms(percentile(floorAll, 50))} ms, p99 ${ms(percentile(floorAll, 99))} ms.`,
  );
  // Only the charts whose plan changed without the indexes (the others read the same way).
  const ablated = measurements.filter((m) => m.without && scan(m.without.plan?.nodes) !== scan(m.plan?.nodes));
  if (ablated.length) {
    lines.push(
      '',
      `Without the chart indexes (${Object.entries(data.indexes).map(([n, s]) => `\`${n}\` ${s}`).join(', ')}), dropped after the rounds, same data, same run: cold requests (${options.coldSamples} each) and EXPLAIN again, for the charts whose plan changed.`,
      '',
      '| chart | cold p50 ms with / without | buffers with / without | scan without |',
      '|---|---|---|---|',
    );
    for (const m of ablated) {
      const w = m.without!;
      lines.push(
        `| ${m.label} | ${ms(percentile(m.cold.flat(), 50))} / ${ms(percentile(w.cold, 50))} | ${m.plan ? count(m.plan.hit + m.plan.read) : '-'} / ${w.plan ? count(w.plan.hit + w.plan.read) : '-'} | ${scan(w.plan?.nodes)} |`,
      );
    }
  }
  return lines.join('\n');
}
