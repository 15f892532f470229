import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNTS, DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import auth from '../subgraphs/auth/index.ts';
import agents from '../subgraphs/agents/index.ts';
import type { InsightDraft } from '../subgraphs/agents/analysts/types.ts';
import { insightEmbeddings } from '../subgraphs/agents/embeddings.ts';
import { insertInsight } from '../subgraphs/agents/runs/store.ts';
import type { AgentsSettings } from '../subgraphs/agents/settings.ts';
import { withSettings, type SubgraphDeps } from '../subgraphs/kit/deps.ts';
import { createSubgraphServer, type SubgraphServer } from '../subgraphs/kit/server.ts';
import { describeVectorColumn } from '../subgraphs/kit/vectors/column.ts';
import { createTestBackends, signToken, type TestBackends } from './support/deps.ts';
import { bearer, gql, login } from './support/graphql.ts';
import { startSupergraph, type RunningSupergraph } from './support/stack.ts';

/*
 * The agents subgraph's agents, insights and searches, through the gateway over HTTP on fresh
 * PostgreSQL and Redis with the demo data: agent CRUD with its validation, roles, tenant
 * isolation (lists, ids, `_entities`, searches), the entity extensions (batched), insight filters
 * and paging, dismiss/restore, searchInsights and `similar` over published pages kept fresh by
 * the index job. Insights are written the way the run executor writes them (runs/store.ts
 * insertInsight with embeddings.ts insightEmbeddings). Then the same search on embedded PGlite,
 * where pgvector's storage and hnsw index are used (this machine's PostgreSQL has none: exact
 * cosine over real[]).
 */

const tenantOf = (slug: string) => DEMO_TENANTS.find((t) => t.slug === slug)!;
const accountOf = (email: string) => DEMO_ACCOUNTS.find((a) => a.email === email)!;
const ACME = tenantOf('acme');
const GLOBEX = tenantOf('globex');
const ACME_OWNER = accountOf('owner@acme.example');
const GLOBEX_OWNER = accountOf('owner@globex.example');

const AGENT_FIELDS = 'id kind name settings schedule nextRunAt enabled owner { id } createdAt updatedAt';
const CREATE = `mutation($input: AgentInput!) { createAgent(input: $input) { agent { ${AGENT_FIELDS} } errors { field code message } } }`;
const UPDATE = `mutation($id: ID!, $input: AgentUpdateInput!) { updateAgent(id: $id, input: $input) { agent { ${AGENT_FIELDS} } errors { field code } } }`;
const DELETE = `mutation($id: ID!) { deleteAgent(id: $id) { deletedId errors { field code } } }`;
const AGENTS = `query($filter: AgentListFilter) { agents(first: 50, filter: $filter) { totalCount edges { node { id kind name } } } }`;
const INSIGHTS = `query($first: Int, $after: String, $filter: InsightListFilter) {
  insights(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id kind severity title dismissedAt dismissedBy { id } } }
  }
}`;
const DISMISS = `mutation($id: ID!) { dismissInsight(id: $id) { insight { id dismissedAt dismissedBy { id } } errors { field code } } }`;
const RESTORE = `mutation($id: ID!) { restoreInsight(id: $id) { insight { id dismissedAt dismissedBy { id } } errors { field code } } }`;
const SEARCH = `query($text: String!, $first: Int) { searchInsights(text: $text, first: $first) { score insight { id title } } }`;
const SIMILAR = `query($to: SimilarToInput!, $types: [SimilarType!], $first: Int) {
  similar(to: $to, types: $types, first: $first) { score type insight { id title } contentPage { id title } }
}`;

let stack: RunningSupergraph;
let deps: SubgraphDeps<AgentsSettings>;
const tokens = new Map<string, string>();
/** Authorization of a member (demo password, or the one given when invited), logged in once at the gateway. */
async function as(email: string, password?: string) {
  if (!tokens.has(email)) tokens.set(email, await login(stack.graphql, email, password ? { password } : {}));
  return bearer(tokens.get(email)!);
}
const query = async (text: string, variables: Record<string, unknown>, email: string) => gql(stack.graphql, text, variables, await as(email));
/** The data of an operation that must succeed. */
async function ok(text: string, variables: Record<string, unknown>, email: string) {
  const result = await query(text, variables, email);
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return result.data!;
}
const codes = (result: { errors?: { extensions?: Record<string, unknown> }[] }) => result.errors?.map((e) => e.extensions?.code);

/**
 * Writes a finished run with these insights in the tenant, as the executor does (one transaction,
 * insights with their embeddings): the insights' ids, in order.
 */
async function writeInsights(tenantId: string, accountId: string, drafts: InsightDraft[], agentId: string | null = null): Promise<string[]> {
  // Embedded before the transaction, as the executor does.
  const embeddings = await insightEmbeddings(deps, drafts);
  return deps.db.withTenant({ tenantId, accountId }, async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO agents.runs (tenant_id, agent_id, kind, trigger, started_by, status, attempts, progress, started_at, finished_at)
       VALUES ($1, $2, 'PIPELINE_ANALYST', 'manual', $3, 'SUCCEEDED', 1, 100, now(), now()) RETURNING id`,
      [tenantId, agentId, accountId],
    );
    const run = { id: rows[0]!.id, agent_id: agentId };
    const ids: string[] = [];
    for (const [i, draft] of drafts.entries()) ids.push(await insertInsight(tx, run, draft, embeddings[i]!));
    return ids;
  });
}

const draft = (over: Partial<InsightDraft> & Pick<InsightDraft, 'title'>): InsightDraft => ({
  kind: 'stuck_deal',
  severity: 'warning',
  body: '',
  evidence: { n: 1 },
  ...over,
});

/** Retries `read` until `done` holds (the index job runs in the background), at most ~60 s (a busy CI host). */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 300 && !done(value); i++) {
    await sleep(200);
    value = await read();
  }
  return value;
}

let analyst: string;
let analystId: string;
let pipelineAgentId: string;
let leadIds: string[];
let dealIds: string[];
let acmeInsights: string[];

beforeAll(async () => {
  stack = await startSupergraph();
  deps = withSettings(agents, stack.backends.deps('agents')) as SubgraphDeps<AgentsSettings>;
  // An analyst of acme: invited by the owner through the gateway.
  const invited = await query(
    `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { membership { account { id } } errors { code } } }`,
    { input: { email: 'analyst@acme.example', role: 'ANALYST', password: 'a-long-password' } },
    'owner@acme.example',
  );
  expect(invited.data!.inviteMember.errors).toEqual([]);
  analystId = invited.data!.inviteMember.membership.account.id;
  analyst = 'analyst@acme.example';
  await as(analyst, 'a-long-password');

  const seeded = await ok(AGENTS, {}, 'owner@acme.example');
  pipelineAgentId = seeded.agents.edges.find((e: { node: { kind: string } }) => e.node.kind === 'PIPELINE_ANALYST').node.id;
  leadIds = (await ok('{ leads(first: 3) { edges { node { id } } } }', {}, 'owner@acme.example')).leads.edges.map((e: { node: { id: string } }) => e.node.id);
  dealIds = (await ok('{ deals(first: 2) { edges { node { id } } } }', {}, 'owner@acme.example')).deals.edges.map((e: { node: { id: string } }) => e.node.id);

  // 12 insights in acme: about leads, deals, none; kinds and severities mixed. One in globex.
  acmeInsights = await writeInsights(
    ACME.id,
    ACME_OWNER.id,
    [
      draft({ kind: 'lead_score', severity: 'info', title: 'Lead scored 91: hot prospect from the webinar', subject: { type: 'Lead', id: leadIds[0]! } }),
      draft({ kind: 'lead_score', severity: 'info', title: 'Lead scored 40: cold', subject: { type: 'Lead', id: leadIds[0]! } }),
      draft({ kind: 'lead_score', severity: 'info', title: 'Lead scored 12: unlikely', subject: { type: 'Lead', id: leadIds[1]! } }),
      draft({ title: 'Deal stuck in negotiation for 45 days', body: 'The **Acme renewal** deal has not moved.', subject: { type: 'Deal', id: dealIds[0]! } }),
      draft({ title: 'Deal stuck in proposal for 30 days', subject: { type: 'Deal', id: dealIds[1]! } }),
      draft({ kind: 'overdue_activities', severity: 'critical', title: 'Seven activities are overdue' }),
      draft({ kind: 'forecast', title: 'Forecast: 120k expected to close in March' }),
      draft({ kind: 'conversion_by_stage', title: 'Conversion from proposal to won is 18%' }),
      draft({ kind: 'thin_page', title: 'Thin page: Pricing has 40 words' }),
      draft({ kind: 'thin_page', title: 'Thin page: About has 55 words' }),
      draft({ kind: 'revenue_by_channel', title: 'Revenue by channel: web 80%' }),
      draft({ kind: 'duplicate_titles', title: 'Two pages share the title Services' }),
    ],
    pipelineAgentId,
  );
  await writeInsights(GLOBEX.id, GLOBEX_OWNER.id, [draft({ title: 'Globex deal stuck in negotiation for 45 days' })]);
}, 120_000);
afterAll(() => stack?.close());

describe('agents', () => {
  it('lists the kinds, with their settings schemas; the writer is unavailable without a model', async () => {
    const { agentKinds } = await ok('{ agentKinds { kind needsModel available settingsSchema } }', {}, 'viewer@acme.example');
    expect(agentKinds.map((k: { kind: string }) => k.kind).sort()).toEqual(['CONTENT_AUDITOR', 'LEAD_SCORER', 'PIPELINE_ANALYST', 'SALES_SUMMARY', 'WRITER']);
    const writer = agentKinds.find((k: { kind: string }) => k.kind === 'WRITER');
    expect(writer).toMatchObject({ needsModel: true, available: false });
    const pipeline = agentKinds.find((k: { kind: string }) => k.kind === 'PIPELINE_ANALYST');
    expect(pipeline).toMatchObject({ needsModel: false, available: true });
    expect(pipeline.settingsSchema).toMatchObject({ type: 'object', properties: { stuckFactor: { type: 'number' } } });
  });

  it('the demo tenants have one agent of each built-in kind, owned by their owner', async () => {
    const list = await ok(`{ agents(first: 10) { totalCount edges { node { kind owner { id } schedule enabled settings } } } }`, {}, 'viewer@acme.example');
    expect(list.agents.edges.map((e: { node: { kind: string } }) => e.node.kind).sort()).toEqual(['CONTENT_AUDITOR', 'LEAD_SCORER', 'PIPELINE_ANALYST', 'SALES_SUMMARY']);
    for (const { node } of list.agents.edges) expect(node).toMatchObject({ owner: { id: ACME_OWNER.id }, schedule: null, enabled: true });
    const pipeline = list.agents.edges.find((e: { node: { kind: string } }) => e.node.kind === 'PIPELINE_ANALYST').node;
    expect(pipeline.settings).toMatchObject({ stuckFactor: 2, minStuckDays: 7 });
  });

  it('an analyst creates, updates and deletes an agent; settings get their defaults; a schedule its next run', async () => {
    const created = await ok(CREATE, { input: { kind: 'PIPELINE_ANALYST', name: '  Weekly pipeline ', settings: { stuckFactor: 3 }, schedule: '0  6 * * 1' } }, analyst);
    const agent = created.createAgent.agent;
    expect(created.createAgent.errors).toEqual([]);
    expect(agent).toMatchObject({ kind: 'PIPELINE_ANALYST', name: 'Weekly pipeline', schedule: '0 6 * * 1', enabled: true });
    expect(agent.settings).toMatchObject({ stuckFactor: 3, minStuckDays: 7 });
    expect(agent.owner).toEqual({ id: analystId });
    // The next Monday 06:00 UTC, within a week.
    const next = new Date(agent.nextRunAt);
    expect(next.getUTCDay()).toBe(1);
    expect(next.getUTCHours()).toBe(6);
    expect(next.getTime() - Date.now()).toBeGreaterThan(0);
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(7 * 24 * 3600 * 1000);

    const renamed = await ok(UPDATE, { id: agent.id, input: { name: 'Monday pipeline', clearSchedule: true } }, 'editor@acme.example');
    expect(renamed.updateAgent).toMatchObject({ agent: { id: agent.id, name: 'Monday pipeline', schedule: null, nextRunAt: null }, errors: [] });
    const disabled = await ok(UPDATE, { id: agent.id, input: { enabled: false, schedule: '30 * * * *', settings: {} } }, analyst);
    expect(disabled.updateAgent.agent).toMatchObject({ enabled: false, schedule: '30 * * * *', nextRunAt: null });
    expect(disabled.updateAgent.agent.settings).toMatchObject({ stuckFactor: 2 });

    const deleted = await ok(DELETE, { id: agent.id }, analyst);
    expect(deleted.deleteAgent).toEqual({ deletedId: agent.id, errors: [] });
    const gone = await query('query($id: ID!) { agent(id: $id) { id } }', { id: agent.id }, analyst);
    expect(gone.data!.agent).toBeNull();
    expect(codes(gone)).toEqual(['NOT_FOUND']);
    expect((await ok(DELETE, { id: agent.id }, analyst)).deleteAgent.errors).toEqual([{ field: 'id', code: 'NOT_FOUND' }]);
  });

  it('bad input comes back as payload errors, with nothing written', async () => {
    const errorsOf = async (input: Record<string, unknown>) =>
      (await ok(CREATE, { input: { kind: 'PIPELINE_ANALYST', name: 'Valid name', ...input } }, analyst)).createAgent.errors.map(
        ({ field, code }: { field: string; code: string }) => ({ field, code }),
      );
    expect(await errorsOf({ name: '   ' })).toEqual([{ field: 'name', code: 'REQUIRED' }]);
    expect(await errorsOf({ name: 'x'.repeat(121) })).toEqual([{ field: 'name', code: 'TOO_LONG' }]);
    expect(await errorsOf({ name: 'Lead scorer' })).toEqual([{ field: 'name', code: 'DUPLICATE' }]);
    expect(await errorsOf({ settings: { stuckFactor: 0.5 } })).toEqual([{ field: 'settings.stuckFactor', code: 'INVALID' }]);
    expect(await errorsOf({ settings: [1, 2] })).toEqual([{ field: 'settings', code: 'INVALID' }]);
    // Not five fields, not cron, more often than hourly: all refused.
    for (const schedule of ['@hourly', '0 0 6 * * 1', 'every monday', '*/15 * * * *', '0,30 9 * * *']) {
      expect(await errorsOf({ schedule })).toEqual([{ field: 'schedule', code: 'INVALID' }]);
    }
    // Every problem at once.
    expect(await errorsOf({ name: '', settings: { stuckFactor: 'x' }, schedule: '* * * * *' })).toEqual([
      { field: 'name', code: 'REQUIRED' },
      { field: 'settings.stuckFactor', code: 'INVALID' },
      { field: 'schedule', code: 'INVALID' },
    ]);
    const update = await ok(UPDATE, { id: pipelineAgentId, input: { settings: { maxStuckDeals: -1 }, name: ' ' } }, analyst);
    expect(update.updateAgent).toEqual({
      agent: null,
      errors: [
        { field: 'name', code: 'REQUIRED' },
        { field: 'settings.maxStuckDeals', code: 'INVALID' },
      ],
    });
    const both = await ok(UPDATE, { id: pipelineAgentId, input: { schedule: '0 6 * * 1', clearSchedule: true, name: 'Renamed' } }, analyst);
    expect(both.updateAgent.errors).toEqual([{ field: 'schedule', code: 'INVALID' }]);
    expect((await ok(UPDATE, { id: 'nope', input: { name: 'Renamed' } }, analyst)).updateAgent.errors).toEqual([{ field: 'id', code: 'NOT_FOUND' }]);
    const list = await ok(AGENTS, {}, analyst);
    expect(list.agents.totalCount).toBe(4);
    expect(list.agents.edges.map((e: { node: { name: string } }) => e.node.name)).not.toContain('Renamed');
  });

  it('viewers read and do not manage agents; anonymous callers do neither', async () => {
    const denied = await query(CREATE, { input: { kind: 'SALES_SUMMARY', name: 'Mine' } }, 'viewer@acme.example');
    expect(codes(denied)).toEqual(['FORBIDDEN']);
    expect(codes(await query(DELETE, { id: pipelineAgentId }, 'viewer@acme.example'))).toEqual(['FORBIDDEN']);
    expect(codes(await query(UPDATE, { id: pipelineAgentId, input: { enabled: false } }, 'viewer@acme.example'))).toEqual(['FORBIDDEN']);
    expect((await ok(AGENTS, { filter: { kind: 'SALES_SUMMARY' } }, 'viewer@acme.example')).agents.totalCount).toBe(1);
    const anonymous = await gql(stack.graphql, AGENTS, {});
    expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);
  });

  it('another tenant never sees the agents, by list, id or _entities', async () => {
    const globexList = await ok(AGENTS, {}, 'owner@globex.example');
    expect(globexList.agents.totalCount).toBe(4);
    expect(globexList.agents.edges.map((e: { node: { id: string } }) => e.node.id)).not.toContain(pipelineAgentId);
    const byId = await query('query($id: ID!) { agent(id: $id) { id } }', { id: pipelineAgentId }, 'owner@globex.example');
    expect(byId.data!.agent).toBeNull();
    expect(codes(byId)).toEqual(['NOT_FOUND']);
    // Another tenant's agent is not theirs to change either.
    expect((await ok(UPDATE, { id: pipelineAgentId, input: { name: 'Taken over' } }, 'owner@globex.example')).updateAgent.errors).toEqual([
      { field: 'id', code: 'NOT_FOUND' },
    ]);
    const entities = await gql(
      stack.urls.agents!,
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on Agent { id name } ... on Insight { id title } ... on AgentRun { id } } }',
      { r: [{ __typename: 'Agent', id: pipelineAgentId }, { __typename: 'Insight', id: acmeInsights[0] }, { __typename: 'Insight', id: 'not-a-uuid' }] },
      await as('owner@globex.example'),
    );
    expect(entities.errors).toBeUndefined();
    expect(entities.data!._entities).toEqual([null, null, null]);
    const own = await gql(
      stack.urls.agents!,
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on Insight { id } } }',
      { r: [{ __typename: 'Insight', id: acmeInsights[0] }] },
      await as('viewer@acme.example'),
    );
    expect(own.data!._entities).toEqual([{ id: acmeInsights[0] }]);
  });
});

describe('insights', () => {
  it('lists newest first with filters and paging', async () => {
    const first = await ok(INSIGHTS, { first: 5 }, 'viewer@acme.example');
    expect(first.insights.totalCount).toBe(12);
    expect(first.insights.pageInfo.hasNextPage).toBe(true);
    // One run's insights share created_at: the later written comes first.
    expect(first.insights.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([...acmeInsights].reverse().slice(0, 5));
    const rest: string[] = [];
    let after = first.insights.pageInfo.endCursor;
    for (;;) {
      const page = await ok(INSIGHTS, { first: 5, after }, 'viewer@acme.example');
      rest.push(...page.insights.edges.map((e: { node: { id: string } }) => e.node.id));
      if (!page.insights.pageInfo.hasNextPage) break;
      after = page.insights.pageInfo.endCursor;
    }
    expect(rest).toEqual([...acmeInsights].reverse().slice(5));

    const byKind = await ok(INSIGHTS, { first: 10, filter: { kind: 'lead_score' } }, 'viewer@acme.example');
    expect(byKind.insights.totalCount).toBe(3);
    const critical = await ok(INSIGHTS, { first: 10, filter: { severity: 'CRITICAL' } }, 'viewer@acme.example');
    expect(critical.insights.edges.map((e: { node: { title: string; severity: string } }) => [e.node.title, e.node.severity])).toEqual([
      ['Seven activities are overdue', 'CRITICAL'],
    ]);
    const aboutLead = await ok(INSIGHTS, { first: 10, filter: { subjectType: 'Lead', subjectId: leadIds[0] } }, 'viewer@acme.example');
    expect(aboutLead.insights.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([acmeInsights[1], acmeInsights[0]]);
    const ofAgent = await ok(INSIGHTS, { first: 1, filter: { agentId: pipelineAgentId } }, 'viewer@acme.example');
    expect(ofAgent.insights.totalCount).toBe(12);
    const bad = await query(INSIGHTS, { first: 1, filter: { subjectType: 'Order', subjectId: 'x' } }, 'viewer@acme.example');
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
    expect(codes(await query(INSIGHTS, { first: 101 }, 'viewer@acme.example'))).toEqual(['BAD_USER_INPUT']);
  });

  it('an insight shows its subject, run, agent and evidence; the run its insights in order', async () => {
    const { insight } = await ok(
      `query($id: ID!) { insight(id: $id) { title body evidence severity subject { __typename ... on Deal { id title } } agent { id kind } run { id status insights { id } } } }`,
      { id: acmeInsights[3] },
      'viewer@acme.example',
    );
    expect(insight).toMatchObject({ title: 'Deal stuck in negotiation for 45 days', body: 'The **Acme renewal** deal has not moved.', evidence: { n: 1 }, severity: 'WARNING' });
    expect(insight.subject).toMatchObject({ __typename: 'Deal', id: dealIds[0] });
    expect(typeof insight.subject.title).toBe('string');
    expect(insight.agent).toEqual({ id: pipelineAgentId, kind: 'PIPELINE_ANALYST' });
    expect(insight.run.status).toBe('SUCCEEDED');
    expect(insight.run.insights.map((i: { id: string }) => i.id)).toEqual(acmeInsights);
  });

  it('Lead.insights and Deal.insights: newest first, batched in one statement for every entity', async () => {
    const statements: string[] = [];
    const stop = stack.backends.db.onStatement((text) => statements.push(text));
    const { leads } = await ok('{ leads(first: 3) { edges { node { id insights(first: 5) { id } } } } }', {}, 'viewer@acme.example');
    stop();
    const byLead = Object.fromEntries(leads.edges.map((e: { node: { id: string; insights: { id: string }[] } }) => [e.node.id, e.node.insights.map((i) => i.id)]));
    expect(byLead[leadIds[0]!]).toEqual([acmeInsights[1], acmeInsights[0]]);
    expect(byLead[leadIds[1]!]).toEqual([acmeInsights[2]]);
    expect(byLead[leadIds[2]!]).toEqual([]);
    expect(statements.filter((s) => s.includes('agents.insights'))).toHaveLength(1);
    const limited = await ok('{ leads(first: 1) { edges { node { insights(first: 1) { id } } } } }', {}, 'viewer@acme.example');
    expect(limited.leads.edges[0].node.insights).toEqual([{ id: acmeInsights[1] }]);
    const { deals } = await ok('{ deals(first: 2) { edges { node { id insights { title } } } } }', {}, 'viewer@acme.example');
    expect(deals.edges.map((e: { node: { insights: { title: string }[] } }) => e.node.insights.map((i) => i.title))).toEqual([
      ['Deal stuck in negotiation for 45 days'],
      ['Deal stuck in proposal for 30 days'],
    ]);
  });

  it('Product.insights (in every channel) and ContentPage.insights; an insight resolves its subject through its subgraph', async () => {
    const { products } = await ok('{ products(first: 1, channel: "acme-channel") { edges { node { id name } } } }', {}, 'viewer@acme.example');
    const product = products.edges[0].node;
    const { createContentPage } = await ok(
      `mutation($input: ContentPageCreateInput!) { createContentPage(input: $input) { contentPage { id } } }`,
      { input: { slug: 'audited-page', title: 'Audited page' } },
      'editor@acme.example',
    );
    const pageId = createContentPage.contentPage.id;
    const [aboutProduct, aboutPage] = await writeInsights(ACME.id, ACME_OWNER.id, [
      draft({ kind: 'product_revenue', title: 'Product revenue fell 30%', subject: { type: 'Product', id: product.id, channel: 'acme-channel' } }),
      draft({ kind: 'thin_page', title: 'Thin page: Audited page has no text', subject: { type: 'ContentPage', id: pageId } }),
    ]);
    const read = await ok('{ products(first: 1, channel: "acme-channel") { edges { node { id insights { id } } } } }', {}, 'viewer@acme.example');
    expect(read.products.edges[0].node.insights).toEqual([{ id: aboutProduct }]);
    const page = await ok('query($id: ID) { contentPage(id: $id) { insights { id title } } }', { id: pageId }, 'viewer@acme.example');
    expect(page.contentPage.insights).toEqual([{ id: aboutPage, title: 'Thin page: Audited page has no text' }]);
    const subject = await ok(
      `query($id: ID!) { insight(id: $id) { subject { __typename ... on Product { id name } } } }`,
      { id: aboutProduct },
      'viewer@acme.example',
    );
    expect(subject.insight.subject).toEqual({ __typename: 'Product', id: product.id, name: product.name });
    // Not about a lead: the other tests count acme's insights without these two.
    await ok(DISMISS, { id: aboutProduct }, 'editor@acme.example');
    await ok(DISMISS, { id: aboutPage }, 'editor@acme.example');
    await deps.db.withTenant({ tenantId: ACME.id, accountId: null }, (tx) => tx.query('DELETE FROM agents.insights WHERE id = ANY($1::uuid[])', [[aboutProduct, aboutPage]]));
  });

  it("an agent's runs and last run, and the runs list, within the tenant", async () => {
    const { agent } = await ok('query($id: ID!) { agent(id: $id) { runs { id status trigger insights { id } } lastRun { id } } }', { id: pipelineAgentId }, 'viewer@acme.example');
    expect(agent.runs).toHaveLength(1);
    expect(agent.runs[0]).toMatchObject({ status: 'SUCCEEDED', trigger: 'MANUAL' });
    expect(agent.runs[0].insights.map((i: { id: string }) => i.id)).toEqual(acmeInsights);
    expect(agent.lastRun).toEqual({ id: agent.runs[0].id });
    const runs = await ok('query($f: AgentRunListFilter) { agentRuns(first: 10, filter: $f) { totalCount } }', { f: { agentId: pipelineAgentId, status: 'SUCCEEDED' } }, 'viewer@acme.example');
    expect(runs.agentRuns.totalCount).toBe(1);
    const globex = await ok('query($f: AgentRunListFilter) { agentRuns(first: 10, filter: $f) { totalCount } }', { f: { agentId: pipelineAgentId } }, 'owner@globex.example');
    expect(globex.agentRuns.totalCount).toBe(0);
    const run = await query('query($id: ID!) { agentRun(id: $id) { id } }', { id: agent.runs[0].id }, 'owner@globex.example');
    expect(codes(run)).toEqual(['NOT_FOUND']);
  });

  it('editors dismiss and restore; dismissed ones leave the default list and the entity extensions; viewers cannot', async () => {
    const id = acmeInsights[0]!;
    expect(codes(await query(DISMISS, { id }, 'viewer@acme.example'))).toEqual(['FORBIDDEN']);
    const dismissed = await ok(DISMISS, { id }, 'editor@acme.example');
    expect(dismissed.dismissInsight.insight).toMatchObject({ id, dismissedBy: { id: accountOf('editor@acme.example').id } });
    const at = dismissed.dismissInsight.insight.dismissedAt;
    expect(at).toBeTruthy();
    // Dismissing again keeps who and when.
    expect((await ok(DISMISS, { id }, analyst)).dismissInsight.insight).toMatchObject({ dismissedAt: at, dismissedBy: { id: accountOf('editor@acme.example').id } });

    expect((await ok(INSIGHTS, { first: 50 }, 'viewer@acme.example')).insights.totalCount).toBe(11);
    const onlyDismissed = await ok(INSIGHTS, { first: 50, filter: { dismissed: true } }, 'viewer@acme.example');
    expect(onlyDismissed.insights.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([id]);
    expect((await ok(INSIGHTS, { first: 50, filter: { dismissed: null } }, 'viewer@acme.example')).insights.totalCount).toBe(12);
    const { leads } = await ok('{ leads(first: 1) { edges { node { insights { id } } } } }', {}, 'viewer@acme.example');
    expect(leads.edges[0].node.insights).toEqual([{ id: acmeInsights[1] }]);

    const restored = await ok(RESTORE, { id }, analyst);
    expect(restored.restoreInsight).toEqual({ insight: { id, dismissedAt: null, dismissedBy: null }, errors: [] });
    expect((await ok(INSIGHTS, { first: 50 }, 'viewer@acme.example')).insights.totalCount).toBe(12);
    // Another tenant's insight is not found for dismissing.
    expect((await ok(DISMISS, { id }, 'owner@globex.example')).dismissInsight).toEqual({ insight: null, errors: [{ field: 'id', code: 'NOT_FOUND' }] });
    expect((await ok(DISMISS, { id: 'nope' }, 'editor@acme.example')).dismissInsight.errors).toEqual([{ field: 'id', code: 'NOT_FOUND' }]);
  });

  it('another tenant sees none of them', async () => {
    const globex = await ok(INSIGHTS, { first: 50, filter: { dismissed: null } }, 'owner@globex.example');
    expect(globex.insights.edges.map((e: { node: { title: string } }) => e.node.title)).toEqual(['Globex deal stuck in negotiation for 45 days']);
    const one = await query('query($id: ID!) { insight(id: $id) { id } }', { id: acmeInsights[0] }, 'owner@globex.example');
    expect(one.data!.insight).toBeNull();
    expect(codes(one)).toEqual(['NOT_FOUND']);
  });
});

describe('search', () => {
  it('searchInsights ranks the insight nearest in meaning first, within the tenant', async () => {
    const { searchInsights } = await ok(SEARCH, { text: 'deal stuck in negotiation', first: 3 }, 'viewer@acme.example');
    expect(searchInsights[0].insight.id).toBe(acmeInsights[3]);
    expect(searchInsights).toHaveLength(3);
    expect(searchInsights[0].score).toBeGreaterThan(searchInsights[1].score);
    expect(searchInsights[0].score).toBeLessThanOrEqual(1);
    const globex = await ok(SEARCH, { text: 'deal stuck in negotiation' }, 'owner@globex.example');
    expect(globex.searchInsights.map((h: { insight: { title: string } }) => h.insight.title)).toEqual(['Globex deal stuck in negotiation for 45 days']);
    expect(codes(await query(SEARCH, { text: '' }, 'viewer@acme.example'))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await query(SEARCH, { text: 'x'.repeat(2001) }, 'viewer@acme.example'))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await query(SEARCH, { text: 'deal', first: 51 }, 'viewer@acme.example'))).toEqual(['BAD_USER_INPUT']);
  });

  it('similar to an insight leaves it out and finds its near-duplicate', async () => {
    const { similar } = await ok(SIMILAR, { to: { insightId: acmeInsights[3] }, types: ['INSIGHT'], first: 3 }, 'viewer@acme.example');
    expect(similar[0]).toMatchObject({ type: 'INSIGHT', insight: { id: acmeInsights[4] }, contentPage: null });
    expect(similar.map((h: { insight: { id: string } }) => h.insight.id)).not.toContain(acmeInsights[3]);
    const bad = await query(SIMILAR, { to: { insightId: acmeInsights[3], text: 'both' } }, 'viewer@acme.example');
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
    const foreign = await query(SIMILAR, { to: { insightId: acmeInsights[3] } }, 'owner@globex.example');
    expect(codes(foreign)).toEqual(['NOT_FOUND']);
  });

  it('similar ranks a near-duplicate published page first; content changes re-embed through the index job', async () => {
    const page = async (slug: string, title: string, text: string, publish = true) => {
      const created = await ok(
        `mutation($input: ContentPageCreateInput!) { createContentPage(input: $input) { contentPage { id } errors { field code } } }`,
        { input: { slug, title, seoDescription: title, body: [{ paragraph: { html: `<p>${text}</p>` } }] } },
        'editor@acme.example',
      );
      const id = created.createContentPage.contentPage.id as string;
      if (publish) await ok('mutation($id: ID!) { publishContentPage(id: $id) { errors { code } } }', { id }, 'editor@acme.example');
      return id;
    };
    const tomatoes = 'Plant tomato seedlings in spring after the last frost, water them deeply twice a week and stake the vines so the fruit stays off the soil.';
    const guide = await page('tomato-guide', 'Growing tomatoes in your garden', tomatoes);
    const copy = await page('tomato-guide-copy', 'Growing tomatoes in the garden', tomatoes.replace('twice a week', 'two times a week'));
    const other = await page('invoice-terms', 'Our invoice and payment terms', 'Invoices are due within thirty days; we accept bank transfers and cards.');
    const draftCopy = await page('tomato-draft', 'Growing tomatoes in your garden', tomatoes, false);

    const similarPages = (email: string, to: Record<string, unknown>) => query(SIMILAR, { to, types: ['CONTENT_PAGE'], first: 10 }, email);
    // The first search finds the index stale and enqueues the job; later ones see it done.
    const indexed = await eventually(
      () => similarPages('viewer@acme.example', { contentPageId: guide }),
      (r) => !r.errors && r.data!.similar.some((h: { contentPage: { id: string } }) => h.contentPage.id === other),
    );
    expect(indexed.errors).toBeUndefined();
    const ids = indexed.data!.similar.map((h: { contentPage: { id: string } }) => h.contentPage.id);
    expect(ids[0], JSON.stringify({ guide, copy, other, draftCopy, hits: indexed.data!.similar })).toBe(copy);
    expect(ids).toContain(other);
    expect(ids).not.toContain(guide);
    expect(ids).not.toContain(draftCopy);
    expect(indexed.data!.similar[0]).toMatchObject({ type: 'CONTENT_PAGE', insight: null, contentPage: { id: copy, title: 'Growing tomatoes in the garden' } });
    expect(indexed.data!.similar[0].score).toBeGreaterThan(0.8);

    // By text, over both types: the page first, the insights after it.
    const byText = await ok(SIMILAR, { to: { text: 'how to grow tomatoes: stake the vines and water deeply' }, first: 5 }, 'viewer@acme.example');
    expect(byText.similar[0].type).toBe('CONTENT_PAGE');
    expect([guide, copy]).toContain(byText.similar[0].contentPage.id);

    // Another tenant finds none of acme's pages.
    const globex = await similarPages('owner@globex.example', { text: tomatoes });
    expect(globex.errors).toBeUndefined();
    expect(globex.data!.similar.map((h: { contentPage: { id: string } }) => h.contentPage.id)).not.toContain(guide);
    expect(codes(await similarPages('owner@globex.example', { contentPageId: guide }))).toEqual(['NOT_FOUND']);

    // The unrelated page becomes a tomato page; the copy is unpublished: after the job, the ranking follows.
    await ok(
      `mutation($id: ID!, $input: ContentPageUpdateInput!) { updateContentPage(id: $id, input: $input) { errors { code } } }`,
      { id: other, input: { title: 'Growing tomatoes in your garden', seoDescription: 'Growing tomatoes in your garden', body: [{ paragraph: { html: `<p>${tomatoes}</p>` } }] } },
      'editor@acme.example',
    );
    await ok('mutation($id: ID!) { publishContentPage(id: $id) { errors { code } } }', { id: other }, 'editor@acme.example');
    await ok('mutation($id: ID!) { unpublishContentPage(id: $id) { errors { code } } }', { id: copy }, 'editor@acme.example');
    const reindexed = await eventually(
      () => similarPages('viewer@acme.example', { contentPageId: guide }),
      (r) => !r.errors && r.data!.similar[0]?.contentPage.id === other && !r.data!.similar.some((h: { contentPage: { id: string } }) => h.contentPage.id === copy),
    );
    const after = reindexed.data!.similar.map((h: { contentPage: { id: string } }) => h.contentPage.id);
    expect(after[0]).toBe(other);
    expect(after).not.toContain(copy);
    expect(reindexed.data!.similar[0].score).toBeGreaterThan(0.95);
  }, 150_000);

  it('insights embedded with another model are re-embedded by the index job, then found', async () => {
    const [id] = await writeInsights(ACME.id, ACME_OWNER.id, [draft({ kind: 'churn_risk', title: 'Churn risk: the Zephyr account went quiet' })]);
    // As if embedded by a provider's model before the local embedder was configured.
    await deps.db.withTenant({ tenantId: ACME.id, accountId: null }, (tx) =>
      tx.query(`UPDATE agents.insights SET embedding = array_fill(0.5::real, ARRAY[8]), embedding_model = 'old-model', embedding_dimensions = 8 WHERE id = $1`, [id]),
    );
    const search = () => ok(SEARCH, { text: 'Zephyr account churn risk', first: 1 }, 'viewer@acme.example');
    expect((await search()).searchInsights.map((h: { insight: { id: string } }) => h.insight.id)).not.toContain(id);
    // A content change makes the index stale (as a new embedding model would): the next search enqueues the job.
    await ok(`mutation($input: ContentPageCreateInput!) { createContentPage(input: $input) { errors { code } } }`, { input: { slug: 'zephyr', title: 'Zephyr' } }, 'editor@acme.example');
    const found = await eventually(search, (r) => r.searchInsights[0]?.insight.id === id);
    expect(found.searchInsights[0].insight.id).toBe(id);
  }, 90_000);

  it('agentUsage reports today against the quota and the budget', async () => {
    const before = new Date().toISOString().slice(0, 10);
    const { agentUsage } = await ok('{ agentUsage { day runs runQuota tokens tokenBudget } }', {}, 'viewer@acme.example');
    // The UTC day (the request may straddle midnight).
    expect([before, new Date().toISOString().slice(0, 10)]).toContain(agentUsage.day);
    expect(agentUsage).toMatchObject({ runs: 0, tokens: 0 });
    expect(agentUsage.runQuota).toBeGreaterThan(0);
    expect(agentUsage.tokenBudget).toBeGreaterThan(0);
  });
});

describe('search on embedded PGlite (pgvector, hnsw)', () => {
  let backends: TestBackends;
  let server: SubgraphServer;
  let url: string;

  beforeAll(async () => {
    backends = await createTestBackends({}, { embedded: true });
    // auth's tables are referenced by agents'; no demo data is needed (the run below names no member).
    await backends.migrate([auth, agents].flatMap((d) => (d.migrations ? [d.migrations] : [])));
    server = await createSubgraphServer(agents, backends.deps('agents'));
    url = await server.listen(0, '127.0.0.1');
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await backends?.close();
  });

  it('stores vectors in pgvector and ranks the same way', async () => {
    const column = await backends.db.withTenant({ tenantId: ACME.id, accountId: ACME_OWNER.id }, (tx) => describeVectorColumn(tx, 'agents.insights'));
    expect(column.storage).toBe('pgvector');
    const embeddedDeps = withSettings(agents, backends.deps('agents')) as SubgraphDeps<AgentsSettings>;
    const drafts = [draft({ title: 'Thin page: Pricing has 40 words' }), draft({ title: 'Deal stuck in negotiation for 45 days' }), draft({ title: 'Revenue by channel: web 80%' })];
    const embeddings = await insightEmbeddings(embeddedDeps, drafts);
    const ids = await embeddedDeps.db.withTenant({ tenantId: ACME.id, accountId: ACME_OWNER.id }, async (tx) => {
      const { rows } = await tx.query<{ id: string }>(
        `INSERT INTO agents.runs (tenant_id, kind, trigger, status) VALUES ($1, 'CONTENT_AUDITOR', 'manual', 'SUCCEEDED') RETURNING id`,
        [ACME.id],
      );
      const written: string[] = [];
      for (const [i, d] of drafts.entries()) written.push(await insertInsight(tx, { id: rows[0]!.id, agent_id: null }, d, embeddings[i]!));
      return written;
    });
    const token = await signToken(backends.keys.privateJwk, { sub: ACME_OWNER.id, tid: ACME.id, roles: ['viewer'] });
    const result = await gql(url, SEARCH, { text: 'deals stuck in negotiation', first: 2 }, bearer(token));
    expect(result.errors).toBeUndefined();
    expect(result.data!.searchInsights.map((h: { insight: { id: string } }) => h.insight.id)[0]).toBe(ids[1]);
    const other = await signToken(backends.keys.privateJwk, { sub: GLOBEX_OWNER.id, tid: GLOBEX.id, roles: ['owner'] });
    expect((await gql(url, SEARCH, { text: 'deals stuck in negotiation' }, bearer(other))).data!.searchInsights).toEqual([]);
  });
});
