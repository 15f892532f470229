import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import { DEMO_CHARTS, DEMO_DASHBOARD } from '../subgraphs/bi/seed.ts';
import { bearer, gql, login } from './support/graphql.ts';
import { startSupergraph, type RunningSupergraph } from './support/stack.ts';

// The bi subgraph through the gateway over HTTP, on real PostgreSQL and Redis (when reachable)
// with the demo tenants: charts and dashboards, who may do what, tenant isolation, input errors,
// the cost of a dashboard in SQL statements, and chart data after a CRM write.

let stack: RunningSupergraph;
let url: string;
const acme = DEMO_TENANTS[0].id;
const tokens: Record<'owner' | 'analyst' | 'editor' | 'viewer' | 'globex', string> = {} as never;
const ANALYST = { email: 'analyst@acme.example', password: 'analyst-password-2026' };

/** Statements of bi requests: bi's tables, the fact views and daily rollups charts read, the engine's timeout. */
let statements: string[] = [];

beforeAll(async () => {
  stack = await startSupergraph();
  url = stack.graphql;
  stack.backends.db.onStatement((text) => {
    if (/\bbi\.|_facts(_daily)?\b|statement_timeout/.test(text)) statements.push(text);
  });
  tokens.owner = await login(url, 'owner@acme.example');
  tokens.editor = await login(url, 'editor@acme.example');
  tokens.viewer = await login(url, 'viewer@acme.example');
  tokens.globex = await login(url, 'owner@globex.example');
  // No demo analyst: the owner invites one.
  const invited = await call(tokens.owner, 'mutation($i: InviteMemberInput!) { inviteMember(input: $i) { errors { code } } }', {
    i: { ...ANALYST, role: 'ANALYST' },
  });
  expect(invited.data!.inviteMember.errors).toEqual([]);
  tokens.analyst = await login(url, ANALYST.email, { password: ANALYST.password });
});
afterAll(() => stack?.close());

const call = (token: string | null, query: string, variables: Record<string, unknown> = {}) => gql(url, query, variables, token ? bearer(token) : {});

/** The payload of a mutation that must succeed. */
async function ok(token: string, query: string, variables: Record<string, unknown> = {}) {
  const result = await call(token, query, variables);
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  const payload = Object.values(result.data!)[0] as Record<string, any>;
  expect(payload.errors, JSON.stringify(payload.errors)).toEqual([]);
  return payload;
}

/** Rows of the acme tenant, read directly (RLS as acme): the expected values, computed apart from bi. */
const acmeRows = (sql: string, params: unknown[] = []) =>
  stack.backends.db.withTenant({ tenantId: acme, accountId: null }, async (tx) => (await tx.query(sql, params)).rows);

const DEFINITION = `definition { dataset metrics { aggregate column label } dimensions timeColumn timeGrain timeRange { relative from to }
  filters { column operator values } sort { by descending } rowLimit }`;
const CHART = `id name description type ${DEFINITION} owner { id } createdAt updatedAt`;
const CREATE_CHART = `mutation($i: ChartInput!) { createChart(input: $i) { chart { ${CHART} } errors { field code message } } }`;
const UPDATE_CHART = `mutation($id: ID!, $i: ChartInput!) { updateChart(id: $id, input: $i) { chart { ${CHART} } errors { field code } } }`;
const DELETE_CHART = 'mutation($id: ID!) { deleteChart(id: $id) { deletedId errors { field code } } }';
const ONE_CHART = `query($id: ID!) { chart(id: $id) { ${CHART} } }`;
const DASHBOARD = 'id title slug description published nativeFilters { column operator values } charts { chart { id name } x y width height } owner { id }';
const CREATE_DASHBOARD = `mutation($i: DashboardInput!) { createDashboard(input: $i) { dashboard { ${DASHBOARD} } errors { field code message } } }`;
const UPDATE_DASHBOARD = `mutation($id: ID!, $i: DashboardUpdateInput!) { updateDashboard(id: $id, input: $i) { dashboard { ${DASHBOARD} } errors { field code message } } }`;
const DELETE_DASHBOARD = 'mutation($id: ID!) { deleteDashboard(id: $id) { deletedId errors { field code } } }';
const ONE_DASHBOARD = `query($k: String!) { dashboard(idOrSlug: $k) { ${DASHBOARD} } }`;
const DASHBOARD_IDS = 'query($p: Boolean) { dashboards(first: 100, filter: { published: $p }) { totalCount edges { node { id slug published } } } }';

const leadsByStatus = { name: 'Leads by status', type: 'BAR', dataset: 'leads', metrics: [{ aggregate: 'COUNT', label: 'leads' }], dimensions: ['status'], sort: [{ by: 'status' }] };
const leadCount = { name: 'Lead count', type: 'BIG_NUMBER', dataset: 'leads', metrics: [{ aggregate: 'COUNT', label: 'leads' }] };

let counter = 0;
/** A new chart of the analyst's tenant (acme) or the given token's; its id. */
async function newChart(input: Record<string, unknown> = leadsByStatus, token = tokens.analyst): Promise<string> {
  const payload = await ok(token, CREATE_CHART, { i: { ...input, name: `${input.name} ${++counter}` } });
  return payload.chart.id;
}

/** A layout of these charts, four per row (3 columns wide, 4 high). */
const layout = (ids: readonly string[]) => ids.map((chartId, i) => ({ chartId, x: (i % 4) * 3, y: Math.floor(i / 4) * 4, width: 3, height: 4 }));

async function newDashboard(input: Record<string, unknown> = {}, token = tokens.analyst) {
  const payload = await ok(token, CREATE_DASHBOARD, { i: { title: `Dashboard ${++counter}`, ...input } });
  return payload.dashboard as { id: string; slug: string };
}

const codes = (result: { errors?: { extensions?: Record<string, any> }[] }) => result.errors?.map((e) => e.extensions?.code);

describe('datasets', () => {
  it('lists the datasets charts can use, with their columns; an unknown one is NOT_FOUND', async () => {
    const { data, errors } = await call(tokens.viewer, '{ biDatasets { name defaultTimeColumn columns { name type groupable filterable aggregates } } }');
    expect(errors).toBeUndefined();
    expect(data!.biDatasets.map((d: any) => d.name)).toEqual(['leads', 'deals', 'activities', 'pages', 'orders', 'order_lines']);
    const leads = data!.biDatasets[0];
    expect(leads.defaultTimeColumn).toBe('created_at');
    expect(leads.columns.find((c: any) => c.name === 'status')).toMatchObject({ type: 'STRING', groupable: true, filterable: true });
    // The SQL behind a column never leaves the server.
    expect(JSON.stringify(data)).not.toContain('lead_facts');
    const unknown = await call(tokens.viewer, '{ biDataset(name: "secrets") { name } }');
    expect(unknown.data!.biDataset).toBeNull();
    expect(codes(unknown)).toEqual(['NOT_FOUND']);
    expect(codes(await call(null, '{ biDatasets { name } }'))).toEqual(['UNAUTHENTICATED']);
  });
});

describe('charts', () => {
  it('an analyst creates, updates and deletes a chart; every member reads it with its data', async () => {
    const created = await ok(tokens.analyst, CREATE_CHART, { i: { ...leadsByStatus, description: '  Where our leads stand.  ' } });
    const chart = created.chart;
    expect(chart).toMatchObject({
      name: 'Leads by status',
      description: 'Where our leads stand.',
      type: 'BAR',
      definition: {
        dataset: 'leads',
        metrics: [{ aggregate: 'COUNT', column: null, label: 'leads' }],
        dimensions: ['status'],
        timeColumn: null,
        timeGrain: null,
        timeRange: null,
        filters: [],
        sort: [{ by: 'status', descending: false }],
        rowLimit: 1000,
      },
    });

    // A viewer reads it, with data computed from the tenant's live leads.
    const read = await call(tokens.viewer, `query($id: ID!) { chart(id: $id) { name data { columns { name type } rows rowCount truncated } owner { id email } } }`, { id: chart.id });
    expect(read.errors).toBeUndefined();
    expect(read.data!.chart.owner.email).toBe(ANALYST.email); // provided by bi (kit/accounts.ts)
    const expected = await acmeRows('SELECT status, count(*)::int AS n FROM crm.leads GROUP BY status ORDER BY status');
    expect(expected.length).toBeGreaterThan(1);
    expect(read.data!.chart.data).toEqual({
      columns: [
        { name: 'status', type: 'STRING' },
        { name: 'leads', type: 'NUMBER' },
      ],
      rows: expected.map((r) => [r.status, r.n]),
      rowCount: expected.length,
      truncated: false,
    });

    const list = await call(tokens.editor, 'query($s: String) { charts(first: 10, filter: { dataset: "leads", search: $s }) { totalCount edges { node { id } } } }', { s: 'by STATUS' });
    expect(list.data!.charts.edges.map((e: any) => e.node.id)).toContain(chart.id);

    const updated = await ok(tokens.owner, UPDATE_CHART, { id: chart.id, i: { ...leadCount, name: 'All leads' } });
    expect(updated.chart).toMatchObject({ id: chart.id, name: 'All leads', type: 'BIG_NUMBER', description: null, definition: { dimensions: [], sort: [] } });
    expect(new Date(updated.chart.updatedAt).getTime()).toBeGreaterThan(new Date(chart.updatedAt).getTime());
    const total = (await acmeRows('SELECT count(*)::int AS n FROM crm.leads'))[0].n;
    expect((await call(tokens.viewer, 'query($id: ID!) { chart(id: $id) { data { rows } } }', { id: chart.id })).data!.chart.data.rows).toEqual([[total]]);

    expect((await ok(tokens.analyst, DELETE_CHART, { id: chart.id })).deletedId).toBe(chart.id);
    const gone = await call(tokens.viewer, ONE_CHART, { id: chart.id });
    expect(gone.data!.chart).toBeNull();
    expect(codes(gone)).toEqual(['NOT_FOUND']);
    expect((await call(tokens.analyst, DELETE_CHART, { id: chart.id })).data!.deleteChart).toEqual({ deletedId: null, errors: [{ field: 'id', code: 'NOT_FOUND' }] });
  });

  it('renders a chart as Vega-Lite and as SVG, and previews an unsaved definition', async () => {
    const id = await newChart();
    const { data, errors } = await call(tokens.viewer, 'query($id: ID!) { chart(id: $id) { vegaLite svg } }', { id });
    expect(errors).toBeUndefined();
    expect(data!.chart.vegaLite.$schema).toMatch(/vega-lite/);
    expect(JSON.stringify(data!.chart.vegaLite)).toContain('"leads"');
    expect(data!.chart.svg).toMatch(/^<svg[\s>]/);

    const PREVIEW = 'query($i: ChartInput!) { chartPreview(input: $i) { data { rows } vegaLite errors { field code } } }';
    const preview = await call(tokens.analyst, PREVIEW, { i: leadCount });
    expect(preview.errors).toBeUndefined();
    const total = (await acmeRows('SELECT count(*)::int AS n FROM crm.leads'))[0].n;
    expect(preview.data!.chartPreview).toMatchObject({ data: { rows: [[total]] }, errors: [] });
    expect(preview.data!.chartPreview.vegaLite.$schema).toMatch(/vega-lite/);
    const bad = await call(tokens.analyst, PREVIEW, { i: { ...leadCount, metrics: [{ aggregate: 'SUM', column: 'status' }] } });
    expect(bad.data!.chartPreview).toEqual({ data: null, vegaLite: null, errors: [{ field: 'metrics.0.column', code: 'WRONG_TYPE' }] });
    expect(codes(await call(tokens.viewer, PREVIEW, { i: leadCount }))).toEqual(['FORBIDDEN']);
  });

  it('refuses malformed definitions with field errors, writing nothing', async () => {
    const count = async () => (await call(tokens.analyst, '{ charts { totalCount } }')).data!.charts.totalCount;
    const before = await count();
    const errorsOf = async (input: Record<string, unknown>) => {
      const result = await call(tokens.analyst, CREATE_CHART, { i: { ...leadsByStatus, ...input } });
      expect(result.errors).toBeUndefined();
      expect(result.data!.createChart.chart).toBeNull();
      return result.data!.createChart.errors.map((e: any) => ({ field: e.field, code: e.code }));
    };
    expect(await errorsOf({ dimensions: ['password_hash'], sort: [] })).toEqual([{ field: 'dimensions.0', code: 'UNKNOWN_COLUMN' }]);
    expect(await errorsOf({ metrics: [{ aggregate: 'SUM', column: 'nope' }] })).toEqual([{ field: 'metrics.0.column', code: 'UNKNOWN_COLUMN' }]);
    expect(await errorsOf({ metrics: [{ aggregate: 'SUM', column: 'source' }] })).toEqual([{ field: 'metrics.0.column', code: 'WRONG_TYPE' }]);
    expect(await errorsOf({ timeColumn: 'status', timeGrain: 'MONTH' })).toEqual([{ field: 'timeGrain', code: 'WRONG_TYPE' }]);
    expect(await errorsOf({ rowLimit: 1_000_000 })).toEqual([{ field: 'rowLimit', code: 'TOO_LARGE' }]);
    expect(await errorsOf({ dataset: 'auth_accounts' })).toEqual([{ field: 'dataset', code: 'UNKNOWN_COLUMN' }]);
    expect(await errorsOf({ filters: [{ column: 'score', operator: 'EQ', values: ["1; DROP TABLE crm.leads"] }] })).toEqual([{ field: 'filters.0.values.0', code: 'WRONG_TYPE' }]);
    // Every problem at once: the chart's own fields and the definition's.
    expect(await errorsOf({ name: '   ', description: 'x'.repeat(2001), metrics: [] })).toEqual([
      { field: 'name', code: 'REQUIRED' },
      { field: 'description', code: 'TOO_LONG' },
      { field: 'metrics', code: 'REQUIRED' },
    ]);
    expect(await count()).toBe(before);

    // An update is checked the same way; another tenant's or a malformed id is NOT_FOUND.
    const id = await newChart();
    expect((await call(tokens.analyst, UPDATE_CHART, { id, i: { ...leadsByStatus, dimensions: ['nope'], sort: [] } })).data!.updateChart).toEqual({
      chart: null,
      errors: [{ field: 'dimensions.0', code: 'UNKNOWN_COLUMN' }],
    });
    expect((await call(tokens.analyst, UPDATE_CHART, { id: 'not-an-id', i: leadsByStatus })).data!.updateChart.errors).toEqual([{ field: 'id', code: 'NOT_FOUND' }]);
    expect((await call(tokens.viewer, ONE_CHART, { id })).data!.chart.definition.dimensions).toEqual(['status']);
  });
});

describe('dashboards', () => {
  it('an analyst builds a dashboard, finds it by id and slug, changes and deletes it', async () => {
    const [a, b, c] = [await newChart(), await newChart(leadCount), await newChart()];
    const created = await ok(tokens.analyst, CREATE_DASHBOARD, {
      i: {
        title: 'Sales & Pipeline (Q3) — Übersicht',
        description: 'For the Monday meeting.',
        nativeFilters: [{ column: 'source', operator: 'IN', values: ['website', 'referral'] }],
        charts: [
          { chartId: b, x: 6, y: 0, width: 6, height: 4 },
          { chartId: a, x: 0, y: 0, width: 6, height: 4 },
          { chartId: c, x: 0, y: 4, width: 12, height: 6 },
        ],
      },
    });
    const dashboard = created.dashboard;
    expect(dashboard).toMatchObject({
      title: 'Sales & Pipeline (Q3) — Übersicht',
      slug: 'sales-pipeline-q3-ubersicht',
      published: false,
      nativeFilters: [{ column: 'source', operator: 'IN', values: ['website', 'referral'] }],
    });
    // Grid order: top to bottom, left to right.
    expect(dashboard.charts.map((p: any) => [p.chart.id, p.x, p.y, p.width, p.height])).toEqual([
      [a, 0, 0, 6, 4],
      [b, 6, 0, 6, 4],
      [c, 0, 4, 12, 6],
    ]);
    expect((await call(tokens.analyst, ONE_DASHBOARD, { k: dashboard.slug })).data!.dashboard).toEqual(dashboard);
    expect((await call(tokens.analyst, ONE_DASHBOARD, { k: dashboard.id.toUpperCase() })).data!.dashboard).toEqual(dashboard);

    // The native filters apply to each chart's data (both charts read leads, which have `source`).
    const { data } = await call(tokens.analyst, 'query($k: String!) { dashboard(idOrSlug: $k) { charts { chart { id } data { rows } } } }', { k: dashboard.id });
    const filtered = (await acmeRows(`SELECT count(*)::int AS n FROM crm.leads WHERE source IN ('website', 'referral')`))[0].n;
    expect(data!.dashboard.charts.find((p: any) => p.chart.id === b).data.rows).toEqual([[filtered]]);
    // A chart whose dataset lacks the column (deals have no source) is not filtered by it.
    const deals = await newChart({ name: 'Deal count', type: 'BIG_NUMBER', dataset: 'deals', metrics: [{ aggregate: 'COUNT' }] });
    await ok(tokens.analyst, UPDATE_DASHBOARD, { id: dashboard.id, i: { charts: [...layout([a, b, c]).map((p) => ({ ...p, y: p.y + 20 })), { chartId: deals, x: 0, y: 0, width: 4, height: 4 }] } });
    const withDeals = await call(tokens.analyst, 'query($k: String!) { dashboard(idOrSlug: $k) { charts { chart { id } data { rows } } } }', { k: dashboard.id });
    expect(withDeals.data!.dashboard.charts[0]).toEqual({ chart: { id: deals }, data: { rows: [(await acmeRows('SELECT count(*)::int AS count FROM crm.deals')).map((r) => r.count)] } });

    // A new title keeps the slug; the layout is replaced when given; publishing shows it to everyone.
    const updated = await ok(tokens.owner, UPDATE_DASHBOARD, {
      id: dashboard.id,
      i: { title: 'Pipeline', published: true, description: null, nativeFilters: null, charts: [{ chartId: c, x: 2, y: 1, width: 8, height: 3 }] },
    });
    expect(updated.dashboard).toMatchObject({ title: 'Pipeline', slug: dashboard.slug, published: true, description: null, nativeFilters: [] });
    expect(updated.dashboard.charts.map((p: any) => [p.chart.id, p.x, p.y, p.width, p.height])).toEqual([[c, 2, 1, 8, 3]]);
    expect((await ok(tokens.analyst, UPDATE_DASHBOARD, { id: dashboard.id, i: { slug: 'pipeline-board' } })).dashboard.slug).toBe('pipeline-board');
    expect((await call(tokens.viewer, ONE_DASHBOARD, { k: 'pipeline-board' })).data!.dashboard.title).toBe('Pipeline');

    // Deleting a chart takes it off every dashboard.
    await ok(tokens.analyst, DELETE_CHART, { id: c });
    expect((await call(tokens.viewer, ONE_DASHBOARD, { k: dashboard.id })).data!.dashboard.charts).toEqual([]);

    expect((await ok(tokens.analyst, DELETE_DASHBOARD, { id: dashboard.id })).deletedId).toBe(dashboard.id);
    const gone = await call(tokens.analyst, ONE_DASHBOARD, { k: 'pipeline-board' });
    expect(gone.data!.dashboard).toBeNull();
    expect(codes(gone)).toEqual(['NOT_FOUND']);
    expect((await acmeRows('SELECT count(*)::int AS n FROM bi.dashboard_charts WHERE dashboard_id = $1', [dashboard.id]))[0].n).toBe(0);
  });

  it('the demo dashboard is published with the charts the issue names, and computes', async () => {
    const { data, errors } = await call(
      tokens.viewer,
      `query($k: String!) { dashboard(idOrSlug: $k) { title published charts { chart { name type definition { dataset } } data { rowCount } vegaLite } } }`,
      { k: DEMO_DASHBOARD.slug },
    );
    expect(errors).toBeUndefined();
    expect(data!.dashboard.published).toBe(true);
    expect(data!.dashboard.charts.map((p: any) => p.chart.name).sort()).toEqual(DEMO_CHARTS.map((c) => c.name).sort());
    for (const placed of data!.dashboard.charts) {
      expect(placed.vegaLite.$schema, placed.chart.name).toMatch(/vega-lite/);
      // Every chart over crm and cms facts has rows (order facts come from Saleor's webhooks).
      if (placed.chart.definition.dataset !== 'order_lines') expect(placed.data.rowCount, placed.chart.name).toBeGreaterThan(0);
    }
  });

  it('refuses bad layouts, slugs and filters with field errors', async () => {
    const [a, b] = [await newChart(), await newChart()];
    const errorsOf = async (input: Record<string, unknown>) => {
      const result = await call(tokens.analyst, CREATE_DASHBOARD, { i: { title: 'Broken', ...input } });
      expect(result.errors).toBeUndefined();
      expect(result.data!.createDashboard.dashboard).toBeNull();
      return result.data!.createDashboard.errors.map((e: any) => ({ field: e.field, code: e.code }));
    };
    const at = (place: Record<string, number>, chartId = a) => ({ charts: [{ chartId, x: 0, y: 0, width: 4, height: 4, ...place }] });
    expect(await errorsOf(at({ x: 12 }))).toEqual([{ field: 'charts.0.x', code: 'INVALID' }]);
    expect(await errorsOf(at({ x: -1 }))).toEqual([{ field: 'charts.0.x', code: 'INVALID' }]);
    expect(await errorsOf(at({ y: -1 }))).toEqual([{ field: 'charts.0.y', code: 'INVALID' }]);
    expect(await errorsOf(at({ width: 0 }))).toEqual([{ field: 'charts.0.width', code: 'INVALID' }]);
    expect(await errorsOf(at({ width: 13 }))).toEqual([{ field: 'charts.0.width', code: 'INVALID' }]);
    expect(await errorsOf(at({ x: 9, width: 4 }))).toEqual([{ field: 'charts.0.width', code: 'INVALID' }]);
    expect(await errorsOf(at({ height: 0 }))).toEqual([{ field: 'charts.0.height', code: 'INVALID' }]);
    expect(await errorsOf(at({ height: 25 }))).toEqual([{ field: 'charts.0.height', code: 'INVALID' }]);
    expect(await errorsOf(at({}, '00000000-0000-4000-8000-000000000000'))).toEqual([{ field: 'charts.0.chartId', code: 'NOT_FOUND' }]);
    expect(await errorsOf(at({}, 'chart-1'))).toEqual([{ field: 'charts.0.chartId', code: 'NOT_FOUND' }]);
    expect(await errorsOf({ charts: [...layout([a, b]), { chartId: a, x: 0, y: 8, width: 3, height: 4 }] })).toEqual([{ field: 'charts.2.chartId', code: 'DUPLICATE' }]);
    expect(await errorsOf({ charts: [...layout([a]), { chartId: b, x: 2, y: 3, width: 3, height: 4 }] })).toEqual([{ field: 'charts.1', code: 'INVALID' }]);
    const many = Array.from({ length: 51 }, (_, i) => ({ chartId: a, x: 0, y: i, width: 1, height: 1 }));
    expect(await errorsOf({ charts: many })).toEqual([{ field: 'charts', code: 'TOO_LARGE' }]);
    expect(await errorsOf({ slug: 'Not A Slug' })).toEqual([{ field: 'slug', code: 'INVALID' }]);
    expect(await errorsOf({ slug: '6f1c1f8e-5b0a-4a44-9d3c-2f6f8a0b9c11' })).toEqual([{ field: 'slug', code: 'INVALID' }]);
    expect(await errorsOf({ title: ' ' })).toEqual([{ field: 'title', code: 'REQUIRED' }]);
    expect(await errorsOf({ nativeFilters: [{ column: 'password', operator: 'EQ', values: ['x'] }] })).toEqual([{ field: 'nativeFilters.0.column', code: 'UNKNOWN_COLUMN' }]);
    expect(await errorsOf({ nativeFilters: [{ column: 'score', operator: 'RANGE', values: ['high', null] }] })).toEqual([{ field: 'nativeFilters.0.values.0', code: 'WRONG_TYPE' }]);
    // Several problems at once.
    expect(await errorsOf({ title: '', charts: [{ chartId: a, x: 11, y: 0, width: 2, height: 30 }] })).toEqual([
      { field: 'title', code: 'REQUIRED' },
      { field: 'charts.0.width', code: 'INVALID' },
      { field: 'charts.0.height', code: 'INVALID' },
    ]);
    // Fifty charts fit.
    const fifty = [];
    for (let i = 0; i < 50; i++) fifty.push(i < 2 ? [a, b][i]! : await newChart(leadCount));
    const full = await newDashboard({ charts: layout(fifty) });
    expect((await call(tokens.analyst, ONE_DASHBOARD, { k: full.id })).data!.dashboard.charts).toHaveLength(50);

    // A slug is unique in the tenant, derived or given; an update is checked the same way.
    await newDashboard({ title: 'Weekly numbers' });
    expect(await errorsOf({ title: 'Weekly numbers!' })).toEqual([{ field: 'slug', code: 'DUPLICATE' }]);
    const other = await newDashboard({ title: 'Monthly numbers' });
    const clash = await call(tokens.analyst, UPDATE_DASHBOARD, { id: other.id, i: { slug: 'weekly-numbers' } });
    expect(clash.data!.updateDashboard.errors.map((e: any) => [e.field, e.code])).toEqual([['slug', 'DUPLICATE']]);
    const badUpdate = await call(tokens.analyst, UPDATE_DASHBOARD, { id: other.id, i: { charts: [{ chartId: a, x: 0, y: 0, width: 12, height: 99 }], published: null } });
    expect(badUpdate.data!.updateDashboard.errors.map((e: any) => [e.field, e.code])).toEqual([
      ['published', 'REQUIRED'],
      ['charts.0.height', 'INVALID'],
    ]);
    expect((await call(tokens.analyst, ONE_DASHBOARD, { k: other.id })).data!.dashboard.slug).toBe('monthly-numbers');
  });
});

describe('who may do what', () => {
  it('viewers and editors read but never write charts or dashboards; anonymous callers do neither', async () => {
    const dashboard = await newDashboard();
    const chart = await newChart();
    for (const who of ['viewer', 'editor'] as const) {
      expect(codes(await call(tokens[who], CREATE_CHART, { i: leadsByStatus })), who).toEqual(['FORBIDDEN']);
      expect(codes(await call(tokens[who], UPDATE_CHART, { id: chart, i: leadsByStatus })), who).toEqual(['FORBIDDEN']);
      expect(codes(await call(tokens[who], DELETE_CHART, { id: chart })), who).toEqual(['FORBIDDEN']);
      expect(codes(await call(tokens[who], CREATE_DASHBOARD, { i: { title: 'Mine' } })), who).toEqual(['FORBIDDEN']);
      expect(codes(await call(tokens[who], UPDATE_DASHBOARD, { id: dashboard.id, i: { published: true } })), who).toEqual(['FORBIDDEN']);
      expect(codes(await call(tokens[who], DELETE_DASHBOARD, { id: dashboard.id })), who).toEqual(['FORBIDDEN']);
      expect((await call(tokens[who], ONE_CHART, { id: chart })).data!.chart.id, who).toBe(chart);
    }
    expect(codes(await call(null, ONE_CHART, { id: chart }))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await call(null, DASHBOARD_IDS))).toEqual(['UNAUTHENTICATED']);
    // Nothing changed.
    expect((await call(tokens.analyst, ONE_DASHBOARD, { k: dashboard.id })).data!.dashboard.published).toBe(false);
  });

  it('an unpublished dashboard exists for analysts and above only, by id, slug, list and _entities', async () => {
    const { id, slug } = await newDashboard({ title: 'Draft board', charts: layout([await newChart()]) });
    const ENTITIES = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Dashboard { id title } } }';
    for (const who of ['viewer', 'editor'] as const) {
      for (const k of [id, slug]) {
        const one = await call(tokens[who], ONE_DASHBOARD, { k });
        expect(one.data!.dashboard, `${who} ${k}`).toBeNull();
        expect(codes(one), `${who} ${k}`).toEqual(['NOT_FOUND']);
      }
      const list = await call(tokens[who], DASHBOARD_IDS, {});
      expect(list.errors).toBeUndefined();
      expect(list.data!.dashboards.edges.length, who).toBeGreaterThan(0);
      expect(list.data!.dashboards.edges.every((e: any) => e.node.published), who).toBe(true);
      expect(list.data!.dashboards.totalCount, who).toBe(list.data!.dashboards.edges.length);
      expect((await call(tokens[who], DASHBOARD_IDS, { p: false })).data!.dashboards, who).toEqual({ totalCount: 0, edges: [] });
      // Straight at the subgraph, as the gateway would ask for it.
      const entities = await gql(stack.urls.bi!, ENTITIES, { r: [{ __typename: 'Dashboard', id }] }, bearer(tokens[who]));
      expect(entities.data!._entities, who).toEqual([null]);
    }
    for (const who of ['analyst', 'owner'] as const) {
      expect((await call(tokens[who], ONE_DASHBOARD, { k: slug })).data!.dashboard.id, who).toBe(id);
      const drafts = await call(tokens[who], DASHBOARD_IDS, { p: false });
      expect(drafts.data!.dashboards.edges.map((e: any) => e.node.id), who).toContain(id);
      expect((await call(tokens[who], DASHBOARD_IDS, { p: true })).data!.dashboards.edges.map((e: any) => e.node.id), who).not.toContain(id);
      expect((await gql(stack.urls.bi!, ENTITIES, { r: [{ __typename: 'Dashboard', id }] }, bearer(tokens[who]))).data!._entities).toEqual([{ id, title: 'Draft board' }]);
    }
    // Published, everyone sees it.
    await ok(tokens.analyst, UPDATE_DASHBOARD, { id, i: { published: true } });
    expect((await call(tokens.viewer, ONE_DASHBOARD, { k: slug })).data!.dashboard.charts).toHaveLength(1);
    expect((await call(tokens.editor, DASHBOARD_IDS, {})).data!.dashboards.edges.map((e: any) => e.node.id)).toContain(id);
  });
});

describe('a globex token never sees acme charts or dashboards', () => {
  it('through lists, by id, by slug, in layouts, in writes and through _entities', async () => {
    const chart = await newChart();
    const board = await newDashboard({ title: 'Acme secret plans', charts: layout([chart]) });
    await ok(tokens.analyst, UPDATE_DASHBOARD, { id: board.id, i: { published: true } });
    const acmeDemo = (await call(tokens.viewer, ONE_DASHBOARD, { k: DEMO_DASHBOARD.slug })).data!.dashboard;

    const charts = await call(tokens.globex, '{ charts(first: 100) { totalCount edges { node { id name } } } }');
    expect(charts.errors).toBeUndefined();
    // Globex has its own demo charts, so the list is not empty by accident.
    expect(charts.data!.charts.totalCount).toBe(DEMO_CHARTS.length);
    expect(charts.data!.charts.edges.map((e: any) => e.node.id)).not.toContain(chart);
    const dashboards = await call(tokens.globex, DASHBOARD_IDS, {});
    expect(dashboards.data!.dashboards.edges.map((e: any) => e.node.slug)).toEqual([DEMO_DASHBOARD.slug]);
    expect(dashboards.data!.dashboards.edges[0].node.id).not.toBe(acmeDemo.id);

    for (const k of [board.id, board.slug, acmeDemo.id]) {
      const one = await call(tokens.globex, ONE_DASHBOARD, { k });
      expect(one.data!.dashboard, k).toBeNull();
      expect(codes(one), k).toEqual(['NOT_FOUND']);
    }
    // The same slug names globex's own dashboard, never acme's.
    const own = (await call(tokens.globex, ONE_DASHBOARD, { k: DEMO_DASHBOARD.slug })).data!.dashboard;
    expect(own.id).not.toBe(acmeDemo.id);
    expect(own.charts.map((p: any) => p.chart.id)).not.toEqual(expect.arrayContaining([acmeDemo.charts[0].chart.id]));
    const one = await call(tokens.globex, ONE_CHART, { id: chart });
    expect(one.data!.chart).toBeNull();
    expect(codes(one)).toEqual(['NOT_FOUND']);

    // Writes: acme's ids do not exist for globex.
    expect((await call(tokens.globex, UPDATE_CHART, { id: chart, i: leadsByStatus })).data!.updateChart.errors).toEqual([{ field: 'id', code: 'NOT_FOUND' }]);
    expect((await call(tokens.globex, DELETE_CHART, { id: chart })).data!.deleteChart.errors).toEqual([{ field: 'id', code: 'NOT_FOUND' }]);
    expect((await call(tokens.globex, DELETE_DASHBOARD, { id: board.id })).data!.deleteDashboard.errors).toEqual([{ field: 'id', code: 'NOT_FOUND' }]);
    const borrowed = await call(tokens.globex, CREATE_DASHBOARD, { i: { title: 'Borrowed', charts: layout([chart]) } });
    expect(borrowed.data!.createDashboard).toEqual({ dashboard: null, errors: [{ field: 'charts.0.chartId', code: 'NOT_FOUND', message: 'No such chart.' }] });
    expect((await call(tokens.analyst, ONE_CHART, { id: chart })).data!.chart.id).toBe(chart);

    // Straight at the subgraph: entity references of acme's objects are null for globex.
    const entities = await gql(
      stack.urls.bi!,
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on Chart { id name data { rowCount } } ... on Dashboard { id title charts { chart { id } } } } }',
      { r: [{ __typename: 'Chart', id: chart }, { __typename: 'Dashboard', id: board.id }, { __typename: 'Dashboard', id: acmeDemo.id }] },
      bearer(tokens.globex),
    );
    expect(entities.errors).toBeUndefined();
    expect(entities.data!._entities).toEqual([null, null, null]);
    // The same request with an acme token finds them: the nulls above are the tenant's doing.
    const mine = await gql(stack.urls.bi!, 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Chart { id } } }', { r: [{ __typename: 'Chart', id: chart }] }, bearer(tokens.viewer));
    expect(mine.data!._entities).toEqual([{ id: chart }]);
  });
});

describe('cost and freshness', () => {
  const count = async (query: string, variables: Record<string, unknown>) => {
    statements = [];
    const result = await call(tokens.viewer, query, variables);
    expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
    return { n: statements.length, data: result.data!, texts: statements.map((s) => s.replace(/\s+/g, ' ').slice(0, 80)) };
  };

  it('a dashboard with N charts costs a fixed number of statements for its layout, and at most one chart query per chart', async () => {
    const LAYOUT = 'query($k: String!) { dashboard(idOrSlug: $k) { title charts { x y chart { id name type definition { dataset } owner { id } } } } }';
    const DATA = 'query($k: String!) { dashboard(idOrSlug: $k) { title charts { chart { name } data { rowCount } } } }';
    const results: Record<number, { layout: number; cold: number; warm: number }> = {};
    for (const n of [2, 12]) {
      // Distinct definitions (a row limit each), so each chart is a query of its own.
      const ids: string[] = [];
      for (let i = 0; i < n; i++) ids.push(await newChart({ ...leadsByStatus, rowLimit: 100 + n * 100 + i }));
      const board = await newDashboard({ charts: layout(ids) });
      await ok(tokens.analyst, UPDATE_DASHBOARD, { id: board.id, i: { published: true } });
      const layoutCost = await count(LAYOUT, { k: board.slug });
      expect(layoutCost.data.dashboard.charts).toHaveLength(n);
      const cold = await count(DATA, { k: board.slug });
      expect(cold.data.dashboard.charts.every((p: any) => p.data.rowCount > 0)).toBe(true);
      const chartQueries = cold.texts.filter((t) => t.includes('lead_facts')).length;
      expect(chartQueries, JSON.stringify(cold.texts)).toBe(n);
      const warm = await count(DATA, { k: board.slug });
      results[n] = { layout: layoutCost.n, cold: cold.n, warm: warm.n };
    }
    const all = JSON.stringify(results);
    // The layout: the dashboard, then its charts with their places, whatever N is.
    expect(results[12]!.layout, all).toBe(results[2]!.layout);
    expect(results[2]!.layout, all).toBeLessThanOrEqual(2);
    // Cold: the layout, plus the same small cost per chart (its query, and the engine's
    // statement timeout); warm: the layout alone, the data from Redis.
    const perChart = (n: 2 | 12) => (results[n]!.cold - results[n]!.layout) / n;
    expect(perChart(12), all).toBe(perChart(2));
    expect(perChart(12), all).toBeLessThanOrEqual(2);
    for (const n of [2, 12] as const) expect(results[n]!.warm, all).toBe(results[n]!.layout);
  });

  it('chart data follow a CRM write at once (the chart cache is keyed by the CRM generation)', async () => {
    const id = await newChart(leadCount);
    const QUERY = 'query($id: ID!) { chart(id: $id) { data { rows computedAt } } }';
    const first = await count(QUERY, { id });
    const total = (await acmeRows('SELECT count(*)::int AS n FROM crm.leads'))[0].n;
    expect(first.data.chart.data.rows).toEqual([[total]]);
    const cached = await count(QUERY, { id });
    expect(cached.data.chart.data).toEqual(first.data.chart.data); // the same computation, from Redis
    expect(cached.texts.filter((t) => t.includes('lead_facts'))).toEqual([]);

    const created = await call(tokens.editor, 'mutation { createLead(input: { name: "Fresh Lead", source: "bi-test" }) { lead { id } errors { code } } }');
    expect(created.data!.createLead.errors).toEqual([]);
    const after = await count(QUERY, { id });
    expect(after.data.chart.data.rows).toEqual([[total + 1]]);
    expect(after.texts.filter((t) => t.includes('lead_facts'))).toHaveLength(1);

    // Globex's data did not move: its own generation.
    const globexChart = await newChart(leadCount, tokens.globex);
    const globex = await call(tokens.globex, QUERY, { id: globexChart });
    expect(globex.data!.chart.data.rows).toEqual([[150]]);
  });
});
