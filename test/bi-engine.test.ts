import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import auth from '../subgraphs/auth/index.ts';
import * as authStore from '../subgraphs/auth/store.ts';
import cms from '../subgraphs/cms/index.ts';
import crm from '../subgraphs/crm/index.ts';
import {
  chartData,
  DATASETS,
  datasetByName,
  resolveRelative,
  validateChart,
  validateNativeFilters,
  type ChartDataContext,
  type ChartDefinition,
  type ChartResult,
  type DefinitionError,
  type RelativeTimeRange,
  type TimeGrain,
} from '../subgraphs/bi/engine/index.ts';
import { CacheGenerations } from '../subgraphs/kit/cache.ts';
import type { Database } from '../subgraphs/kit/db/database.ts';
import { sharedReads } from '../subgraphs/kit/db/shared-reads.ts';
import type { MigrationTarget } from '../subgraphs/kit/db/migrate.ts';
import { repoPath } from '../subgraphs/kit/paths.ts';
import { createRedis } from '../subgraphs/kit/redis.ts';
import { createSubgraphServer, type SubgraphServer } from '../subgraphs/kit/server.ts';
import { createTestBackends, signToken, type TestBackends } from './support/deps.ts';
import { bearer, gql } from './support/graphql.ts';
import { UNREACHABLE_REDIS_URL } from './support/services.ts';

/*
 * The bi engine at its API (validateChart, chartData) against real PostgreSQL and Redis: facts of
 * two tenants written through the owning tables (crm, cms, bi's order facts), every chart shape,
 * aggregate, grain, relative range, filter operator, sort and truncation checked against values
 * computed here in JS from the rows inserted; tenant isolation (also through the cache),
 * freshness after a crm write, and hostile input that never reaches SQL text.
 */

const BI_MIGRATIONS: MigrationTarget = { name: 'bi', dir: repoPath('subgraphs/bi/migrations') };

// --- Deterministic facts ----------------------------------------------------------------------

function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATUSES = ['new', 'contacted', 'qualified', 'unqualified', 'converted'] as const;
// `promo%` and `promo_x` check that CONTAINS matches % and _ literally (`promoax` would match an
// unescaped `o_x`).
const SOURCES = ['web', 'referral', 'ads', 'event', 'promo%', 'promo_x', 'promoax', null] as const;
const TYPES = ['call', 'email', 'meeting', 'note', 'task'] as const;
const CURRENCIES = ['USD', 'EUR'] as const;
const START = Date.UTC(2023, 0, 1);
const END = Date.UTC(2026, 0, 1);
const BOUNDARIES = [
  '2024-03-31T23:59:59.999Z',
  '2024-04-01T00:00:00.000Z',
  '2024-12-31T23:59:59.999Z',
  '2025-01-01T00:00:00.000Z',
  '2024-06-30T23:59:59.999Z',
  '2024-07-01T00:00:00.000Z',
  '2024-02-29T12:00:00.000Z',
  '2024-04-07T23:59:59.999Z', // a Sunday: the last instant of its ISO week
  '2024-04-08T00:00:00.000Z', // the Monday after
].map((iso) => new Date(iso));

interface Lead {
  id: string;
  status: string;
  source: string | null;
  score: number;
  owner_id: string | null;
  tags: string[];
  created_at: Date;
  converted_at: Date | null;
}
interface Stage {
  id: string;
  name: string;
  kind: 'open' | 'won' | 'lost';
  position: number;
}
interface Deal {
  id: string;
  stage_id: string;
  amount: number | null;
  currency: string;
  probability: number;
  expected_close_date: string | null;
  closed_at: Date | null;
  created_at: Date;
  owner_id: string | null;
}
interface Activity {
  id: string;
  type: string;
  done: boolean;
  due_at: Date | null;
  completed_at: Date | null;
  created_at: Date;
  lead_id: string | null;
  contact_id: string | null;
  deal_id: string | null;
}
interface Page {
  id: string;
  slug: string;
  url_path: string;
  depth: number;
  parent_id: string | null;
  locale: string;
  author_id: string | null;
  revisions: number;
  state: 'draft' | 'published' | 'scheduled';
  first_published_at: Date | null;
  created_at: Date;
}
interface Order {
  order_id: string;
  number: string;
  channel: string;
  status: string;
  paid: boolean;
  total_gross: number;
  total_net: number;
  currency: string;
  created_at: Date;
  lines: { line_id: string; product_id: string | null; product_name: string; sku: string; quantity: number; unit_price_gross: number; total_gross: number }[];
}

interface Facts {
  tenantId: string;
  ownerId: string;
  otherMemberId: string;
  leads: Lead[];
  stages: Stage[];
  deals: Deal[];
  contacts: string[];
  activities: Activity[];
  pages: Page[];
  orders: Order[];
}

const cents = (n: number) => Math.round(n * 100) / 100;

function makeFacts(tenantId: string, ownerId: string, otherMemberId: string, seed: number, scale: { leads: number; deals: number; tag: string }): Facts {
  const rnd = random(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)]!;
  const time = () => new Date(START + Math.floor(rnd() * (END - START)));
  const members = [ownerId, otherMemberId, null];
  const leads: Lead[] = Array.from({ length: scale.leads }, (_, i) => {
    const created = i < BOUNDARIES.length ? BOUNDARIES[i]! : time();
    const status = pick(STATUSES);
    return {
      id: randomUUID(),
      status,
      source: i === 0 ? scale.tag : pick(SOURCES),
      score: Math.floor(rnd() * 101),
      owner_id: pick(members),
      tags: rnd() < 0.3 ? ['vip', scale.tag] : rnd() < 0.5 ? ['cold'] : [],
      created_at: created,
      converted_at: status === 'converted' ? new Date(created.getTime() + 86_400_000 * Math.floor(1 + rnd() * 30)) : null,
    };
  });
  const stages: Stage[] = [
    { id: randomUUID(), name: 'Lead in', kind: 'open', position: 0 },
    { id: randomUUID(), name: 'Proposal', kind: 'open', position: 1 },
    { id: randomUUID(), name: 'Won', kind: 'won', position: 2 },
    { id: randomUUID(), name: 'Lost', kind: 'lost', position: 3 },
  ];
  const deals: Deal[] = Array.from({ length: scale.deals }, () => {
    const stage = pick(stages);
    const created = time();
    return {
      id: randomUUID(),
      stage_id: stage.id,
      amount: rnd() < 0.1 ? null : cents(100 + rnd() * 20_000),
      currency: pick(CURRENCIES),
      probability: Math.floor(rnd() * 101),
      expected_close_date: rnd() < 0.2 ? null : new Date(created.getTime() + 86_400_000 * Math.floor(rnd() * 90)).toISOString().slice(0, 10),
      closed_at: stage.kind === 'open' ? null : new Date(created.getTime() + 86_400_000 * Math.floor(1 + rnd() * 60)),
      created_at: created,
      owner_id: pick(members),
    };
  });
  const contacts = [randomUUID(), randomUUID(), randomUUID()];
  const activities: Activity[] = Array.from({ length: Math.floor(scale.leads / 3) }, () => {
    const subject = rnd();
    const done = rnd() < 0.5;
    const created = time();
    return {
      id: randomUUID(),
      type: pick(TYPES),
      done,
      due_at: rnd() < 0.3 ? null : new Date(created.getTime() + 86_400_000 * Math.floor(rnd() * 20)),
      completed_at: done ? new Date(created.getTime() + 3_600_000) : null,
      created_at: created,
      lead_id: subject < 0.4 ? pick(leads).id : null,
      contact_id: subject >= 0.4 && subject < 0.7 ? pick(contacts) : null,
      deal_id: subject >= 0.7 ? pick(deals).id : null,
    };
  });
  const pages: Page[] = [];
  for (let i = 0; i < 12; i++) {
    const state = pick(['draft', 'published', 'scheduled'] as const);
    const created = time();
    pages.push({
      id: randomUUID(),
      slug: `page-${i}`,
      url_path: `/page-${i}`,
      depth: 0,
      parent_id: null,
      locale: i % 3 === 0 ? 'de' : 'en',
      author_id: pick(members),
      revisions: state === 'draft' ? Math.floor(rnd() * 2) : 1 + Math.floor(rnd() * 3),
      state,
      first_published_at: state === 'published' ? new Date(created.getTime() + 86_400_000) : null,
      created_at: created,
    });
  }
  const blog = pages[1]!;
  for (let i = 0; i < 5; i++) {
    const created = time();
    pages.push({
      id: randomUUID(),
      slug: `post-${i}`,
      url_path: `${blog.url_path}/post-${i}`,
      depth: 1,
      parent_id: blog.id,
      locale: 'en',
      author_id: ownerId,
      revisions: 1 + i,
      state: 'published',
      first_published_at: new Date(created.getTime() + 3_600_000),
      created_at: created,
    });
  }
  const products = [
    { id: 'UHJvZHVjdDox', name: 'Shirt' },
    { id: 'UHJvZHVjdDoy', name: 'Mug' },
    { id: null, name: 'Gift wrap' },
  ];
  const orders: Order[] = Array.from({ length: Math.floor(scale.deals / 2) }, (_, i) => {
    const lines = Array.from({ length: 1 + Math.floor(rnd() * 3) }, (_, j) => {
      const product = pick(products);
      const quantity = 1 + Math.floor(rnd() * 5);
      const unit = cents(5 + rnd() * 50);
      return { line_id: `line-${i}-${j}`, product_id: product.id, product_name: product.name, sku: `${product.name}-sku`, quantity, unit_price_gross: unit, total_gross: cents(unit * quantity) };
    });
    const gross = cents(lines.reduce((s, l) => s + l.total_gross, 0));
    return {
      order_id: `T3JkZXI6${scale.tag}${i}`,
      number: `${1000 + i}`,
      channel: `${scale.tag}-channel`,
      status: pick(['UNFULFILLED', 'FULFILLED', 'CANCELED'] as const),
      paid: rnd() < 0.7,
      total_gross: gross,
      total_net: cents(gross / 1.2),
      currency: 'USD',
      created_at: time(),
      lines,
    };
  });
  return { tenantId, ownerId, otherMemberId, leads, stages, deals, contacts, activities, pages, orders };
}

/** Writes the facts through the owning tables, as the app role in the tenant's transaction (RLS). */
async function insertFacts(db: Database, facts: Facts) {
  const scope = { tenantId: facts.tenantId, accountId: facts.ownerId };
  const json = (rows: unknown[]) => JSON.stringify(rows);
  const tenant = `(SELECT current_setting('app.tenant_id')::uuid)`;
  await db.withTenant(scope, async (tx) => {
    await tx.query(
      `INSERT INTO crm.leads (tenant_id, id, name, status, source, score, owner_id, tags, created_at, converted_at)
       SELECT ${tenant}, id, 'Lead ' || id, status, source, score, owner_id, tags, created_at, converted_at
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, status text, source text, score int, owner_id uuid, tags text[], created_at timestamptz, converted_at timestamptz)`,
      [json(facts.leads)],
    );
    await tx.query(
      `INSERT INTO crm.pipeline_stages (tenant_id, id, name, kind, position)
       SELECT ${tenant}, id, name, kind, position FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, name text, kind text, position int)`,
      [json(facts.stages)],
    );
    await tx.query(
      `INSERT INTO crm.deals (tenant_id, id, title, stage_id, amount, currency, probability, expected_close_date, closed_at, created_at, owner_id)
       SELECT ${tenant}, id, 'Deal ' || id, stage_id, amount, currency, probability, expected_close_date, closed_at, created_at, owner_id
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, stage_id uuid, amount numeric, currency text, probability int, expected_close_date date,
         closed_at timestamptz, created_at timestamptz, owner_id uuid)`,
      [json(facts.deals)],
    );
    await tx.query(`INSERT INTO crm.contacts (tenant_id, id, name) SELECT ${tenant}, id, 'Contact' FROM unnest($1::uuid[]) AS id`, [facts.contacts]);
    await tx.query(
      `INSERT INTO crm.activities (tenant_id, id, type, subject, done, due_at, completed_at, created_at, lead_id, contact_id, deal_id)
       SELECT ${tenant}, id, type, 'Subject', done, due_at, completed_at, created_at, lead_id, contact_id, deal_id
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, type text, done boolean, due_at timestamptz, completed_at timestamptz,
         created_at timestamptz, lead_id uuid, contact_id uuid, deal_id uuid)`,
      [json(facts.activities)],
    );
    // Pages, then their revisions, then the pages' revision pointers (they reference each other).
    await tx.query(
      `INSERT INTO cms.pages (tenant_id, id, parent_id, position, slug, url_path, depth, locale, author_id, first_published_at, last_published_at, created_at)
       SELECT ${tenant}, id, parent_id, 0, slug, url_path, depth, locale, author_id, first_published_at, first_published_at, created_at
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, parent_id uuid, slug text, url_path text, depth int, locale text, author_id uuid,
         first_published_at timestamptz, created_at timestamptz)`,
      [json(facts.pages)],
    );
    await tx.query(
      `INSERT INTO cms.page_revisions (tenant_id, page_id, number, title, search)
       SELECT ${tenant}, x.id, n, 'Title', to_tsvector('simple', 'Title')
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, revisions int), generate_series(1, x.revisions) AS n`,
      [json(facts.pages)],
    );
    await tx.query(
      `UPDATE cms.pages p SET
         latest_revision_id = r.id,
         live_revision_id = CASE WHEN x.state = 'published' THEN r.id END,
         scheduled_revision_id = CASE WHEN x.state = 'scheduled' THEN r.id END,
         publish_at = CASE WHEN x.state = 'scheduled' THEN now() + interval '30 days' END
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, state text), cms.page_revisions r
       WHERE p.id = x.id AND r.page_id = x.id AND r.number = (SELECT max(number) FROM cms.page_revisions WHERE page_id = x.id)`,
      [json(facts.pages)],
    );
    await insertOrders(tx, facts.orders);
  });
}

/** Order facts and their lines, as bi's webhook store writes them (the app role, the tenant's transaction). */
async function insertOrders(tx: { query(text: string, values?: unknown[]): Promise<unknown> }, orders: Order[]) {
  const json = (rows: unknown[]) => JSON.stringify(rows);
  const tenant = `(SELECT current_setting('app.tenant_id')::uuid)`;
    await tx.query(
      `INSERT INTO bi.orders (tenant_id, order_id, number, channel, status, paid, total_gross, total_net, currency, created_at, updated_at)
       SELECT ${tenant}, order_id, number, channel, status, paid, total_gross, total_net, currency, created_at, created_at
       FROM jsonb_to_recordset($1::jsonb) AS x(order_id text, number text, channel text, status text, paid boolean, total_gross numeric,
         total_net numeric, currency text, created_at timestamptz)`,
      [json(orders)],
    );
    await tx.query(
      `INSERT INTO bi.order_lines (tenant_id, order_id, line_id, product_id, product_name, variant_id, sku, quantity, unit_price_gross, total_gross, currency, created_at)
       SELECT ${tenant}, x.order_id, l.line_id, l.product_id, l.product_name, null, l.sku, l.quantity, l.unit_price_gross, l.total_gross, 'USD', x.created_at
       FROM jsonb_to_recordset($1::jsonb) AS x(order_id text, lines jsonb, created_at timestamptz),
         jsonb_to_recordset(x.lines) AS l(line_id text, product_id text, product_name text, sku text, quantity int, unit_price_gross numeric, total_gross numeric)`,
      [json(orders)],
    );
}

// --- Reference computations in JS -------------------------------------------------------------

const DAY = 86_400_000;
function truncate(date: Date, grain: TimeGrain): string {
  const y = date.getUTCFullYear();
  const m = date.getUTCMonth();
  const d = date.getUTCDate();
  switch (grain) {
    case 'DAY':
      return new Date(Date.UTC(y, m, d)).toISOString();
    case 'WEEK': {
      const day = Date.UTC(y, m, d);
      return new Date(day - ((date.getUTCDay() + 6) % 7) * DAY).toISOString();
    }
    case 'MONTH':
      return new Date(Date.UTC(y, m, 1)).toISOString();
    case 'QUARTER':
      return new Date(Date.UTC(y, m - (m % 3), 1)).toISOString();
    case 'YEAR':
      return new Date(Date.UTC(y, 0, 1)).toISOString();
  }
}

type Aggregator<T> = (rows: T[]) => number | string | null;
const count = <T>(rows: T[]) => rows.length;
const nonNull = <T>(values: (T | null)[]) => values.filter((v): v is T => v !== null);
const sum = <T>(of: (row: T) => number | null): Aggregator<T> => (rows) => {
  const values = nonNull(rows.map(of));
  return values.length ? values.reduce((a, b) => a + b, 0) : null;
};
const avg = <T>(of: (row: T) => number | null): Aggregator<T> => (rows) => {
  const values = nonNull(rows.map(of));
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
};
const min = <T>(of: (row: T) => number | null): Aggregator<T> => (rows) => {
  const values = nonNull(rows.map(of));
  return values.length ? Math.min(...values) : null;
};
const max = <T>(of: (row: T) => number | null): Aggregator<T> => (rows) => {
  const values = nonNull(rows.map(of));
  return values.length ? Math.max(...values) : null;
};
const distinct = <T>(of: (row: T) => unknown): Aggregator<T> => (rows) => new Set(nonNull(rows.map(of) as unknown[])).size;
const maxTime = <T>(of: (row: T) => Date | null): Aggregator<T> => (rows) => {
  const values = nonNull(rows.map(of)).map((d) => d.getTime());
  return values.length ? new Date(Math.max(...values)).toISOString() : null;
};
const minTime = <T>(of: (row: T) => Date | null): Aggregator<T> => (rows) => {
  const values = nonNull(rows.map(of)).map((d) => d.getTime());
  return values.length ? new Date(Math.min(...values)).toISOString() : null;
};

/** Code-point order: what PostgreSQL's collations agree on for the lower-case ASCII and ISO times compared here. */
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Rows grouped by the given keys, each group as [...keys, ...aggregates]. */
function grouped<T>(rows: T[], keys: ((row: T) => unknown)[], aggregates: Aggregator<T>[]): unknown[][] {
  const groups = new Map<string, { key: unknown[]; rows: T[] }>();
  for (const row of rows) {
    const key = keys.map((k) => k(row));
    const id = JSON.stringify(key);
    if (!groups.has(id)) groups.set(id, { key, rows: [] });
    groups.get(id)!.rows.push(row);
  }
  return [...groups.values()].map(({ key, rows }) => [...key, ...aggregates.map((a) => a(rows))]);
}

/** Numbers rounded (sums of numeric(14,2) and averages come back exact from PostgreSQL). */
const rounded = (rows: unknown[][]) => rows.map((row) => row.map((cell) => (typeof cell === 'number' ? Math.round(cell * 1e6) / 1e6 : cell)));
/** The same rows in any order. */
const unordered = (rows: unknown[][]) => rounded(rows).map((row) => JSON.stringify(row)).sort();

// --- The stack ----------------------------------------------------------------------------------

let backends: TestBackends;
let crmServer: SubgraphServer;
let crmUrl: string;
let A: Facts;
let B: Facts;
let statements: string[] = [];

async function createTenant(slug: string, db = backends.db): Promise<{ tenantId: string; ownerId: string; otherMemberId: string }> {
  const tenantId = randomUUID();
  const ids = await db.withTenant({ tenantId, accountId: null }, async (tx) => {
    await authStore.insertTenant(tx, { id: tenantId, slug, name: slug, saleorChannel: `${slug}-channel` });
    const ownerId = await authStore.createAccount(tx, { email: `owner@${slug}.example`, name: 'Owner', passwordHash: 'x' });
    const otherMemberId = await authStore.createAccount(tx, { email: `analyst@${slug}.example`, name: 'Analyst', passwordHash: 'x' });
    await authStore.insertMembership(tx, ownerId, 'owner');
    await authStore.insertMembership(tx, otherMemberId, 'analyst');
    return { ownerId, otherMemberId };
  });
  return { tenantId, ...ids };
}

beforeAll(async () => {
  backends = await createTestBackends();
  await backends.migrate([auth.migrations!, crm.migrations!, cms.migrations!, BI_MIGRATIONS]);
  const a = await createTenant(`bi-a-${process.pid}`);
  const b = await createTenant(`bi-b-${process.pid}`);
  A = makeFacts(a.tenantId, a.ownerId, a.otherMemberId, 1, { leads: 300, deals: 80, tag: 'acmetag' });
  B = makeFacts(b.tenantId, b.ownerId, b.otherMemberId, 2, { leads: 120, deals: 40, tag: 'globextag' });
  await insertFacts(backends.db, A);
  await insertFacts(backends.db, B);
  crmServer = await createSubgraphServer(crm, backends.deps('crm'));
  crmUrl = await crmServer.listen(0, '127.0.0.1');
  backends.db.onStatement((text) => statements.push(text));
});
afterAll(async () => {
  await crmServer?.close();
  await backends?.close();
});

/** A request's context as a bi resolver has it: the tenant's transaction runner (RLS), deps. */
function context(facts: Facts, deps = backends.deps('bi')): ChartDataContext {
  return { deps, tx: sharedReads(backends.db, { tenantId: facts.tenantId, accountId: facts.ownerId }), principal: { tenantId: facts.tenantId } };
}

function define(input: Record<string, unknown>): ChartDefinition {
  const result = validateChart({ type: 'TABLE', ...input });
  if ('errors' in result) throw new Error(`invalid chart: ${JSON.stringify(result.errors)}`);
  return result.definition;
}

function errorsOf(input: Record<string, unknown>): DefinitionError[] {
  const result = validateChart(input);
  if (!('errors' in result)) throw new Error(`expected errors for ${JSON.stringify(input)}`);
  return result.errors;
}

/** Chart data computed now, bypassing the cache (a definition-unique `now` is not needed: TTL 0). */
function fresh(facts: Facts, definition: ChartDefinition, options: Parameters<typeof chartData>[2] = {}): Promise<ChartResult> {
  const deps = backends.deps('bi');
  return chartData({ ...context(facts), deps: { ...deps, config: { ...deps.config, CACHE_TTL_SECONDS: 0 } } }, definition, options);
}

const stageOf = (facts: Facts, deal: Deal) => facts.stages.find((s) => s.id === deal.stage_id)!;

// --- Tests --------------------------------------------------------------------------------------

describe('datasets', () => {
  it('every column of every dataset is a valid expression over its source, of its declared type', async () => {
    expect(DATASETS.map((d) => d.name)).toEqual(['leads', 'deals', 'activities', 'pages', 'orders', 'order_lines']);
    const pgTypes: Record<string, string[]> = {
      NUMBER: ['integer', 'smallint', 'numeric', 'bigint'],
      STRING: ['text', 'uuid'],
      TIME: ['timestamp with time zone'],
      BOOLEAN: ['boolean'],
    };
    for (const dataset of DATASETS) {
      expect(datasetByName(dataset.name)).toBe(dataset);
      const names = dataset.columns.map((c) => c.name);
      expect(new Set(names).size, dataset.name).toBe(names.length);
      if (dataset.defaultTimeColumn) expect(dataset.columns.find((c) => c.name === dataset.defaultTimeColumn)?.type).toBe('TIME');
      const select = dataset.columns.map((c, i) => `pg_typeof(${c.sql})::text AS c${i}`).join(', ');
      const { rows } = await backends.db.withTenant({ tenantId: A.tenantId, accountId: null }, (tx) => tx.query(`SELECT ${select} FROM ${[dataset.source, ...Object.values(dataset.joins ?? {})].join(' ')} LIMIT 1`));
      expect(rows.length, `${dataset.name} has rows`).toBe(1);
      dataset.columns.forEach((column, i) => expect(pgTypes[column.type], `${dataset.name}.${column.name}: ${rows[0][`c${i}`]}`).toContain(rows[0][`c${i}`]));
    }
    expect(datasetByName('nope')).toBeUndefined();
    expect(datasetByName('__proto__')).toBeUndefined();
  });

  it('the fact views run with the caller\'s rights (security_invoker) and the app role may only read them', async () => {
    const { rows } = await backends.db.withTenant({ tenantId: null, accountId: null }, (tx) =>
      tx.query(
        `SELECT n.nspname || '.' || c.relname AS name, c.reloptions,
           has_table_privilege('bizosaas_app', c.oid, 'SELECT') AS can_select,
           has_table_privilege('bizosaas_app', c.oid, 'INSERT, UPDATE, DELETE') AS can_write
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'v' AND n.nspname IN ('crm', 'cms', 'bi') ORDER BY 1`,
      ),
    );
    expect(rows.map((r) => r.name)).toEqual(expect.arrayContaining(['cms.page_facts', 'crm.activity_facts', 'crm.deal_facts', 'crm.lead_facts']));
    for (const row of rows) expect(row, row.name).toMatchObject({ reloptions: ['security_invoker=true'], can_select: true, can_write: false });
    // Without a tenant, no facts at all; with one, only its own.
    for (const view of ['crm.lead_facts', 'crm.deal_facts', 'crm.activity_facts', 'cms.page_facts']) {
      const none = await backends.db.withTenant({ tenantId: null, accountId: null }, (tx) => tx.query(`SELECT count(*)::int AS n FROM ${view}`));
      expect(none.rows[0].n, view).toBe(0);
      const own = await backends.db.withTenant({ tenantId: B.tenantId, accountId: null }, (tx) => tx.query(`SELECT DISTINCT tenant_id FROM ${view}`));
      expect(own.rows, view).toEqual([{ tenant_id: B.tenantId }]);
    }
  });
});

describe('validation', () => {
  const base = { type: 'TABLE', dataset: 'leads', metrics: [{ aggregate: 'COUNT' }] };
  const codes = (input: Record<string, unknown>) => errorsOf(input).map((e) => [e.field, e.code]);

  it('accepts a full definition and fills in labels and the default time column', () => {
    const result = validateChart({
      ...base,
      type: 'LINE',
      metrics: [{ aggregate: 'COUNT' }, { aggregate: 'AVG', column: 'score' }, { aggregate: 'COUNT_DISTINCT', column: 'owner_id', label: 'owners' }],
      dimensions: ['source'],
      timeGrain: 'MONTH',
      timeRange: { relative: 'LAST_90_DAYS' },
      filters: [{ column: 'status', operator: 'IN', values: ['new', 'qualified'] }],
      sort: [{ by: 'count', descending: true }],
    });
    expect(result).toEqual({
      definition: {
        dataset: 'leads',
        metrics: [
          { aggregate: 'COUNT', column: null, label: 'count' },
          { aggregate: 'AVG', column: 'score', label: 'avg_score' },
          { aggregate: 'COUNT_DISTINCT', column: 'owner_id', label: 'owners' },
        ],
        dimensions: ['source'],
        timeColumn: 'created_at',
        timeGrain: 'MONTH',
        timeRange: { relative: 'LAST_90_DAYS', from: null, to: null },
        filters: [{ column: 'status', operator: 'IN', values: ['new', 'qualified'] }],
        sort: [{ by: 'count', descending: true }],
        rowLimit: 1000,
      },
    });
  });

  it('refuses unknown datasets and columns with UNKNOWN_COLUMN at their field', () => {
    expect(codes({ ...base, dataset: 'users' })).toEqual([['dataset', 'UNKNOWN_COLUMN']]);
    expect(codes({ ...base, metrics: [{ aggregate: 'SUM', column: 'salary' }] })).toEqual([['metrics.0.column', 'UNKNOWN_COLUMN']]);
    expect(codes({ ...base, dimensions: ['source', 'email'] })).toEqual([['dimensions.1', 'UNKNOWN_COLUMN']]);
    expect(codes({ ...base, dimensions: ['id'] })).toEqual([['dimensions.0', 'UNKNOWN_COLUMN']]); // an id is not a dimension
    expect(codes({ ...base, timeColumn: 'birthday' })).toEqual([['timeColumn', 'UNKNOWN_COLUMN']]);
    expect(codes({ ...base, filters: [{ column: 'password_hash', operator: 'EQ', values: ['x'] }] })).toEqual([['filters.0.column', 'UNKNOWN_COLUMN']]);
    expect(codes({ ...base, sort: [{ by: 'revenue' }] })).toEqual([['sort.0.by', 'UNKNOWN_COLUMN']]);
    expect(codes({ ...base, metrics: [{ aggregate: 'MIN', column: 'status' }] })).toEqual([['metrics.0.column', 'WRONG_TYPE']]);
    expect(codes({ ...base, metrics: [{ aggregate: 'SUM', column: 'id' }] })).toEqual([['metrics.0.column', 'WRONG_TYPE']]);
  });

  it('refuses a metric on a non-numeric column and a grain on a non-time column with WRONG_TYPE', () => {
    expect(codes({ ...base, metrics: [{ aggregate: 'SUM', column: 'status' }] })).toEqual([['metrics.0.column', 'WRONG_TYPE']]);
    expect(codes({ ...base, metrics: [{ aggregate: 'COUNT' }, { aggregate: 'AVG', column: 'created_at' }] })).toEqual([['metrics.1.column', 'WRONG_TYPE']]);
    expect(codes({ ...base, timeColumn: 'score', timeGrain: 'MONTH' })).toEqual([['timeGrain', 'WRONG_TYPE']]);
    expect(codes({ ...base, timeColumn: 'status', timeRange: { relative: 'TODAY' } })).toEqual([['timeColumn', 'WRONG_TYPE']]);
    expect(codes({ ...base, dimensions: ['created_at'] })).toEqual([['dimensions.0', 'WRONG_TYPE']]);
    expect(codes({ ...base, filters: [{ column: 'status', operator: 'RANGE', values: ['a', 'b'] }] })).toEqual([['filters.0.operator', 'WRONG_TYPE']]);
    expect(codes({ ...base, filters: [{ column: 'score', operator: 'CONTAINS', values: ['1'] }] })).toEqual([['filters.0.operator', 'WRONG_TYPE']]);
  });

  it('refuses row limits outside 1..10000 and IN lists over 1000 values with TOO_LARGE', () => {
    for (const rowLimit of [0, -1, 10_001, 1_000_000]) expect(codes({ ...base, rowLimit })).toEqual([['rowLimit', 'TOO_LARGE']]);
    expect(codes({ ...base, rowLimit: 2.5 })).toEqual([['rowLimit', 'INVALID']]);
    expect('definition' in validateChart({ ...base, rowLimit: 10_000 })).toBe(true);
    expect('definition' in validateChart({ ...base, rowLimit: 1 })).toBe(true);
    const values = Array.from({ length: 1001 }, (_, i) => `s${i}`);
    expect(codes({ ...base, filters: [{ column: 'source', operator: 'IN', values }] })).toEqual([['filters.0.values', 'TOO_LARGE']]);
    expect('definition' in validateChart({ ...base, filters: [{ column: 'source', operator: 'IN', values: values.slice(0, 1000) }] })).toBe(true);
  });

  it('checks the number and type of filter values', () => {
    const filter = (column: string, operator: string, values: unknown[]) => codes({ ...base, filters: [{ column, operator, values }] });
    expect(filter('score', 'RANGE', [1])).toEqual([['filters.0.values', 'INVALID']]);
    expect(filter('score', 'RANGE', [null, null])).toEqual([['filters.0.values', 'INVALID']]);
    expect(filter('score', 'RANGE', [50, 10])).toEqual([['filters.0.values', 'INVALID']]);
    expect(filter('score', 'EQ', [1, 2])).toEqual([['filters.0.values', 'INVALID']]);
    expect(filter('score', 'IN', [])).toEqual([['filters.0.values', 'INVALID']]);
    expect(filter('score', 'EQ', ['ten'])).toEqual([['filters.0.values.0', 'WRONG_TYPE']]);
    expect(filter('score', 'IN', [1, Number.NaN, '3'])).toEqual([['filters.0.values.1', 'WRONG_TYPE']]);
    expect(filter('converted', 'EQ', ['true'])).toEqual([['filters.0.values.0', 'WRONG_TYPE']]);
    expect(filter('created_at', 'RANGE', ['yesterday', null])).toEqual([['filters.0.values.0', 'WRONG_TYPE']]);
    expect(filter('owner_id', 'EQ', ['not-a-uuid'])).toEqual([['filters.0.values.0', 'WRONG_TYPE']]);
    expect(filter('status', 'EQ', [{ $ne: 1 }])).toEqual([['filters.0.values.0', 'WRONG_TYPE']]);
    expect(filter('status', 'IN', ['new', null])).toEqual([['filters.0.values.1', 'INVALID']]);
    expect(filter('status', 'LIKE', ['x'])).toEqual([['filters.0.operator', 'INVALID']]);
    expect(filter('status', 'EQ', ['x'.repeat(1001)])).toEqual([['filters.0.values.0', 'WRONG_TYPE']]);
  });

  it('applies each chart type\'s rules', () => {
    expect(codes({ ...base, type: 'BIG_NUMBER', dimensions: ['status'] })).toEqual([['dimensions', 'INVALID']]);
    expect(codes({ ...base, type: 'BIG_NUMBER', metrics: [{ aggregate: 'COUNT' }, { aggregate: 'MAX', column: 'score' }] })).toEqual([['metrics', 'INVALID']]);
    expect(codes({ ...base, type: 'BIG_NUMBER', timeGrain: 'DAY' })).toEqual([['timeGrain', 'INVALID']]);
    expect('definition' in validateChart({ ...base, type: 'BIG_NUMBER', timeRange: { relative: 'THIS_MONTH' } })).toBe(true);
    expect(codes({ ...base, type: 'PIE' })).toEqual([['dimensions', 'INVALID']]);
    expect(codes({ ...base, type: 'PIE', dimensions: ['status'], metrics: [{ aggregate: 'COUNT' }, { aggregate: 'SUM', column: 'score' }] })).toEqual([['metrics', 'INVALID']]);
    expect(codes({ ...base, type: 'LINE' })).toEqual([['timeGrain', 'REQUIRED']]);
    expect(codes({ ...base, type: 'AREA', timeGrain: 'WEEK', dimensions: ['status', 'source'] })).toEqual([['dimensions', 'INVALID']]);
    expect(codes({ ...base, type: 'BAR' })).toEqual([['dimensions', 'REQUIRED']]);
    expect(codes({ ...base, type: 'DONUT' })).toEqual([['type', 'INVALID']]);
    expect(codes({ dataset: 'leads', metrics: [{ aggregate: 'COUNT' }] })).toEqual([['type', 'REQUIRED']]);
    expect(codes({ ...base, metrics: [] })).toEqual([['metrics', 'REQUIRED']]);
    expect(codes({ ...base, metrics: [{ aggregate: 'SUM' }] })).toEqual([['metrics.0.column', 'REQUIRED']]);
    expect(codes({ ...base, metrics: [{ aggregate: 'COUNT', column: 'id' }] })).toEqual([['metrics.0.column', 'INVALID']]);
  });

  it('keeps labels unique and sorts only by what the chart outputs', () => {
    expect(codes({ ...base, metrics: [{ aggregate: 'COUNT' }, { aggregate: 'MAX', column: 'score', label: 'count' }] })).toEqual([['metrics.1.label', 'DUPLICATE']]);
    expect(codes({ ...base, dimensions: ['status'], metrics: [{ aggregate: 'COUNT', label: 'status' }] })).toEqual([['metrics.0.label', 'DUPLICATE']]);
    expect(codes({ ...base, dimensions: ['status', 'status'] })).toEqual([['dimensions.1', 'DUPLICATE']]);
    expect('definition' in validateChart({ ...base, timeGrain: 'DAY', sort: [{ by: 'created_at' }, { by: 'count', descending: true }] })).toBe(true);
    expect(codes({ ...base, sort: [{ by: 'count' }, { by: 'count' }] })).toEqual([['sort.1.by', 'DUPLICATE']]);
  });

  it('refuses hostile names and labels: nothing but the dataset\'s own names passes', () => {
    const hostile = ['id; DROP TABLE crm.leads; --', 'status"', 'tenant_id', '(SELECT 1)', 'created_at::text', 'constructor', '__proto__'];
    for (const name of hostile) {
      expect(codes({ ...base, dimensions: [name] }), name).toEqual([['dimensions.0', 'UNKNOWN_COLUMN']]);
      expect(codes({ ...base, metrics: [{ aggregate: 'MAX', column: name }] }), name).toEqual([['metrics.0.column', 'UNKNOWN_COLUMN']]);
      expect(codes({ ...base, filters: [{ column: name, operator: 'EQ', values: ['x'] }] }), name).toEqual([['filters.0.column', 'UNKNOWN_COLUMN']]);
      expect(codes({ ...base, timeColumn: name }), name).toEqual([['timeColumn', 'UNKNOWN_COLUMN']]);
    }
    for (const label of ['a"b', 'x) FROM pg_user --', 'a.b', 'a[0]', ' padded', '', 'x'.repeat(65)])
      expect(codes({ ...base, metrics: [{ aggregate: 'COUNT', label }] })[0]![0], label).toBe('metrics.0.label');
    expect(codes({ ...base, metrics: [{ aggregate: 'COUNT; DELETE', column: null }] })).toEqual([['metrics.0.aggregate', 'INVALID']]);
    expect(codes({ ...base, timeGrain: "month', created_at) --" })).toEqual([['timeGrain', 'INVALID']]);
    expect(errorsOf(null as never)).toEqual([{ field: null, code: 'INVALID', message: expect.any(String) }]);
  });

  it('validates time ranges and dashboards\' native filters', () => {
    expect(codes({ ...base, timeRange: { relative: 'LAST_3_DAYS' } })).toEqual([['timeRange.relative', 'INVALID']]);
    expect(codes({ ...base, timeRange: { relative: 'TODAY', from: '2024-01-01' } })).toEqual([['timeRange', 'INVALID']]);
    expect(codes({ ...base, timeRange: { from: '2024-02-01', to: '2024-01-01' } })).toEqual([['timeRange.to', 'INVALID']]);
    expect(codes({ ...base, timeRange: { from: 'soon' } })).toEqual([['timeRange.from', 'INVALID']]);
    const ok = validateChart({ ...base, timeRange: { from: '2024-01-01', to: new Date('2024-02-01T00:00:00Z') } });
    expect('definition' in ok && ok.definition.timeRange).toEqual({ relative: null, from: new Date('2024-01-01T00:00:00Z'), to: new Date('2024-02-01T00:00:00Z') });
    // A time without a zone is UTC.
    const local = validateChart({ ...base, filters: [{ column: 'created_at', operator: 'RANGE', values: ['2024-01-01T10:00', null] }] });
    expect('definition' in local && local.definition.filters[0]!.values).toEqual(['2024-01-01T10:00:00.000Z', null]);

    expect(validateNativeFilters([{ column: 'status', operator: 'IN', values: ['new', 'won'] }, { column: 'created_at', operator: 'RANGE', values: ['2024-01-01', null] }]))
      .toEqual({ filters: [{ column: 'status', operator: 'IN', values: ['new', 'won'] }, { column: 'created_at', operator: 'RANGE', values: ['2024-01-01T00:00:00.000Z', null] }], errors: [] });
    expect(validateNativeFilters([{ column: 'nope', operator: 'EQ', values: [1] }]).errors.map((e) => [e.field, e.code])).toEqual([['nativeFilters.0.column', 'UNKNOWN_COLUMN']]);
    expect(validateNativeFilters([{ column: 'currency', operator: 'EQ', values: [1] }]).errors.map((e) => [e.field, e.code])).toEqual([['nativeFilters.0.values.0', 'WRONG_TYPE']]);
  });
});

describe('time ranges', () => {
  const at = (iso: string) => new Date(iso);
  const range = (relative: RelativeTimeRange, now: string) => {
    const { from, to } = resolveRelative(relative, at(now));
    return [from.toISOString(), to.toISOString()];
  };

  it('resolves relative ranges in UTC as half-open periods around month, quarter and year ends', () => {
    // The last millisecond of Q1 2024 (a leap year), a Sunday.
    const q1End = '2024-03-31T23:59:59.999Z';
    expect(range('TODAY', q1End)).toEqual(['2024-03-31T00:00:00.000Z', '2024-04-01T00:00:00.000Z']);
    expect(range('LAST_7_DAYS', q1End)).toEqual(['2024-03-25T00:00:00.000Z', '2024-04-01T00:00:00.000Z']);
    expect(range('LAST_30_DAYS', q1End)).toEqual(['2024-03-02T00:00:00.000Z', '2024-04-01T00:00:00.000Z']);
    expect(range('LAST_90_DAYS', q1End)).toEqual(['2024-01-02T00:00:00.000Z', '2024-04-01T00:00:00.000Z']);
    expect(range('LAST_365_DAYS', q1End)).toEqual(['2023-04-02T00:00:00.000Z', '2024-04-01T00:00:00.000Z']);
    expect(range('THIS_WEEK', q1End)).toEqual(['2024-03-25T00:00:00.000Z', '2024-04-01T00:00:00.000Z']);
    expect(range('LAST_WEEK', q1End)).toEqual(['2024-03-18T00:00:00.000Z', '2024-03-25T00:00:00.000Z']);
    expect(range('THIS_MONTH', q1End)).toEqual(['2024-03-01T00:00:00.000Z', '2024-04-01T00:00:00.000Z']);
    expect(range('LAST_MONTH', q1End)).toEqual(['2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z']);
    expect(range('THIS_QUARTER', q1End)).toEqual(['2024-01-01T00:00:00.000Z', '2024-04-01T00:00:00.000Z']);
    expect(range('LAST_QUARTER', q1End)).toEqual(['2023-10-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z']);
    expect(range('THIS_YEAR', q1End)).toEqual(['2024-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z']);
    expect(range('LAST_YEAR', q1End)).toEqual(['2023-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z']);
    // One millisecond later everything moves on: a Monday, April, Q2.
    const q2Start = '2024-04-01T00:00:00.000Z';
    expect(range('TODAY', q2Start)).toEqual(['2024-04-01T00:00:00.000Z', '2024-04-02T00:00:00.000Z']);
    expect(range('THIS_WEEK', q2Start)).toEqual(['2024-04-01T00:00:00.000Z', '2024-04-08T00:00:00.000Z']);
    expect(range('LAST_WEEK', q2Start)).toEqual(['2024-03-25T00:00:00.000Z', '2024-04-01T00:00:00.000Z']);
    expect(range('LAST_MONTH', q2Start)).toEqual(['2024-03-01T00:00:00.000Z', '2024-04-01T00:00:00.000Z']);
    expect(range('THIS_QUARTER', q2Start)).toEqual(['2024-04-01T00:00:00.000Z', '2024-07-01T00:00:00.000Z']);
    expect(range('LAST_QUARTER', q2Start)).toEqual(['2024-01-01T00:00:00.000Z', '2024-04-01T00:00:00.000Z']);
    // January: last month and last quarter are in the year before.
    const newYear = '2025-01-01T00:00:00.000Z';
    expect(range('LAST_MONTH', newYear)).toEqual(['2024-12-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z']);
    expect(range('LAST_QUARTER', newYear)).toEqual(['2024-10-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z']);
    expect(range('THIS_YEAR', newYear)).toEqual(['2025-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z']);
    expect(range('LAST_WEEK', newYear)).toEqual(['2024-12-23T00:00:00.000Z', '2024-12-30T00:00:00.000Z']);
  });

  it('counts the rows of each relative range, edges included and excluded as half-open intervals say', async () => {
    const nows = ['2024-03-31T23:59:59.999Z', '2024-04-01T00:00:00.000Z', '2024-04-08T12:00:00.000Z', '2025-01-01T00:00:00.000Z', '2024-07-01T06:00:00.000Z'];
    const relatives: RelativeTimeRange[] = ['TODAY', 'LAST_7_DAYS', 'LAST_30_DAYS', 'THIS_WEEK', 'LAST_WEEK', 'THIS_MONTH', 'LAST_MONTH', 'THIS_QUARTER', 'LAST_QUARTER', 'THIS_YEAR', 'LAST_YEAR', 'LAST_365_DAYS'];
    let nonEmpty = 0;
    for (const now of nows) {
      for (const relative of relatives) {
        const definition = define({ type: 'BIG_NUMBER', dataset: 'leads', metrics: [{ aggregate: 'COUNT' }], timeRange: { relative } });
        const result = await fresh(A, definition, { now: at(now) });
        const { from, to } = resolveRelative(relative, at(now));
        const expected = A.leads.filter((l) => l.created_at >= from && l.created_at < to).length;
        expect(result.rows, `${relative} at ${now}`).toEqual([[expected]]);
        expect([result.from, result.to]).toEqual([from, to]);
        if (expected) nonEmpty++;
      }
    }
    expect(nonEmpty).toBeGreaterThan(30);
    // The boundary rows: exactly at the start of April is April's, the millisecond before is March's.
    const april = await fresh(A, define({ dataset: 'leads', metrics: [{ aggregate: 'COUNT' }], timeRange: { from: '2024-04-01T00:00:00Z', to: '2024-04-01T00:00:00.001Z' } }));
    expect(april.rows).toEqual([[A.leads.filter((l) => l.created_at.getTime() === Date.UTC(2024, 3, 1)).length]]);
    expect(april.rows[0]![0]).toBeGreaterThanOrEqual(1);
  });
});

describe('chart data', () => {
  it('a big number of every aggregate, over the whole dataset and over a range', async () => {
    const deals = A.deals;
    const metrics = [
      { aggregate: 'COUNT' },
      { aggregate: 'COUNT_DISTINCT', column: 'owner_id' },
      { aggregate: 'SUM', column: 'amount' },
      { aggregate: 'AVG', column: 'amount' },
      { aggregate: 'MIN', column: 'amount' },
      { aggregate: 'MAX', column: 'amount' },
      { aggregate: 'SUM', column: 'weighted_amount' },
      { aggregate: 'AVG', column: 'probability' },
      { aggregate: 'MAX', column: 'closed_at' },
      { aggregate: 'MIN', column: 'expected_close_date' },
    ];
    const expected = (rows: Deal[]) => [
      count(rows),
      distinct<Deal>((d) => d.owner_id)(rows),
      sum<Deal>((d) => d.amount)(rows),
      avg<Deal>((d) => d.amount)(rows),
      min<Deal>((d) => d.amount)(rows),
      max<Deal>((d) => d.amount)(rows),
      sum<Deal>((d) => (d.amount === null ? null : (d.amount * d.probability) / 100))(rows),
      avg<Deal>((d) => d.probability)(rows),
      maxTime<Deal>((d) => d.closed_at)(rows),
      minTime<Deal>((d) => (d.expected_close_date ? new Date(`${d.expected_close_date}T00:00:00Z`) : null))(rows),
    ];
    // Each metric on its own (the BIG_NUMBER rule) and all at once as a table.
    for (const [i, metric] of metrics.entries()) {
      const result = await fresh(A, define({ type: 'BIG_NUMBER', dataset: 'deals', metrics: [metric] }));
      expect(rounded(result.rows), JSON.stringify(metric)).toEqual(rounded([[expected(deals)[i]]]));
    }
    const all = await fresh(A, define({ dataset: 'deals', metrics }));
    expect(all.columns.map((c) => [c.name, c.type])).toEqual([
      ['count', 'NUMBER'], ['count_distinct_owner_id', 'NUMBER'], ['sum_amount', 'NUMBER'], ['avg_amount', 'NUMBER'], ['min_amount', 'NUMBER'],
      ['max_amount', 'NUMBER'], ['sum_weighted_amount', 'NUMBER'], ['avg_probability', 'NUMBER'], ['max_closed_at', 'TIME'], ['min_expected_close_date', 'TIME'],
    ]);
    expect(rounded(all.rows)).toEqual(rounded([expected(deals)]));
    expect(all).toMatchObject({ rowCount: 1, truncated: false, from: null, to: null });

    const from = new Date('2024-01-01T00:00:00Z');
    const to = new Date('2024-07-01T00:00:00Z');
    const ranged = await fresh(A, define({ dataset: 'deals', metrics, timeRange: { from: from.toISOString(), to: to.toISOString() } }));
    expect(rounded(ranged.rows)).toEqual(rounded([expected(deals.filter((d) => d.created_at >= from && d.created_at < to))]));
    expect([ranged.from, ranged.to]).toEqual([from, to]);
    // A definition read back from JSON (as a stored chart is) computes the same.
    const stored = JSON.parse(JSON.stringify(define({ dataset: 'deals', metrics, timeRange: { from: from.toISOString(), to: to.toISOString() } })));
    expect(await fresh(A, stored)).toMatchObject({ rows: ranged.rows, from, to });

    // Nothing matches: COUNT is 0, the others null.
    const none = await fresh(A, define({ dataset: 'deals', metrics, filters: [{ column: 'currency', operator: 'EQ', values: ['JPY'] }] }));
    expect(none.rows).toEqual([[0, 0, null, null, null, null, null, null, null, null]]);
  });

  it('bar and pie charts group by a dimension; a table by several, with several metrics', async () => {
    const bar = await fresh(A, define({ type: 'BAR', dataset: 'leads', dimensions: ['status'], metrics: [{ aggregate: 'COUNT' }] }));
    expect(bar.columns).toEqual([{ name: 'status', label: 'Status', type: 'STRING' }, { name: 'count', label: 'count', type: 'NUMBER' }]);
    const statusRows = grouped(A.leads, [(l) => l.status], [count]).sort((x, y) => byText(String(x[0]), String(y[0])));
    expect(bar.rows).toEqual(statusRows); // ordered by the dimension when no sort is given

    const pie = await fresh(A, define({ type: 'PIE', dataset: 'leads', dimensions: ['source'], metrics: [{ aggregate: 'SUM', column: 'score', label: 'score' }] }));
    expect(unordered(pie.rows)).toEqual(unordered(grouped(A.leads, [(l) => l.source], [sum<Lead>((l) => l.score)])));
    expect(pie.rows.at(-1)![0]).toBeNull(); // nulls last

    const table = await fresh(A, define({
      dataset: 'deals',
      dimensions: ['stage', 'currency', 'won'],
      metrics: [{ aggregate: 'COUNT' }, { aggregate: 'SUM', column: 'amount' }, { aggregate: 'AVG', column: 'probability' }, { aggregate: 'COUNT_DISTINCT', column: 'owner_id' }],
    }));
    expect(table.columns.map((c) => c.type)).toEqual(['STRING', 'STRING', 'BOOLEAN', 'NUMBER', 'NUMBER', 'NUMBER', 'NUMBER']);
    expect(unordered(table.rows)).toEqual(unordered(grouped(
      A.deals,
      [(d) => stageOf(A, d).name, (d) => d.currency, (d) => stageOf(A, d).kind === 'won'],
      [count, sum<Deal>((d) => d.amount), avg<Deal>((d) => d.probability), distinct<Deal>((d) => d.owner_id)],
    )));

    const activities = await fresh(A, define({ type: 'BAR', dataset: 'activities', dimensions: ['type', 'subject_kind'], metrics: [{ aggregate: 'COUNT' }, { aggregate: 'MAX', column: 'completed_at' }] }));
    const kind = (a: Activity) => (a.lead_id ? 'lead' : a.contact_id ? 'contact' : 'deal');
    expect(unordered(activities.rows)).toEqual(unordered(grouped(A.activities, [(a) => a.type, kind], [count, maxTime<Activity>((a) => a.completed_at)])));
    const done = await fresh(A, define({ dataset: 'activities', dimensions: ['done'], metrics: [{ aggregate: 'COUNT' }] }));
    expect(done.rows).toEqual(grouped(A.activities, [(a) => a.done], [count]).sort((x, y) => Number(x[0]) - Number(y[0])));
  });

  it('pages: status, section, revisions and publication per month from cms\'s facts', async () => {
    const status = (p: Page) => (p.state === 'scheduled' ? 'scheduled' : p.state === 'published' ? 'published' : 'draft');
    const byStatus = await fresh(A, define({ type: 'PIE', dataset: 'pages', dimensions: ['status'], metrics: [{ aggregate: 'COUNT' }] }));
    expect(unordered(byStatus.rows)).toEqual(unordered(grouped(A.pages, [status], [count])));
    const sections = await fresh(A, define({ dataset: 'pages', dimensions: ['section', 'depth'], metrics: [{ aggregate: 'SUM', column: 'revision_count' }, { aggregate: 'MAX', column: 'revision_count' }] }));
    expect(unordered(sections.rows)).toEqual(unordered(grouped(A.pages, [(p) => p.url_path.split('/')[1], (p) => p.depth], [sum<Page>((p) => p.revisions), max<Page>((p) => p.revisions)])));
    const changes = await fresh(A, define({ dataset: 'pages', dimensions: ['has_unpublished_changes'], metrics: [{ aggregate: 'COUNT' }] }));
    // As cms's hasUnpublishedChanges: the latest revision is not the live one.
    expect(unordered(changes.rows)).toEqual(unordered(grouped(A.pages, [(p) => p.state !== 'published' && p.revisions > 0], [count])));
    const published = await fresh(A, define({
      type: 'BAR', dataset: 'pages', timeColumn: 'published_at', timeGrain: 'MONTH', metrics: [{ aggregate: 'COUNT' }],
      filters: [{ column: 'status', operator: 'EQ', values: ['published'] }],
    }));
    const live = A.pages.filter((p) => p.state === 'published');
    expect(published.rows).toEqual(grouped(live, [(p) => truncate(p.first_published_at!, 'MONTH')], [count]).sort((x, y) => byText(String(x[0]), String(y[0]))));
    expect(published.rows.length).toBeGreaterThan(2);
  });

  it('orders and order lines: revenue per month, top products by revenue', async () => {
    const revenue = await fresh(A, define({ type: 'LINE', dataset: 'orders', timeGrain: 'MONTH', metrics: [{ aggregate: 'SUM', column: 'total_gross', label: 'revenue' }], filters: [{ column: 'paid', operator: 'EQ', values: [true] }] }));
    const paid = A.orders.filter((o) => o.paid);
    expect(rounded(revenue.rows)).toEqual(rounded(grouped(paid, [(o) => truncate(o.created_at, 'MONTH')], [sum<Order>((o) => o.total_gross)]).sort((x, y) => byText(String(x[0]), String(y[0])))));

    const lines = A.orders.flatMap((o) => o.lines.map((l) => ({ ...l, order: o })));
    const products = await fresh(A, define({
      type: 'BAR', dataset: 'order_lines', dimensions: ['product_name'],
      metrics: [{ aggregate: 'SUM', column: 'total_gross', label: 'revenue' }, { aggregate: 'SUM', column: 'quantity', label: 'units' }, { aggregate: 'COUNT_DISTINCT', column: 'order_id', label: 'orders' }],
      sort: [{ by: 'revenue', descending: true }], rowLimit: 2,
    }));
    const expected = grouped(lines, [(l) => l.product_name], [sum<(typeof lines)[number]>((l) => l.total_gross), sum<(typeof lines)[number]>((l) => l.quantity), distinct<(typeof lines)[number]>((l) => l.order.order_id)])
      .sort((x, y) => (y[1] as number) - (x[1] as number));
    expect(rounded(products.rows)).toEqual(rounded(expected.slice(0, 2)));
    // Lines are read alone unless the chart uses a column of their order.
    expect(statements.at(-1)).not.toContain('bi.orders');
    expect(products).toMatchObject({ rowCount: 2, truncated: true });
    // A line is dated, ranged and filtered by its order.
    const from = new Date('2024-01-01T00:00:00Z');
    const ranged = await fresh(A, define({ dataset: 'order_lines', metrics: [{ aggregate: 'SUM', column: 'quantity' }], timeRange: { from: from.toISOString() }, filters: [{ column: 'order_status', operator: 'IN', values: ['FULFILLED', 'UNFULFILLED'] }] }));
    expect(ranged.rows).toEqual([[sum<(typeof lines)[number]>((l) => l.quantity)(lines.filter((l) => l.order.created_at >= from && l.order.status !== 'CANCELED'))]]);
    expect(statements.at(-1)).toContain('JOIN bi.orders o');
  });

  it('line and area charts bucket by every grain in UTC', async () => {
    const from = new Date('2023-07-01T00:00:00Z');
    const to = new Date('2025-07-01T00:00:00Z');
    const inRange = A.leads.filter((l) => l.created_at >= from && l.created_at < to);
    for (const grain of ['DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'] as const) {
      const result = await fresh(A, define({ type: 'LINE', dataset: 'leads', timeGrain: grain, metrics: [{ aggregate: 'COUNT' }, { aggregate: 'AVG', column: 'score' }], timeRange: { from: from.toISOString(), to: to.toISOString() }, rowLimit: 10_000 }));
      expect(result.columns[0]).toEqual({ name: 'created_at', label: 'Created', type: 'TIME' });
      const expected = grouped(inRange, [(l) => truncate(l.created_at, grain)], [count, avg<Lead>((l) => l.score)]).sort((x, y) => byText(String(x[0]), String(y[0])));
      expect(rounded(result.rows), grain).toEqual(rounded(expected));
    }
    // Weeks start on Monday: the Sunday 2024-04-07 23:59:59.999 is in the week of 04-01, the next instant in the week of 04-08.
    const weeks = await fresh(A, define({ type: 'BAR', dataset: 'leads', timeGrain: 'WEEK', metrics: [{ aggregate: 'COUNT' }], timeRange: { from: '2024-04-07T23:59:59.999Z', to: '2024-04-08T00:00:00.001Z' } }));
    expect(weeks.rows).toEqual([['2024-04-01T00:00:00.000Z', 1], ['2024-04-08T00:00:00.000Z', 1]]);

    const area = await fresh(A, define({ type: 'AREA', dataset: 'deals', timeColumn: 'closed_at', timeGrain: 'QUARTER', dimensions: ['stage_kind'], metrics: [{ aggregate: 'SUM', column: 'amount' }] }));
    const closed = A.deals;
    expect(unordered(area.rows)).toEqual(unordered(grouped(closed, [(d) => (d.closed_at ? truncate(d.closed_at, 'QUARTER') : null), (d) => stageOf(A, d).kind], [sum<Deal>((d) => d.amount)])));
  });

  it('filters: EQ, EQ null, IN, RANGE (numbers, times, open ends), CONTAINS (case-insensitive, % and _ literal)', async () => {
    const leadsWhere = async (filters: unknown[]) => (await fresh(A, define({ dataset: 'leads', metrics: [{ aggregate: 'COUNT' }], filters }))).rows[0]![0];
    const countOf = (test: (l: Lead) => boolean) => A.leads.filter(test).length;
    expect(await leadsWhere([{ column: 'status', operator: 'EQ', values: ['qualified'] }])).toBe(countOf((l) => l.status === 'qualified'));
    expect(await leadsWhere([{ column: 'source', operator: 'EQ', values: [null] }])).toBe(countOf((l) => l.source === null));
    expect(await leadsWhere([{ column: 'source', operator: 'IN', values: ['web', 'ads', 'nothing'] }])).toBe(countOf((l) => l.source === 'web' || l.source === 'ads'));
    expect(await leadsWhere([{ column: 'score', operator: 'RANGE', values: [20, 40] }])).toBe(countOf((l) => l.score >= 20 && l.score < 40));
    expect(await leadsWhere([{ column: 'score', operator: 'RANGE', values: [null, 10] }])).toBe(countOf((l) => l.score < 10));
    expect(await leadsWhere([{ column: 'score', operator: 'RANGE', values: ['90.5', null] }])).toBe(countOf((l) => l.score >= 90.5));
    expect(await leadsWhere([{ column: 'score', operator: 'IN', values: [0, 50, 100] }])).toBe(countOf((l) => [0, 50, 100].includes(l.score)));
    const t1 = new Date('2024-04-01T00:00:00Z');
    expect(await leadsWhere([{ column: 'created_at', operator: 'RANGE', values: [t1.toISOString(), null] }])).toBe(countOf((l) => l.created_at >= t1));
    expect(await leadsWhere([{ column: 'created_at', operator: 'EQ', values: ['2024-04-01T00:00:00Z'] }])).toBe(countOf((l) => l.created_at.getTime() === t1.getTime()));
    expect(await leadsWhere([{ column: 'converted', operator: 'EQ', values: [true] }])).toBe(countOf((l) => l.converted_at !== null));
    expect(await leadsWhere([{ column: 'owner_id', operator: 'EQ', values: [A.ownerId] }])).toBe(countOf((l) => l.owner_id === A.ownerId));
    expect(await leadsWhere([{ column: 'owner_id', operator: 'IN', values: [A.ownerId, A.otherMemberId] }])).toBe(countOf((l) => l.owner_id !== null));
    expect(await leadsWhere([{ column: 'tags', operator: 'CONTAINS', values: ['VIP'] }])).toBe(countOf((l) => l.tags.includes('vip')));
    // CONTAINS: % and _ match themselves only; `o_x` does not match `promoax`.
    expect(await leadsWhere([{ column: 'source', operator: 'CONTAINS', values: ['%'] }])).toBe(countOf((l) => l.source === 'promo%'));
    expect(await leadsWhere([{ column: 'source', operator: 'CONTAINS', values: ['o_x'] }])).toBe(countOf((l) => l.source === 'promo_x'));
    expect(await leadsWhere([{ column: 'source', operator: 'CONTAINS', values: ['PROMO'] }])).toBe(countOf((l) => l.source?.startsWith('promo') ?? false));
    expect(await leadsWhere([{ column: 'source', operator: 'CONTAINS', values: ['\\'] }])).toBe(0);
    expect(countOf((l) => l.source === 'promo%') * countOf((l) => l.source === 'promo_x') * countOf((l) => l.source === 'promoax')).toBeGreaterThan(0);
    // Several filters are ANDed.
    expect(await leadsWhere([{ column: 'status', operator: 'IN', values: ['new', 'contacted'] }, { column: 'score', operator: 'RANGE', values: [50, null] }]))
      .toBe(countOf((l) => (l.status === 'new' || l.status === 'contacted') && l.score >= 50));
    const won = await fresh(A, define({ dataset: 'deals', metrics: [{ aggregate: 'SUM', column: 'amount' }], filters: [{ column: 'won', operator: 'EQ', values: [true] }, { column: 'expected_close_date', operator: 'RANGE', values: ['2024-01-01', '2025-01-01'] }] }));
    expect(rounded(won.rows)).toEqual(rounded([[sum<Deal>((d) => d.amount)(A.deals.filter((d) => stageOf(A, d).kind === 'won' && d.expected_close_date !== null && d.expected_close_date >= '2024-01-01' && d.expected_close_date < '2025-01-01'))]]));
  });

  it('sorts by metrics and dimensions (ties in dimension order), and truncates at the row limit', async () => {
    const rows = grouped(A.leads, [(l) => l.status, (l) => l.converted_at !== null], [count, max<Lead>((l) => l.score)]);
    const sorted = [...rows].sort((x, y) => (y[2] as number) - (x[2] as number) || byText(String(x[0]), String(y[0])) || Number(x[1]) - Number(y[1]));
    const definition = (rowLimit: number, sort: unknown[]) =>
      define({ type: 'TABLE', dataset: 'leads', dimensions: ['status', 'converted'], metrics: [{ aggregate: 'COUNT' }, { aggregate: 'MAX', column: 'score', label: 'top' }], sort, rowLimit });
    const full = await fresh(A, definition(100, [{ by: 'count', descending: true }]));
    expect(full.rows).toEqual(sorted);
    expect(full).toMatchObject({ rowCount: rows.length, truncated: false });
    const exact = await fresh(A, definition(rows.length, [{ by: 'count', descending: true }]));
    expect(exact).toMatchObject({ rowCount: rows.length, truncated: false });
    const cut = await fresh(A, definition(3, [{ by: 'count', descending: true }]));
    expect(cut.rows).toEqual(sorted.slice(0, 3));
    expect(cut).toMatchObject({ rowCount: 3, truncated: true });
    const byDimension = await fresh(A, definition(100, [{ by: 'status', descending: true }, { by: 'top' }]));
    expect(byDimension.rows).toEqual([...rows].sort((x, y) => byText(String(y[0]), String(x[0])) || (x[3] as number) - (y[3] as number) || Number(x[1]) - Number(y[1])));
    const one = await fresh(A, define({ dataset: 'leads', metrics: [{ aggregate: 'COUNT' }], rowLimit: 1 }));
    expect(one).toMatchObject({ rows: [[A.leads.length]], rowCount: 1, truncated: false });
  });
});

describe('daily rollups', () => {
  // Definitions a rollup answers (whole-day ranges, its dimensions, decomposable metrics) and the
  // rollup each must read; then definitions it must not answer.
  const NOW = new Date('2025-06-15T10:30:00Z');
  const FITTING: [string, Record<string, unknown>][] = [
    ['crm.lead_facts_daily', { type: 'LINE', dataset: 'leads', timeGrain: 'MONTH', metrics: [{ aggregate: 'COUNT' }, { aggregate: 'AVG', column: 'score' }], timeRange: { relative: 'LAST_365_DAYS' } }],
    ['crm.lead_facts_daily', { type: 'BAR', dataset: 'leads', timeGrain: 'WEEK', dimensions: ['source'], metrics: [{ aggregate: 'COUNT' }], timeRange: { relative: 'LAST_90_DAYS' } }],
    ['crm.lead_facts_daily', { dataset: 'leads', dimensions: ['status'], metrics: [{ aggregate: 'COUNT' }, { aggregate: 'MIN', column: 'score' }, { aggregate: 'MAX', column: 'score' }, { aggregate: 'SUM', column: 'score' }, { aggregate: 'COUNT_DISTINCT', column: 'source' }] }],
    ['crm.lead_facts_daily', { dataset: 'leads', timeGrain: 'DAY', metrics: [{ aggregate: 'COUNT' }], filters: [{ column: 'source', operator: 'CONTAINS', values: ['promo'] }, { column: 'status', operator: 'IN', values: ['new', 'converted'] }], timeRange: { from: '2024-03-31T00:00:00Z', to: '2024-07-02T00:00:00Z' } }],
    ['crm.lead_facts_daily', { type: 'BIG_NUMBER', dataset: 'leads', metrics: [{ aggregate: 'COUNT' }], filters: [{ column: 'source', operator: 'EQ', values: [null] }] }],
    ['crm.lead_facts_daily', { dataset: 'leads', metrics: [{ aggregate: 'COUNT' }, { aggregate: 'AVG', column: 'score' }], timeRange: { relative: 'TODAY' } }],
    ['bi.orders_daily', { type: 'AREA', dataset: 'orders', timeGrain: 'QUARTER', metrics: [{ aggregate: 'SUM', column: 'total_gross' }], filters: [{ column: 'paid', operator: 'EQ', values: [true] }], timeRange: { relative: 'LAST_365_DAYS' } }],
    ['bi.orders_daily', { dataset: 'orders', dimensions: ['status', 'paid'], metrics: [{ aggregate: 'COUNT' }, { aggregate: 'AVG', column: 'total_gross' }, { aggregate: 'MIN', column: 'total_net' }, { aggregate: 'MAX', column: 'total_net' }], timeGrain: 'YEAR' }],
    ['bi.order_lines_daily', { type: 'BAR', dataset: 'order_lines', dimensions: ['product_name'], metrics: [{ aggregate: 'SUM', column: 'total_gross', label: 'revenue' }, { aggregate: 'SUM', column: 'quantity' }, { aggregate: 'COUNT_DISTINCT', column: 'product_id' }], sort: [{ by: 'revenue', descending: true }], rowLimit: 2 }],
    ['bi.order_lines_daily', { dataset: 'order_lines', dimensions: ['product_id'], metrics: [{ aggregate: 'AVG', column: 'unit_price_gross' }, { aggregate: 'MAX', column: 'quantity' }], timeRange: { relative: 'LAST_YEAR' } }],
  ];
  const NOT_FITTING: Record<string, unknown>[] = [
    { dataset: 'leads', dimensions: ['owner_id'], metrics: [{ aggregate: 'COUNT' }] }, // not one of its dimensions
    { dataset: 'leads', metrics: [{ aggregate: 'COUNT' }], filters: [{ column: 'score', operator: 'RANGE', values: [50, null] }] }, // a filter on a measure
    { dataset: 'leads', metrics: [{ aggregate: 'COUNT_DISTINCT', column: 'id' }] }, // distinct of a non-dimension
    { dataset: 'leads', metrics: [{ aggregate: 'COUNT' }], timeRange: { from: '2024-03-31T12:00:00Z', to: '2024-07-01T00:00:00Z' } }, // not whole days
    { dataset: 'leads', timeColumn: 'converted_at', timeGrain: 'MONTH', metrics: [{ aggregate: 'COUNT' }] }, // another time column
    { dataset: 'order_lines', dimensions: ['channel'], metrics: [{ aggregate: 'COUNT' }] }, // the order's column
  ];
  const readsFrom = async (facts: Facts, definition: ChartDefinition, options: { rollups?: boolean } = {}) => {
    statements = [];
    const result = await fresh(facts, definition, { now: NOW, ...options });
    return { rows: result.rows, text: statements.join('\n') };
  };
  const expectSameAnswers = async (facts: Facts) => {
    for (const [source, input] of FITTING) {
      const definition = define(input);
      const rolled = await readsFrom(facts, definition);
      const raw = await readsFrom(facts, definition, { rollups: false });
      expect(rolled.text, JSON.stringify(input)).toContain(`FROM ${source}`);
      expect(raw.text).not.toContain('_daily');
      expect(rolled.rows, JSON.stringify(input)).toEqual(raw.rows);
    }
  };

  it("each dataset's rollup has the columns its declaration promises, readable by the app role", async () => {
    const withRollups = DATASETS.filter((dataset) => dataset.rollup);
    expect(withRollups.map((dataset) => dataset.name).sort()).toEqual(['leads', 'order_lines', 'orders']);
    for (const { name, rollup } of withRollups) {
      for (const column of [...rollup!.dimensions, ...rollup!.measures, rollup!.timeColumn]) expect(datasetByName(name)!.columns.some((c) => c.name === column), `${name}.${column}`).toBe(true);
      const columns = ['day', 'facts', ...rollup!.dimensions, ...rollup!.measures.flatMap((m) => [`${m}_sum`, `${m}_count`, `${m}_min`, `${m}_max`])];
      await backends.db.withTenant({ tenantId: A.tenantId, accountId: null }, (tx) => tx.query(`SELECT ${columns.join(', ')} FROM ${rollup!.source} LIMIT 1`));
    }
  });

  it('answer the charts that fit them exactly as the facts do, and the others read the facts', async () => {
    await expectSameAnswers(A);
    await expectSameAnswers(B);
    for (const input of NOT_FITTING) {
      const { text } = await readsFrom(A, define(input));
      expect(text, JSON.stringify(input)).not.toContain('_daily');
    }
    // Independently of the facts' path too: leads per status against the inserted rows.
    const byStatus = await fresh(A, define({ dataset: 'leads', dimensions: ['status'], metrics: [{ aggregate: 'COUNT' }, { aggregate: 'AVG', column: 'score' }] }));
    expect(unordered(byStatus.rows)).toEqual(unordered(grouped(A.leads, [(l) => l.status], [count, avg<Lead>((l) => l.score)])));
  });

  it('two transactions writing the same day take turns: the rollup counts both', async () => {
    const scope = { tenantId: A.tenantId, accountId: null };
    const day = '2025-06-14T12:00:00Z';
    const insert = (tx: { query(text: string, values?: unknown[]): Promise<unknown> }, name: string) =>
      tx.query(`INSERT INTO crm.leads (tenant_id, name, status, source, score, created_at) VALUES (current_setting('app.tenant_id')::uuid, $1, 'new', 'web', 5, $2)`, [name, day]);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let firstInserted!: () => void;
    const inserted = new Promise<void>((resolve) => (firstInserted = resolve));
    const first = backends.db.withTenant(scope, async (tx) => {
      await insert(tx, 'Concurrent 1');
      firstInserted();
      await held; // the day's lock is held until this transaction ends
    });
    await inserted;
    let secondDone = false;
    const second = backends.db.withTenant(scope, (tx) => insert(tx, 'Concurrent 2')).then(() => (secondDone = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(secondDone).toBe(false); // waiting for the first writer of that day
    release();
    await Promise.all([first, second]);
    try {
      const today = define({ dataset: 'leads', metrics: [{ aggregate: 'COUNT' }], timeRange: { from: '2025-06-14T00:00:00Z', to: '2025-06-15T00:00:00Z' } });
      const rolled = await readsFrom(A, today);
      expect(rolled.text).toContain('FROM crm.lead_facts_daily');
      expect(rolled.rows).toEqual((await readsFrom(A, today, { rollups: false })).rows);
      expect(rolled.rows[0]![0]).toBe(A.leads.filter((l) => l.created_at.toISOString().startsWith('2025-06-14')).length + 2);
    } finally {
      await backends.db.withTenant(scope, (tx) => tx.query(`DELETE FROM crm.leads WHERE name LIKE 'Concurrent %'`));
    }
  });

  it('follow every write of the facts in its transaction: inserts, updates that move rows between days or groups, deletes', async () => {
    const scope = { tenantId: A.tenantId, accountId: null };
    await backends.db.withTenant(scope, async (tx) => {
      const lead = A.leads[10]!;
      await tx.query(`UPDATE crm.leads SET status = 'converted', score = 100, source = 'moved' WHERE id = $1`, [lead.id]);
      await tx.query(`UPDATE crm.leads SET created_at = created_at - interval '400 days' WHERE id = $1`, [A.leads[11]!.id]);
      await tx.query(`UPDATE crm.leads SET name = 'renamed' WHERE id = $1`, [A.leads[12]!.id]);
      await tx.query(`DELETE FROM crm.leads WHERE id = $1`, [A.leads[13]!.id]);
      await tx.query(
        `INSERT INTO crm.leads (tenant_id, name, status, source, score, created_at) VALUES (current_setting('app.tenant_id')::uuid, 'New', 'new', 'web', 7, '2025-06-14T23:00:00Z')`,
      );
      const order = A.orders[0]!;
      await tx.query(`UPDATE bi.orders SET status = 'CANCELED', paid = NOT paid, total_gross = total_gross + 1000 WHERE order_id = $1`, [order.order_id]);
      await tx.query(`UPDATE bi.order_lines SET quantity = quantity + 10, product_name = 'Renamed' WHERE order_id = $1`, [A.orders[1]!.order_id]);
      await tx.query(`DELETE FROM bi.orders WHERE order_id = $1`, [A.orders[2]!.order_id]); // its lines go too (cascade)
    });
    try {
      await expectSameAnswers(A);
      await expectSameAnswers(B);
    } finally {
      // Back to the facts the other tests compute from.
      await backends.db.withTenant(scope, async (tx) => {
        await tx.query(`DELETE FROM crm.leads WHERE name = 'New' AND score = 7`);
        await tx.query(`DELETE FROM bi.orders WHERE order_id = ANY($1)`, [A.orders.slice(0, 3).map((o) => o.order_id)]);
      });
      const restoreLeads = [A.leads[10]!, A.leads[11]!, A.leads[13]!];
      await backends.db.withTenant(scope, async (tx) => {
        await tx.query(`DELETE FROM crm.leads WHERE id = ANY($1::uuid[])`, [restoreLeads.map((l) => l.id)]);
        await tx.query(
          `INSERT INTO crm.leads (tenant_id, id, name, status, source, score, owner_id, tags, created_at, converted_at)
           SELECT current_setting('app.tenant_id')::uuid, id, 'Lead ' || id, status, source, score, owner_id, tags, created_at, converted_at
           FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, status text, source text, score int, owner_id uuid, tags text[], created_at timestamptz, converted_at timestamptz)`,
          [JSON.stringify(restoreLeads)],
        );
        await insertOrders(tx, A.orders.slice(0, 3));
      });
      await new CacheGenerations(backends.deps('bi').redis, backends.config.REDIS_PREFIX, 'crm').bump(A.tenantId);
      await new CacheGenerations(backends.deps('bi').redis, backends.config.REDIS_PREFIX, 'bi').bump(A.tenantId);
    }
  });
});

describe('tenancy, cache and freshness', () => {
  const BY_SOURCE = { type: 'BAR', dataset: 'leads', dimensions: ['source'], metrics: [{ aggregate: 'COUNT' }, { aggregate: 'SUM', column: 'score' }] };
  const expectedBySource = (facts: Facts) => unordered(grouped(facts.leads, [(l) => l.source], [count, sum<Lead>((l) => l.score)]));

  it('each tenant sees only its own facts, computed and from the cache', async () => {
    const definition = define(BY_SOURCE);
    for (let round = 0; round < 2; round++) {
      statements = [];
      const a = await chartData(context(A), definition);
      const b = await chartData(context(B), definition);
      expect(unordered(a.rows)).toEqual(expectedBySource(A));
      expect(unordered(b.rows)).toEqual(expectedBySource(B));
      expect(a.rows.some((row) => row[0] === 'globextag')).toBe(false);
      expect(b.rows.some((row) => row[0] === 'acmetag')).toBe(false);
      if (round === 1) expect(statements).toEqual([]); // both from the cache, each its own entry
    }
    // Every dataset: B's rows never reach A (B's order ids, page ids, lead ids).
    for (const dataset of ['leads', 'deals', 'activities', 'pages'] as const) {
      const ids = await chartData(context(A), define({ dataset, dimensions: [], metrics: [{ aggregate: 'COUNT_DISTINCT', column: 'id' }] }));
      expect(ids.rows, dataset).toEqual([[{ leads: A.leads, deals: A.deals, activities: A.activities, pages: A.pages }[dataset].length]]);
      const foreign = await chartData(context(A), define({ dataset, metrics: [{ aggregate: 'COUNT' }], filters: [{ column: 'id', operator: 'IN', values: (B[dataset] as { id: string }[]).map((row) => row.id).slice(0, 1000) }] }));
      expect(foreign.rows, dataset).toEqual([[0]]);
    }
    const orders = await chartData(context(A), define({ dataset: 'orders', dimensions: ['channel'], metrics: [{ aggregate: 'COUNT' }] }));
    expect(orders.rows).toEqual([['acmetag-channel', A.orders.length]]);
    const lines = await chartData(context(B), define({ dataset: 'order_lines', dimensions: ['channel'], metrics: [{ aggregate: 'COUNT' }] }));
    expect(lines.rows).toEqual([['globextag-channel', B.orders.reduce((n, o) => n + o.lines.length, 0)]]);
  });

  it('a crm write bumps crm\'s generation, so the next chart data are fresh', async () => {
    const definition = define({ ...BY_SOURCE, filters: [{ column: 'source', operator: 'IN', values: ['fresh', 'web'] }] });
    const before = await chartData(context(A), definition);
    statements = [];
    expect(await chartData(context(A), definition)).toEqual(before);
    expect(statements).toEqual([]); // cached

    const token = await signToken(backends.keys.privateJwk, { sub: A.ownerId, tid: A.tenantId, roles: ['owner'] });
    const created = await gql(crmUrl, 'mutation { createLead(input: { name: "Fresh", source: "fresh" }) { errors { code } } }', {}, bearer(token));
    expect(created.data).toEqual({ createLead: { errors: [] } });

    const after = await chartData(context(A), definition);
    expect(statements.length).toBeGreaterThan(0);
    expect(unordered(after.rows)).toEqual(unordered([...before.rows, ['fresh', 1, 0]]));
    expect(after.computedAt.getTime()).toBeGreaterThan(before.computedAt.getTime());
    // Tenant B's cached charts were not touched by A's write.
    const bBefore = await chartData(context(B), definition);
    statements = [];
    await chartData(context(B), definition);
    expect(statements).toEqual([]);
    expect(bBefore.rows.some((row) => row[0] === 'fresh')).toBe(false);
    // Back to the facts the other tests compute from (and crm's generation moved again).
    await backends.db.withTenant({ tenantId: A.tenantId, accountId: null }, (tx) => tx.query(`DELETE FROM crm.leads WHERE source = 'fresh'`));
    await new CacheGenerations(backends.deps('bi').redis, backends.config.REDIS_PREFIX, 'crm').bump(A.tenantId);
  });

  it('new order facts (bi\'s generation) and cms writes (cms\'s) refresh charts on their datasets', async () => {
    const orders = define({ type: 'BIG_NUMBER', dataset: 'orders', metrics: [{ aggregate: 'COUNT' }] });
    const pages = define({ type: 'BIG_NUMBER', dataset: 'pages', metrics: [{ aggregate: 'COUNT' }] });
    expect((await chartData(context(A), orders)).rows).toEqual([[A.orders.length]]);
    expect((await chartData(context(A), pages)).rows).toEqual([[A.pages.length]]);
    await backends.db.withTenant({ tenantId: A.tenantId, accountId: null }, (tx) =>
      tx.query(`INSERT INTO bi.orders (tenant_id, order_id, number, channel, status, paid, total_gross, total_net, currency, created_at, updated_at)
                VALUES (current_setting('app.tenant_id')::uuid, 'new-order', '9999', 'acmetag-channel', 'UNFULFILLED', false, 1, 1, 'USD', now(), now())`),
    );
    const redis = backends.deps('bi').redis;
    const prefix = backends.config.REDIS_PREFIX;
    // Until the generation moves, the cached answer stands (what the TTL bounds) ...
    expect((await chartData(context(A), orders)).rows).toEqual([[A.orders.length]]);
    // ... and what bi's webhook handler does after storing order facts makes it fresh.
    await new CacheGenerations(redis, prefix, 'bi').bump(A.tenantId);
    expect((await chartData(context(A), orders)).rows).toEqual([[A.orders.length + 1]]);
    await backends.db.withTenant({ tenantId: A.tenantId, accountId: null }, (tx) => tx.query(`DELETE FROM bi.orders WHERE order_id = 'new-order'`));
    await new CacheGenerations(redis, prefix, 'bi').bump(A.tenantId);
    expect((await chartData(context(A), orders)).rows).toEqual([[A.orders.length]]);
    // A cms generation bump (what a cms mutation does) refreshes page charts. (bi's bumps above
    // refreshed every chart of the tenant: bi's generation is in every key.)
    await chartData(context(A), pages);
    statements = [];
    await chartData(context(A), pages);
    expect(statements).toEqual([]);
    await new CacheGenerations(redis, prefix, 'cms').bump(A.tenantId);
    await chartData(context(A), pages);
    expect(statements.length).toBeGreaterThan(0);
  });

  it('caches per definition, extra filters and resolved range; extra filters apply only where the dataset has the column', async () => {
    const definition = define({ type: 'BIG_NUMBER', dataset: 'leads', metrics: [{ aggregate: 'COUNT' }], timeRange: { relative: 'THIS_YEAR' } });
    const y2024 = await chartData(context(A), definition, { now: new Date('2024-06-01T00:00:00Z') });
    const y2025 = await chartData(context(A), definition, { now: new Date('2025-06-01T00:00:00Z') });
    expect(y2024.rows).toEqual([[A.leads.filter((l) => l.created_at.getUTCFullYear() === 2024).length]]);
    expect(y2025.rows).toEqual([[A.leads.filter((l) => l.created_at.getUTCFullYear() === 2025).length]]);
    const extra = [{ column: 'status', operator: 'EQ' as const, values: ['new'] }, { column: 'channel', operator: 'EQ' as const, values: ['x'] }];
    const filtered = await chartData(context(A), definition, { now: new Date('2024-06-01T00:00:00Z'), extraFilters: extra });
    expect(filtered.rows).toEqual([[A.leads.filter((l) => l.created_at.getUTCFullYear() === 2024 && l.status === 'new').length]]);
    // `status` applies to pages too, `channel` to orders only.
    const pages = await chartData(context(A), define({ type: 'BIG_NUMBER', dataset: 'pages', metrics: [{ aggregate: 'COUNT' }] }), { extraFilters: extra });
    expect(pages.rows).toEqual([[0]]);
    await expect(chartData(context(A), definition, { extraFilters: [{ column: 'score', operator: 'EQ', values: ['high'] }] })).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('definitions that differ only in labels share cached rows, each with its own column names', async () => {
    const labelled = (label: string) => define({ type: 'BAR', dataset: 'leads', metrics: [{ aggregate: 'COUNT', label }], dimensions: ['status'] });
    const first = await chartData(context(A), labelled('leads'));
    const second = await chartData(context(A), labelled('how many'));
    expect(second.rows).toEqual(first.rows);
    expect(first.columns.map((c) => c.name)).toEqual(['status', 'leads']);
    expect(second.columns.map((c) => c.name)).toEqual(['status', 'how many']);
  });

  it('with CACHE_TTL_SECONDS 0 or Redis unreachable, every call computes', async () => {
    const definition = define(BY_SOURCE);
    for (const deps of [
      { ...backends.deps('bi'), config: { ...backends.config, CACHE_TTL_SECONDS: 0 } },
      { ...backends.deps('bi'), redis: createRedis({ REDIS_URL: UNREACHABLE_REDIS_URL }) },
    ]) {
      deps.redis.on('error', () => undefined);
      for (let i = 0; i < 2; i++) {
        statements = [];
        const result = await chartData(context(A, deps), definition);
        expect(unordered(result.rows)).toEqual(expectedBySource(A));
        expect(statements.length).toBeGreaterThan(0);
      }
      if (deps.redis !== backends.deps('bi').redis) deps.redis.disconnect();
    }
  });

  it('a query past its statement timeout is cancelled and reported as such, not left holding a connection', async () => {
    const definition = define({ type: 'BIG_NUMBER', dataset: 'leads', metrics: [{ aggregate: 'COUNT' }] });
    // The owner holds a lock the chart's read must wait for: the wait is what runs out.
    await backends.deps('crm').asOwner(async (tx) => {
      // (Both what the chart could read: the leads and their daily rollup.)
      await tx.query('LOCK TABLE crm.leads, crm.leads_daily IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      await expect(fresh(A, definition, { statementTimeoutMs: 300 })).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' }, message: expect.stringMatching(/too long/) });
      expect(Date.now() - started).toBeLessThan(5_000);
    });
    expect((await fresh(A, definition)).rows).toEqual([[A.leads.length]]);
  });

  it('a definition that skipped validation still cannot put anything but the dataset\'s own names in SQL', async () => {
    const valid = define({ type: 'BAR', dataset: 'leads', timeGrain: 'MONTH', dimensions: ['status'], metrics: [{ aggregate: 'COUNT' }] });
    const tampered: ChartDefinition[] = [
      { ...valid, dataset: 'crm.leads' },
      { ...valid, dimensions: ['email'] },
      { ...valid, dimensions: ['id'] },
      { ...valid, timeGrain: 'constructor' as never },
      { ...valid, timeColumn: 'status' },
      { ...valid, metrics: [{ aggregate: 'toString' as never, column: 'score', label: 'x' }] },
      { ...valid, metrics: [{ aggregate: 'SUM', column: 'status', label: 'x' }] },
      { ...valid, filters: [{ column: 'password_hash', operator: 'EQ', values: ['x'] }] },
      { ...valid, filters: [{ column: 'status', operator: 'LIKE' as never, values: ['x'] }] },
      { ...valid, sort: [{ by: '1; DROP TABLE crm.leads', descending: false }] },
      { ...valid, rowLimit: 0 },
    ];
    statements = [];
    for (const definition of tampered) await expect(fresh(A, definition), JSON.stringify(definition)).rejects.toThrow();
    expect(statements).toEqual([]);
  });

  it('hostile filter values are parameters: they never reach the SQL text', async () => {
    const values = ["'; DROP TABLE crm.leads; --", "x' OR '1'='1", '$1 OR true', 'é', "') UNION SELECT password_hash FROM auth.accounts --"];
    statements = [];
    for (const value of values) {
      const result = await fresh(A, define({ dataset: 'leads', metrics: [{ aggregate: 'COUNT' }], filters: [{ column: 'source', operator: 'IN', values: [value] }, { column: 'status', operator: 'CONTAINS', values: [value] }] }));
      expect(result.rows).toEqual([[0]]);
    }
    expect(statements.length).toBeGreaterThan(0);
    for (const text of statements) for (const value of values) expect(text).not.toContain(value);
    const stillThere = await fresh(A, define({ dataset: 'leads', metrics: [{ aggregate: 'COUNT' }] }));
    expect(stillThere.rows).toEqual([[A.leads.length]]);
  });
});

describe('on embedded PGlite (the default without DATABASE_URL)', () => {
  let embedded: TestBackends;
  let facts: Facts;

  beforeAll(async () => {
    embedded = await createTestBackends({}, { embedded: true });
    await embedded.migrate([auth.migrations!, crm.migrations!, cms.migrations!, BI_MIGRATIONS]);
    const tenant = await createTenant('bi-embedded', embedded.db);
    facts = makeFacts(tenant.tenantId, tenant.ownerId, tenant.otherMemberId, 3, { leads: 80, deals: 30, tag: 'embeddedtag' });
    await insertFacts(embedded.db, facts);
  });
  afterAll(() => embedded?.close());

  const run = (definition: ChartDefinition, options: Parameters<typeof chartData>[2] = {}) =>
    chartData({ deps: embedded.deps('bi'), tx: sharedReads(embedded.db, { tenantId: facts.tenantId, accountId: null }), principal: { tenantId: facts.tenantId } }, definition, options);

  it('computes the same charts: grains in UTC, relative ranges, filters, every dataset', async () => {
    for (const grain of ['DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'] as const) {
      const result = await run(define({ type: 'LINE', dataset: 'leads', timeGrain: grain, metrics: [{ aggregate: 'COUNT' }, { aggregate: 'SUM', column: 'score' }] }));
      const expected = grouped(facts.leads, [(l) => truncate(l.created_at, grain)], [count, sum<Lead>((l) => l.score)]).sort((x, y) => byText(String(x[0]), String(y[0])));
      expect(result.rows, grain).toEqual(expected);
    }
    const now = new Date('2024-04-01T00:00:00Z');
    const lastQuarter = await run(define({ type: 'BIG_NUMBER', dataset: 'leads', metrics: [{ aggregate: 'COUNT' }], timeRange: { relative: 'LAST_QUARTER' } }), { now });
    expect(lastQuarter.rows).toEqual([[facts.leads.filter((l) => l.created_at >= new Date('2024-01-01T00:00:00Z') && l.created_at < now).length]]);
    const promo = await run(define({ dataset: 'leads', metrics: [{ aggregate: 'COUNT' }], filters: [{ column: 'source', operator: 'CONTAINS', values: ['o_x'] }] }));
    expect(promo.rows).toEqual([[facts.leads.filter((l) => l.source === 'promo_x').length]]);
    const stages = await run(define({ type: 'BAR', dataset: 'deals', dimensions: ['stage'], metrics: [{ aggregate: 'SUM', column: 'amount' }] }));
    expect(unordered(stages.rows)).toEqual(unordered(grouped(facts.deals, [(d) => stageOf(facts, d).name], [sum<Deal>((d) => d.amount)])));
    for (const dataset of ['activities', 'pages', 'orders', 'order_lines']) {
      const result = await run(define({ type: 'BIG_NUMBER', dataset, metrics: [{ aggregate: 'COUNT' }] }));
      const expected = { activities: facts.activities.length, pages: facts.pages.length, orders: facts.orders.length, order_lines: facts.orders.reduce((n, o) => n + o.lines.length, 0) }[dataset];
      expect(result.rows, dataset).toEqual([[expected]]);
    }
  });
});
