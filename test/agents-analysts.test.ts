import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentAuditor } from '../subgraphs/agents/analysts/content-auditor.ts';
import { leadScorer } from '../subgraphs/agents/analysts/lead-scorer.ts';
import { pipelineAnalyst } from '../subgraphs/agents/analysts/pipeline-analyst.ts';
import { salesSummary } from '../subgraphs/agents/analysts/sales-summary.ts';
import type { AgentKindDefinition, AnalystContext, InsightDraft } from '../subgraphs/agents/analysts/types.ts';
import { createGatewayClient } from '../subgraphs/agents/gateway-client.ts';
import { gatewayAccessSettings } from '../subgraphs/agents/gateway-settings.ts';
import { RunError } from '../subgraphs/agents/run-error.ts';
import { DEMO_ACCOUNTS, DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import { orders as demoOrders, products as catalog } from '../subgraphs/saleor/catalog.ts';
import { toGlobalId } from '../subgraphs/saleor/ids.ts';
import { bearer, gql, login } from './support/graphql.ts';
import { startSupergraph, type RunningSupergraph } from './support/stack.ts';

// The built-in analysts (agents/analysts) run against the real supergraph over HTTP, as a member
// (the gateway client with that member's token), with the demo tenants plus data made through
// the gateway. Each kind's insights are checked against facts computed here with SQL on the
// subgraphs' tables; the lead scorer's scores land on the leads, a viewer's scorer writes nothing,
// and globex's runs see none of acme's data.

type Who = 'owner' | 'viewer' | 'globex';
const EMAILS: Record<Who, string> = { owner: 'owner@acme.example', viewer: 'viewer@acme.example', globex: 'owner@globex.example' };
const [ACME, GLOBEX] = DEMO_TENANTS;
const tenantOf = (who: Who) => (who === 'globex' ? GLOBEX : ACME);
const DAY = 86_400_000;

let stack: RunningSupergraph;
const tokens = {} as Record<Who, string>;

beforeAll(async () => {
  stack = await startSupergraph();
  for (const who of Object.keys(EMAILS) as Who[]) tokens[who] = await login(stack.graphql, EMAILS[who]);
});
afterAll(() => stack?.close());

/** The member's GraphQL at the gateway (checked: no errors). */
async function call<T = any>(who: Who, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const result = await gql<T>(stack.graphql, query, variables, bearer(tokens[who]));
  expect(result.errors).toBeUndefined();
  return result.data as T;
}

/** SQL in a tenant's transaction (row-level security as the app role): the facts the insights must match. */
const sql = async <T = any>(tenantId: string, text: string, params: unknown[] = []): Promise<T[]> =>
  stack.backends.db.withTenant({ tenantId, accountId: null }, async (tx) => (await tx.query(text, params)).rows as T[]);

/** Runs a kind as the member, with the real gateway client and the member's token. */
async function run(kind: AgentKindDefinition, who: Who, settings: Record<string, unknown> = {}, now = new Date()) {
  const deps = {
    config: stack.backends.config,
    env: stack.backends.env,
    settings: gatewayAccessSettings.parse({ AGENTS_GATEWAY_URL: stack.graphql }),
    log: stack.backends.deps('agents').log,
  };
  const signal = new AbortController().signal;
  const progress: { percent: number; step: string }[] = [];
  const ctx: AnalystContext = {
    tenantId: tenantOf(who).id,
    accountId: DEMO_ACCOUNTS.find((a) => a.email === EMAILS[who])!.id,
    runId: randomUUID(),
    settings: kind.settings.parse(settings),
    input: {},
    gateway: createGatewayClient(deps as never, { token: async () => tokens[who] }, signal),
    tx: () => Promise.reject(new Error('the analysts do not use the agents tables')),
    signal,
    progress: async (percent, step) => void progress.push({ percent, step }),
    log: async () => undefined,
    model: null,
    now,
  };
  const { insights } = await kind.run(ctx);
  for (const insight of insights) {
    expect(insight.title.length).toBeLessThanOrEqual(200);
    expect(insight.body.length).toBeLessThanOrEqual(20_000);
  }
  expect(progress.map((p) => p.percent)).toEqual([...progress.map((p) => p.percent)].sort((a, b) => a - b));
  return insights;
}

const only = (insights: InsightDraft[], kind: string) => insights.filter((i) => i.kind === kind);
const one = (insights: InsightDraft[], kind: string) => {
  const found = only(insights, kind);
  expect(found).toHaveLength(1);
  return found[0]!;
};
const ev = (insight: InsightDraft) => insight.evidence as any;
const sorted = (values: Iterable<string>) => [...values].sort();

describe('crm: when a deal entered its stage', () => {
  it('is its creation until moveDeal moves it; a move to the same stage keeps it', async () => {
    const { pipeline } = await call('owner', '{ pipeline { stages { stage { id kind } } } }');
    const open = pipeline.stages.map((s: any) => s.stage).filter((s: any) => s.kind === 'OPEN');
    const created = await call('owner', 'mutation($i: DealCreateInput!) { createDeal(input: $i) { deal { id stageEnteredAt createdAt stage { id } } errors { code } } }', {
      i: { title: 'Stage clock', stageId: open[0].id },
    });
    const deal = created.createDeal.deal;
    expect(deal.stageEnteredAt).toBe(deal.createdAt);
    const MOVE = 'mutation($id: ID!, $s: ID!) { moveDeal(id: $id, stageId: $s) { deal { stageEnteredAt } errors { code } } }';
    const moved = (await call('owner', MOVE, { id: deal.id, s: open[1].id })).moveDeal.deal.stageEnteredAt;
    expect(Date.parse(moved)).toBeGreaterThan(Date.parse(deal.createdAt));
    expect((await call('owner', MOVE, { id: deal.id, s: open[1].id })).moveDeal.deal.stageEnteredAt).toBe(moved);
    // The analyses below run on the demo pipeline: this deal goes again.
    await call('owner', 'mutation($id: ID!) { deleteDeal(id: $id) { deletedId } }', { id: deal.id });
  });
});

describe('lead scorer', () => {
  const scores = (tenantId: string) => sql<{ id: string; score: number }>(tenantId, 'SELECT id, score FROM crm.leads ORDER BY id');

  it("a viewer's run fails FORBIDDEN, not retryable, and writes nothing; report-only it succeeds", async () => {
    const before = await scores(ACME.id);
    const failure = await run(leadScorer, 'viewer').then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(RunError);
    expect(failure).toMatchObject({ code: 'FORBIDDEN', retryable: false, message: expect.stringMatching(/may not update leads/) });
    expect(await scores(ACME.id)).toEqual(before);
    const reportOnly = await run(leadScorer, 'viewer', { writeScores: false });
    expect(ev(one(reportOnly, 'lead_score_summary')).written).toBe(0);
    expect(await scores(ACME.id)).toEqual(before);
  });

  it("scores the open leads from the tenant's own history, explains them and writes them to the leads", async () => {
    // A source that converts (8 of 9) and one that never does (0 of 9), then one open lead of each.
    const createLeads = async (inputs: Record<string, unknown>[]) => {
      const fields = inputs.map((_, i) => `l${i}: createLead(input: $i${i}) { lead { id } errors { code } }`).join(' ');
      const params = inputs.map((_, i) => `$i${i}: LeadCreateInput!`).join(', ');
      const data = await call('owner', `mutation(${params}) { ${fields} }`, Object.fromEntries(inputs.map((input, i) => [`i${i}`, { email: 'x@example.com', company: 'Co', ...input }])));
      return inputs.map((_, i) => data[`l${i}`].lead.id as string);
    };
    const fairs = await createLeads([...Array(9).keys()].map((i) => ({ name: `Fair ${i}`, source: 'trade-fair', status: i < 8 ? 'QUALIFIED' : 'UNQUALIFIED' })));
    const [fair, cold] = await createLeads([
      ...[...Array(9).keys()].map((i) => ({ name: `Cold ${i}`, source: 'cold-list', status: 'UNQUALIFIED' })),
      { name: 'Open fair', source: 'trade-fair', status: 'CONTACTED' },
      { name: 'Open cold', source: 'cold-list', status: 'CONTACTED' },
    ]).then((ids) => ids.slice(9));
    const converts = fairs.slice(0, 8).map((_, i) => `c${i}: convertLead(id: $c${i}) { errors { code } }`).join(' ');
    await call('owner', `mutation(${fairs.slice(0, 8).map((_, i) => `$c${i}: ID!`).join(', ')}) { ${converts} }`, Object.fromEntries(fairs.slice(0, 8).map((id, i) => [`c${i}`, id])));

    const insights = await run(leadScorer, 'owner', { topLeads: 10 });
    const summary = ev(one(insights, 'lead_score_summary'));

    // The history, counted here: converted (unless its deal was lost) against unqualified or lost.
    const [history] = await sql(
      ACME.id,
      `SELECT count(*) FILTER (WHERE won)::int AS won, count(*) FILTER (WHERE NOT won)::int AS lost FROM (
         SELECT l.status = 'converted' AND coalesce(s.kind, '') <> 'lost' AS won
         FROM crm.leads l LEFT JOIN crm.deals d ON d.lead_id = l.id LEFT JOIN crm.pipeline_stages s ON s.id = d.stage_id
         WHERE l.status IN ('converted', 'unqualified')) h`,
    );
    expect(summary.history).toEqual(history);
    const bySource = await sql(
      ACME.id,
      `SELECT lower(coalesce(nullif(trim(l.source), ''), '(none)')) AS source,
         count(*) FILTER (WHERE l.status = 'converted' AND coalesce(s.kind, '') <> 'lost')::int AS won,
         count(*) FILTER (WHERE NOT (l.status = 'converted' AND coalesce(s.kind, '') <> 'lost'))::int AS lost
       FROM crm.leads l LEFT JOIN crm.deals d ON d.lead_id = l.id LEFT JOIN crm.pipeline_stages s ON s.id = d.stage_id
       WHERE l.status IN ('converted', 'unqualified') GROUP BY 1`,
    );
    expect(Object.fromEntries(summary.sources.map((s: any) => [s.source, { won: s.won, lost: s.lost }]))).toEqual(
      Object.fromEntries(bySource.map((s) => [s.source, { won: s.won, lost: s.lost }])),
    );
    expect(summary.sources.find((s: any) => s.source === 'trade-fair')).toMatchObject({ won: 8, lost: 1 });

    // Every open lead is scored, and the scores are on the leads now.
    const open = await sql<{ id: string; score: number }>(ACME.id, "SELECT id, score FROM crm.leads WHERE status IN ('new', 'contacted', 'qualified') ORDER BY score DESC, id");
    expect(summary.scored).toBe(open.length);
    expect(summary.written + summary.unchanged).toBe(open.length);
    expect(summary.written).toBeGreaterThan(0);
    const top = only(insights, 'lead_score');
    expect(top).toHaveLength(10);
    expect(top.map((i) => ev(i).score)).toEqual(open.slice(0, 10).map((l) => l.score));
    const stored = new Map(open.map((l) => [l.id, l.score]));
    for (const insight of top) {
      expect(insight.subject).toEqual({ type: 'Lead', id: expect.any(String) });
      expect(stored.get(insight.subject!.id)).toBe(ev(insight).score);
      // The score is the sum of its explained factors on the base rate's log-odds.
      const { baseRate, factors, score } = ev(insight);
      const logOdds = Math.log(baseRate / (1 - baseRate)) + factors.reduce((a: number, f: any) => a + f.effect, 0);
      expect(Math.abs(100 / (1 + Math.exp(-logOdds)) - score)).toBeLessThanOrEqual(0.51);
      expect(factors.map((f: any) => f.factor)).toEqual(['Source', 'Contact fields', 'Activities', 'Owner', 'Status', 'Recency']);
    }
    // The factors' inputs, counted here: activities logged on the lead, contact fields present.
    const facts = await sql<{ id: string; activities: number; fields: number }>(
      ACME.id,
      `SELECT l.id, (SELECT count(*)::int FROM crm.activities a WHERE a.lead_id = l.id) AS activities,
         num_nonnulls(nullif(trim(l.email), ''), nullif(trim(l.phone), ''), nullif(trim(l.company), ''), nullif(trim(l.title), '')) AS fields
       FROM crm.leads l WHERE l.id = ANY($1::uuid[])`,
      [top.map((i) => i.subject!.id)],
    );
    for (const fact of facts) {
      const factors = ev(top.find((i) => i.subject!.id === fact.id)!).factors;
      const bucket = fact.activities === 0 ? '0' : fact.activities <= 2 ? '1-2' : fact.activities <= 5 ? '3-5' : '6+';
      expect(factors.find((f: any) => f.factor === 'Activities').value).toBe(bucket);
      expect(factors.find((f: any) => f.factor === 'Contact fields').value).toBe(`${fact.fields} of 4`);
    }
    // Alike but for their source: the converting source's lead scores higher.
    expect(stored.get(fair)!).toBeGreaterThan(stored.get(cold)!);

    // Run again: nothing changed, nothing is written.
    const again = ev(one(await run(leadScorer, 'owner', { topLeads: 0 }), 'lead_score_summary'));
    expect(again).toMatchObject({ scored: open.length, written: 0, unchanged: open.length });
  });

  it("globex's run sees only globex's leads", async () => {
    const insights = await run(leadScorer, 'globex', { writeScores: false, topLeads: 50 });
    const open = await sql(GLOBEX.id, "SELECT id FROM crm.leads WHERE status IN ('new', 'contacted', 'qualified')");
    expect(ev(one(insights, 'lead_score_summary')).scored).toBe(open.length);
    const ids = new Set(open.map((l) => l.id));
    expect(only(insights, 'lead_score').every((i) => ids.has(i.subject!.id))).toBe(true);
  });
});

describe('pipeline analyst', () => {
  // The demo deals were created over the four months up to 2026-01-17, evenly: ten days later,
  // the oldest of a stage have sat there more than 1.5 times its median.
  const NOW = new Date('2026-01-25T00:00:00Z');

  it('finds stuck deals, overdue activities, the forecast and the stage conversion, as counted here', async () => {
    const insights = await run(pipelineAnalyst, 'owner', { stuckFactor: 1.5, maxStuckDeals: 100, forecastMonths: 6 }, NOW);
    const deals = await sql<{ id: string; stage_id: string; kind: string; position: number; days: number; amount: number; probability: number; month: string | null }>(
      ACME.id,
      `SELECT d.id, d.stage_id, s.kind, s.position, extract(epoch FROM $1::timestamptz - coalesce(d.stage_entered_at, d.created_at)) / 86400 AS days,
         coalesce(d.amount, 0)::float8 AS amount, d.probability, to_char(d.expected_close_date, 'YYYY-MM') AS month
       FROM crm.deals d JOIN crm.pipeline_stages s ON s.id = d.stage_id`,
      [NOW],
    );
    const open = deals.filter((d) => d.kind === 'open');
    const median = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
    };
    const all = median(open.map((d) => d.days));
    const stuck = open.filter((d) => {
      const inStage = open.filter((o) => o.stage_id === d.stage_id);
      const norm = inStage.length >= 3 ? median(inStage.map((o) => o.days)) : all;
      return d.days > Math.max(1.5 * norm, 7);
    });
    expect(stuck.length).toBeGreaterThan(0);
    expect(stuck.length).toBeLessThanOrEqual(100);
    expect(sorted(only(insights, 'stuck_deal').map((i) => i.subject!.id))).toEqual(sorted(stuck.map((d) => d.id)));

    const stages = ev(one(insights, 'stage_conversion'));
    const won = deals.filter((d) => d.kind === 'won').length;
    const lost = deals.filter((d) => d.kind === 'lost').length;
    expect(stages).toMatchObject({ won, lost, openDeals: open.length, stuck: stuck.length });
    for (const s of stages.stages) {
      expect(s.openDeals).toBe(open.filter((d) => d.stage_id === s.stageId).length);
      expect(s.reached).toBe(open.filter((d) => d.position >= s.position).length + won);
    }

    const [overdue] = await sql(ACME.id, 'SELECT count(*)::int AS n, array_agg(id::text) AS ids FROM crm.activities WHERE NOT done AND due_at < $1', [NOW]);
    const activities = ev(one(insights, 'overdue_activities'));
    expect(activities.count).toBe(overdue.n);
    expect(sorted(activities.activityIds)).toEqual(sorted(overdue.ids));

    const forecast = ev(one(insights, 'forecast'));
    const months = ['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06'];
    for (const month of months) {
      const inMonth = open.filter((d) => d.month === month);
      const row = forecast.months.find((m: any) => m.month === month);
      expect(row.deals).toBe(inMonth.length);
      expect(row.weighted.USD ?? 0).toBeCloseTo(inMonth.reduce((a, d) => a + (d.amount * d.probability) / 100, 0), 2);
    }
    expect(forecast.overdueDeals).toBe(open.filter((d) => d.month && d.month < '2026-01').length);
  });

  it("globex's run counts only globex's deals and activities", async () => {
    const insights = await run(pipelineAnalyst, 'globex', {}, NOW);
    const [facts] = await sql(
      GLOBEX.id,
      `SELECT (SELECT count(*)::int FROM crm.deals d JOIN crm.pipeline_stages s ON s.id = d.stage_id WHERE s.kind = 'open') AS open,
         (SELECT count(*)::int FROM crm.activities WHERE NOT done AND due_at < $1) AS overdue`,
      [NOW],
    );
    expect(ev(one(insights, 'stage_conversion')).openDeals).toBe(facts.open);
    expect(ev(one(insights, 'overdue_activities')).count).toBe(facts.overdue);
    const globexDeals = new Set((await sql(GLOBEX.id, 'SELECT id FROM crm.deals')).map((d) => d.id));
    expect(only(insights, 'stuck_deal').every((i) => globexDeals.has(i.subject!.id))).toBe(true);
  });
});

describe('content auditor', () => {
  const product = (pk: number) => toGlobalId('Product', pk);
  const CREATE = 'mutation($i: ContentPageCreateInput!) { createContentPage(input: $i) { contentPage { id } errors { field code } } }';
  const PUBLISH = 'mutation($id: ID!) { publishContentPage(id: $id) { errors { code } } }';
  const page = async (input: Record<string, unknown>) => {
    const { createContentPage } = await call('owner', CREATE, { i: input });
    expect(createContentPage.errors).toEqual([]);
    await call('owner', PUBLISH, { id: createContentPage.contentPage.id });
    return createContentPage.contentPage.id as string;
  };

  it('reports missing meta descriptions, thin, stale and duplicate pages and products no longer sold, as counted here', async () => {
    // pk 1 is sold in acme's channel; 9 is not listed there, 13 not yet available, 99999 does not exist.
    const shop = await page({ slug: 'audit-shop', title: 'Shop picks', body: [1, 9, 13, 99999].map((pk) => ({ product: { productId: product(pk) } })) });
    const twinA = await page({ slug: 'audit-twin-a', title: 'Twin Title', seoDescription: 'One of two.', body: [] });
    const twinB = await page({ slug: 'audit-twin-b', title: ' twin   title', body: [] });
    const long = await page({
      slug: 'audit-long',
      title: 'A long read',
      seoDescription: 'Plenty of words.',
      body: [{ heading: { text: 'Why' } }, { paragraph: { html: `<p>${'word '.repeat(320)}</p>` } }],
    });
    await call('owner', CREATE, { i: { slug: 'audit-draft', title: 'A draft', body: [] } }); // drafts are not audited

    const now = new Date(Date.now() + 30 * DAY);
    const insights = await run(contentAuditor, 'owner', { staleDays: 20, maxPageInsights: 100 }, now);
    const pages = await sql<{ id: string; status: string; seo: string | null; words: number; updated_at: Date }>(
      ACME.id,
      `SELECT p.id, p.status, r.seo_description AS seo, p.updated_at,
         coalesce((SELECT sum(array_length(regexp_split_to_array(trim(b->>'text'), '\\s+'), 1))
           FROM jsonb_array_elements(r.body) b WHERE b->>'type' IN ('heading', 'paragraph', 'quote', 'call_to_action') AND trim(b->>'text') <> ''), 0)::int AS words
       FROM cms.pages p JOIN cms.page_revisions r ON r.id = p.latest_revision_id WHERE p.status <> 'draft'`,
    );
    const summary = ev(one(insights, 'content_audit_summary'));
    expect(summary.pages).toBe(pages.length);
    const ids = (rows: { id: string }[]) => sorted(rows.map((r) => r.id));
    expect(sorted(summary.missing_meta.pageIds)).toEqual(ids(pages.filter((p) => !p.seo?.trim())));
    expect(sorted(summary.thin.pageIds)).toEqual(ids(pages.filter((p) => p.words < 300)));
    expect(summary.thin.pageIds).not.toContain(long);
    expect(sorted(summary.stale.pageIds)).toEqual(ids(pages.filter((p) => p.status === 'published' && p.updated_at.getTime() < now.getTime() - 20 * DAY)));
    expect(sorted(summary.duplicate_title.pageIds)).toEqual(sorted([twinA, twinB]));
    expect(summary.unsold_products.pageIds).toEqual([shop]);

    // The shop page's products, judged from the stand-in's catalog here.
    const unsold = [1, 9, 13, 99999].filter((pk) => {
      const p = catalog.find((c) => c.pk === pk);
      return !p || !p.listings[ACME.saleorChannel] || Date.parse(p.availableForPurchaseAt) > Date.now();
    });
    expect(unsold).toEqual([9, 13, 99999]);
    const shopInsight = only(insights, 'content_audit').find((i) => i.subject?.id === shop)!;
    expect(shopInsight.severity).toBe('warning');
    const problem = ev(shopInsight).problems.find((p: any) => p.type === 'unsold_products');
    expect(sorted(problem.products.map((p: any) => p.id))).toEqual(sorted(unsold.map(product)));
    const twin = ev(only(insights, 'content_audit').find((i) => i.subject?.id === twinA)!).problems.find((p: any) => p.type === 'duplicate_title');
    expect(twin.others.map((o: any) => o.id)).toEqual([twinB]);
  });

  it("globex's run sees only globex's pages", async () => {
    const insights = await run(contentAuditor, 'globex', { includeDrafts: true });
    const pages = await sql(GLOBEX.id, 'SELECT id FROM cms.pages');
    expect(ev(one(insights, 'content_audit_summary')).pages).toBe(pages.length);
    const ids = new Set(pages.map((p) => p.id));
    expect(only(insights, 'content_audit').every((i) => ids.has(i.subject!.id))).toBe(true);
  });
});

describe('sales summary', () => {
  const EXCLUDED = ['CANCELED', 'DRAFT', 'EXPIRED'];

  /** Orders and product revenue from bi's tables in [from, to), without the excluded statuses. */
  async function facts(tenantId: string, from: Date, to: Date) {
    const channels = await sql(
      tenantId,
      `SELECT channel, currency, count(*)::int AS orders, sum(total_gross)::float8 AS revenue FROM bi.orders
       WHERE created_at >= $1 AND created_at < $2 AND status <> ALL($3) GROUP BY 1, 2`,
      [from, to, EXCLUDED],
    );
    const products = await sql(
      tenantId,
      `SELECT l.product_id, sum(l.total_gross)::float8 AS revenue FROM bi.order_lines l JOIN bi.orders o ON o.order_id = l.order_id
       WHERE l.created_at >= $1 AND l.created_at < $2 AND o.status <> ALL($3) GROUP BY 1`,
      [from, to, EXCLUDED],
    );
    return { channels, products: new Map(products.map((p) => [p.product_id as string, p.revenue as number])) };
  }

  it("sums revenue and orders by channel and product against the period before, as counted here", async () => {
    // A 10-day period ending just after the last of acme's demo orders (the stand-in's catalog):
    // not the last order in bi, which may be one another test file placed in this process's
    // stand-in (its order book lives as long as the process: vitest runs several files in one).
    const last = new Date(Math.max(...demoOrders.filter((o) => o.channel === 'acme-channel').map((o) => Date.parse(o.created))));
    const now = new Date(last.getTime() + 3_600_000);
    const insights = await run(salesSummary, 'owner', { periodDays: 10, topProducts: 100, maxProductInsights: 50 }, now);
    const summary = ev(one(insights, 'sales_summary'));
    const current = await facts(ACME.id, new Date(now.getTime() - 10 * DAY), now);
    const previous = await facts(ACME.id, new Date(now.getTime() - 20 * DAY), new Date(now.getTime() - 10 * DAY));
    expect(current.channels.length).toBeGreaterThan(0);
    expect(previous.channels.length).toBeGreaterThan(0);
    for (const c of summary.channels) {
      const cur = current.channels.find((r) => r.channel === c.channel && r.currency === c.currency);
      const prev = previous.channels.find((r) => r.channel === c.channel && r.currency === c.currency);
      expect(c.orders).toBe(cur?.orders ?? 0);
      expect(c.revenue).toBeCloseTo(cur?.revenue ?? 0, 2);
      expect(c.previousOrders).toBe(prev?.orders ?? 0);
      expect(c.previousRevenue).toBeCloseTo(prev?.revenue ?? 0, 2);
    }
    expect(summary.channels.map((c: any) => c.channel)).toEqual([ACME.saleorChannel]);
    const productIds = new Set([...current.products.keys(), ...previous.products.keys()]);
    expect(sorted(summary.products.map((p: any) => p.productId))).toEqual(sorted(productIds));
    for (const p of summary.products) {
      expect(p.revenue).toBeCloseTo(current.products.get(p.productId) ?? 0, 2);
      expect(p.previousRevenue).toBeCloseTo(previous.products.get(p.productId) ?? 0, 2);
    }
    const dropped = [...productIds].filter((id) => {
      const prev = previous.products.get(id) ?? 0;
      return prev > 0 && ((current.products.get(id) ?? 0) - prev) / prev <= -0.2;
    });
    expect(sorted(only(insights, 'product_sales_drop').map((i) => i.subject!.id))).toEqual(sorted(dropped));
    for (const i of only(insights, 'product_sales_drop')) expect(i.subject).toMatchObject({ type: 'Product', channel: ACME.saleorChannel });
  });

  it("globex's run sees only globex's channel; a viewer may not read sales data", async () => {
    const insights = await run(salesSummary, 'globex', { periodDays: 366 }, new Date('2025-12-31T00:00:00Z'));
    const channels = ev(one(insights, 'sales_summary')).channels.map((c: any) => c.channel);
    expect(channels).toEqual([GLOBEX.saleorChannel]);
    await expect(run(salesSummary, 'viewer')).rejects.toMatchObject({ code: 'FORBIDDEN', retryable: false });
  });
});
