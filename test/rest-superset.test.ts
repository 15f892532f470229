import { randomUUID } from 'node:crypto';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestError } from '../gateway/rest/errors.ts';
import { openApiPath } from '../gateway/rest/openapi.ts';
import { parseRison, RisonError } from '../gateway/rest/rison.ts';
import { ROUTES } from '../gateway/rest/routes.ts';
import { decodeQ, humanized, listArgs } from '../gateway/rest/superset.ts';
import { timeRangeInput, timeRangeText, translateQuery } from '../gateway/rest/superset-query.ts';
import { DEMO_DASHBOARD } from '../subgraphs/bi/seed.ts';
import { bearer, gql } from './support/graphql.ts';
import { expectDocumented, rest } from './support/rest.ts';
import { startSupergraph, type RunningSupergraph } from './support/stack.ts';

/** A list without its "… seconds ago" fields, which move between two requests a second apart. */
const timeless = (body: any) => ({ ...body, result: body.result.map(({ changed_on_delta_humanized: _c, created_on_delta_humanized: _d, ...rest }: any) => rest) });

// The Superset paths of the REST shim (/api/brain/superset/*) over the whole supergraph: Superset
// REST API v1 lists with rison `q`, dashboards with json_metadata and position_json, charts,
// chart data against the graph's own answers, SQL refused, tenant isolation, errors, OpenAPI.

// --- Parsing, without the stack ------------------------------------------------------------------

/** The RestError `fn` throws (its status and body). */
function thrown(fn: () => unknown): { status: number; body: any } {
  try {
    fn();
  } catch (error) {
    if (error instanceof RestError) return { status: error.status, body: error.body };
    throw error;
  }
  throw new Error('did not throw');
}

describe('rison', () => {
  it('reads objects, arrays, strings, numbers, booleans, null and bare ids', () => {
    expect(parseRison("(filters:!((col:slice_name,opr:ct,value:'sales report')),order_column:changed_on,order_direction:desc,page:0,page_size:25)")).toEqual({
      filters: [{ col: 'slice_name', opr: 'ct', value: 'sales report' }],
      order_column: 'changed_on',
      order_direction: 'desc',
      page: 0,
      page_size: 25,
    });
    expect(parseRison('!(!t,!f,!n,-1.5e2,0,abc,\'it!\'s !!\')')).toEqual([true, false, null, -150, 0, 'abc', "it's !"]);
    expect(parseRison('()')).toEqual({});
    expect(parseRison('!()')).toEqual([]);
    expect(parseRison("('a b':'')")).toEqual({ 'a b': '' });
    expect(parseRison('(keys:!(none),columns:!(id,slug))')).toEqual({ keys: ['none'], columns: ['id', 'slug'] });
  });

  it('is as strict as prison: whitespace, trailing text, bad escapes, unclosed input, depth', () => {
    for (const bad of ['(a: 1)', '(a:1))', "'x!y'", '(a:1', '!(1,2', '!x', '', "'open", '(1:2)', `${'!('.repeat(40)}${')'.repeat(40)}`]) {
      expect(() => parseRison(bad), bad).toThrow(RisonError);
    }
  });

  it('q: rison, else JSON, else 400 in Superset\'s words; then checked against the list schema', () => {
    expect(decodeQ('(page:1)')).toEqual({ page: 1 });
    expect(decodeQ('{"page": 1, "filters": [{"col": "slug", "opr": "eq", "value": "x"}]}')).toEqual({ page: 1, filters: [{ col: 'slug', opr: 'eq', value: 'x' }] });
    expect(decodeQ(undefined)).toEqual({});
    expect(thrown(() => decodeQ('(page:'))).toEqual({ status: 400, body: { message: 'Not a valid rison/json argument' } });

    expect(listArgs({})).toMatchObject({ page: 0, pageSize: 20, filters: [], orderColumn: null, columns: null, keys: null });
    expect(listArgs({ page_size: 1000 }).pageSize).toBe(100);
    expect(listArgs({ page_size: 0 }).pageSize).toBe(100);
    for (const bad of [{ page: 'x' }, { page: -1 }, { order_direction: 'up' }, { filters: [{ col: 'x', opr: 'eq' }] }, { filters: {} }, { keys: ['bogus'] }, { columns: 'id' }, []]) {
      const error = thrown(() => listArgs(bad));
      expect(error.status).toBe(400);
      expect(error.body.message).toMatch(/^Not a valid rison schema/);
    }
  });

  it('humanizes like Python humanize', () => {
    const now = Date.parse('2026-01-10T12:00:00Z');
    expect(humanized('2026-01-10T11:59:30Z', now)).toBe('30 seconds ago');
    expect(humanized('2026-01-10T11:00:00Z', now)).toBe('an hour ago');
    expect(humanized('2026-01-07T12:00:00Z', now)).toBe('3 days ago');
    expect(humanized('2025-01-01T00:00:00Z', now)).toBe('a year ago');
  });
});

describe('time_range and time grains', () => {
  const at = (iso: string) => new Date(iso);

  it("Superset's Last day/week/month/quarter/year: the period before today, today excluded, months clamped", () => {
    const now = at('2024-03-31T15:20:00Z');
    expect(timeRangeInput('Last day', now)).toEqual({ from: '2024-03-30T00:00:00Z', to: '2024-03-31T00:00:00Z' });
    expect(timeRangeInput('Last week', now)).toEqual({ from: '2024-03-24T00:00:00Z', to: '2024-03-31T00:00:00Z' });
    expect(timeRangeInput('Last month', now)).toEqual({ from: '2024-02-29T00:00:00Z', to: '2024-03-31T00:00:00Z' });
    expect(timeRangeInput('Last quarter', now)).toEqual({ from: '2023-12-31T00:00:00Z', to: '2024-03-31T00:00:00Z' });
    expect(timeRangeInput('last year', now)).toEqual({ from: '2023-03-31T00:00:00Z', to: '2024-03-31T00:00:00Z' });
    expect(timeRangeInput('Last month', at('2024-01-01T00:00:00Z'))).toEqual({ from: '2023-12-01T00:00:00Z', to: '2024-01-01T00:00:00Z' });
  });

  it('calendar periods, No filter, absolute ranges with open ends, today and now', () => {
    const now = at('2024-05-15T08:00:00Z');
    expect(timeRangeInput('No filter', now)).toBeNull();
    expect(timeRangeInput('', now)).toBeNull();
    expect(timeRangeInput(undefined, now)).toBeNull();
    expect(timeRangeInput('previous calendar month', now)).toEqual({ relative: 'LAST_MONTH' });
    expect(timeRangeInput('previous calendar week', now)).toEqual({ relative: 'LAST_WEEK' });
    expect(timeRangeInput('Current quarter', now)).toEqual({ relative: 'THIS_QUARTER' });
    expect(timeRangeInput('2024-01-01 : 2024-02-01', now)).toEqual({ from: '2024-01-01', to: '2024-02-01' });
    expect(timeRangeInput('2024-01-01T10:00:00 : ', now)).toEqual({ from: '2024-01-01T10:00:00', to: null });
    expect(timeRangeInput(' : today', now)).toEqual({ from: null, to: '2024-05-15T00:00:00Z' });
    expect(timeRangeInput('2024-05-01 : now', now)).toEqual({ from: '2024-05-01', to: '2024-05-15T08:00:00Z' });
    for (const bad of ['Last fortnight', 'DATEADD(DATETIME("now"), -7, day) : now', 'yesterday : today', ' : ', '2024-13 : 2024-14']) {
      expect(() => timeRangeInput(bad, now), bad).toThrow(/Unsupported time range/);
    }
  });

  it('our ranges written as Superset does read back as the same range', () => {
    const now = new Date();
    for (const relative of ['LAST_7_DAYS', 'LAST_30_DAYS', 'LAST_90_DAYS', 'LAST_365_DAYS', 'LAST_WEEK', 'LAST_MONTH', 'LAST_QUARTER', 'LAST_YEAR', 'TODAY', 'THIS_WEEK', 'THIS_MONTH', 'THIS_QUARTER', 'THIS_YEAR']) {
      expect(timeRangeInput(timeRangeText({ relative, from: null, to: null }), now), relative).toEqual({ relative });
    }
    expect(timeRangeInput(timeRangeText({ relative: null, from: '2024-01-01T00:00:00Z', to: null }), now)).toEqual({ from: '2024-01-01T00:00:00Z', to: null });
    expect(timeRangeText(null)).toBe('No filter');
  });

  it('grains P1D, P1W, P1M, P3M, P1Y on the time axis; others, and SQL anywhere, are 400s naming the field', () => {
    const now = new Date('2024-05-15T00:00:00Z');
    const axis = (timeGrain: string) => ({ columns: [{ columnType: 'BASE_AXIS', sqlExpression: 'created_at', label: 'created_at', expressionType: 'SQL', timeGrain }], metrics: ['count'] });
    for (const [code, grain] of [['P1D', 'DAY'], ['P1W', 'WEEK'], ['P1M', 'MONTH'], ['P3M', 'QUARTER'], ['P1Y', 'YEAR']]) {
      expect(translateQuery('leads', axis(code!), 0, now).input).toMatchObject({ timeColumn: 'created_at', timeGrain: grain });
    }
    expect(translateQuery('leads', { granularity: 'created_at', is_timeseries: true, extras: { time_grain_sqla: 'P1W' }, metrics: ['count'] }, 0, now)).toMatchObject({
      input: { timeColumn: 'created_at', timeGrain: 'WEEK' },
      colnames: new Map([['created_at', '__timestamp'], ['__metric_0', 'count']]),
    });
    // A grain in extras alone (Superset sends one with every chart) buckets nothing.
    expect(translateQuery('leads', { columns: ['status'], metrics: ['count'], extras: { time_grain_sqla: 'P1D' } }, 0, now).input).toMatchObject({ timeColumn: null, timeGrain: null });

    expect(thrown(() => translateQuery('leads', { ...axis('P1D'), columns: [{ columnType: 'BASE_AXIS', sqlExpression: 'created_at' }] }, 0, now)).body.message.queries[0].columns[0]).toMatch(
      /needs a time grain/,
    );
    expect(thrown(() => translateQuery('leads', axis('PT1H'), 2, now))).toMatchObject({ status: 400, body: { message: { queries: { 2: { columns: [expect.stringMatching(/Unsupported time grain "PT1H"/)] } } } } });
    const sql = [
      { metrics: [{ expressionType: 'SQL', sqlExpression: 'COUNT(*)', label: 'n' }] },
      { metrics: ['count'], extras: { where: '1=1' } },
      { metrics: ['count'], extras: { having: 'COUNT(*) > 1' } },
      { metrics: ['count'], columns: [{ expressionType: 'SQL', sqlExpression: 'lower(status)', label: 's' }] },
      { metrics: ['count'], filters: [{ col: { sqlExpression: 'lower(status)' }, op: '==', val: 'x' }] },
      { metrics: ['count'], orderby: [[{ expressionType: 'SQL', sqlExpression: 'random()' }, true]] },
    ];
    for (const query of sql) {
      const error = thrown(() => translateQuery('leads', query, 0, now));
      expect(error.status, JSON.stringify(query)).toBe(400);
      expect(JSON.stringify(error.body), JSON.stringify(query)).toMatch(/is SQL, which is never accepted/);
    }
    expect(thrown(() => translateQuery('leads', { metrics: ['count'], filters: [{ col: 'score', op: '>', val: 1 }] }, 0, now)).body.message.queries[0].filters[0]).toMatch(
      /Unsupported operator ">"/,
    );
    expect(thrown(() => translateQuery('leads', { metrics: ['sum__amount'] }, 0, now)).body.message.queries[0].metrics[0]).toMatch(/Unknown saved metric/);
  });
});

// --- Through the gateway -------------------------------------------------------------------------

let stack: RunningSupergraph;
let base: string;
let openapi: any;
const tokens: Record<'owner' | 'editor' | 'viewer' | 'globex', string> = {} as never;

beforeAll(async () => {
  stack = await startSupergraph();
  base = stack.base;
  tokens.owner = await stack.login('owner@acme.example');
  tokens.editor = await stack.login('editor@acme.example');
  tokens.viewer = await stack.login('viewer@acme.example');
  tokens.globex = await stack.login('owner@globex.example');
  openapi = (await rest(`${base}/api/brain/openapi.json`)).body;
});
afterAll(() => stack?.close());

type Who = keyof typeof tokens;
/** A Superset path (under /api/brain/superset) as `as`; `q` is sent as it is, URL-encoded. */
const superset = (path: string, options: { as?: Who | null; q?: string; method?: string; json?: unknown } = {}) => {
  const as = options.as === undefined ? 'viewer' : options.as;
  const url = `${base}/api/brain/superset${path}${options.q === undefined ? '' : `?q=${encodeURIComponent(options.q)}`}`;
  return rest(url, { method: options.method, json: options.json, token: as ? tokens[as] : undefined });
};
const chartData = (json: unknown, as: Who = 'owner') => superset('/api/v1/chart/data', { method: 'POST', json, as });
const graphql = async (as: Who, query: string, variables: Record<string, unknown> = {}) => {
  const result = await gql(stack.graphql, query, variables, bearer(tokens[as]));
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return result.data as Record<string, any>;
};

const DATA = 'data { columns { name type } rows rowCount from to computedAt }';
/** The graph's own answer for a definition (chartPreview, as the owner unless said). */
async function preview(input: Record<string, unknown>, as: Who = 'owner') {
  const data = await graphql(as, `query($i: ChartInput!) { chartPreview(input: $i) { ${DATA} errors { field message } } }`, {
    i: { name: 'expected', type: 'TABLE', ...input },
  });
  expect(data.chartPreview.errors).toEqual([]);
  return data.chartPreview.data as { columns: { name: string; type: string }[]; rows: unknown[][] };
}
/** Graph rows as Superset records (temporal values in epoch ms), under the given names. */
const records = (data: { columns: { name: string; type: string }[]; rows: unknown[][] }, names: string[]) =>
  data.rows.map((row) => Object.fromEntries(names.map((name, j) => [name, data.columns[j]!.type === 'TIME' && row[j] !== null ? Date.parse(row[j] as string) : row[j]])));

const CREATE_DASHBOARD = `mutation($i: DashboardInput!) { createDashboard(input: $i) { dashboard { id slug } errors { field message } } }`;
const PUBLISH = `mutation($id: ID!) { updateDashboard(id: $id, input: { published: true }) { dashboard { id } errors { field message } } }`;
const CREATE_CHART = `mutation($i: ChartInput!) { createChart(input: $i) { chart { id } errors { field message } } }`;

async function createChart(input: Record<string, unknown>, as: Who = 'owner'): Promise<string> {
  const data = await graphql(as, CREATE_CHART, { i: input });
  expect(data.createChart.errors).toEqual([]);
  return data.createChart.chart.id;
}
async function createDashboard(input: Record<string, unknown>, publish: boolean, as: Who = 'owner'): Promise<{ id: string; slug: string }> {
  const data = await graphql(as, CREATE_DASHBOARD, { i: input });
  expect(data.createDashboard.errors).toEqual([]);
  if (publish) expect((await graphql(as, PUBLISH, { id: data.createDashboard.dashboard.id })).updateDashboard.errors).toEqual([]);
  return data.createDashboard.dashboard;
}

const acmeDemo = () => superset(`/api/v1/dashboard/${DEMO_DASHBOARD.slug}`);

describe('authentication and the route table', () => {
  it('every superset route answers 401 {"message": "Not authorized"} without a token', async () => {
    const routes = ROUTES.filter((r) => r.tag === 'superset');
    expect(routes.length).toBe(13);
    for (const route of routes) {
      const path = route.path.replace('/superset', '').replace(/\{\w+\}/g, randomUUID());
      const response = await superset(path, { as: null, method: route.method, json: route.body ? {} : undefined });
      expect(response.status, `${route.method} ${route.path}`).toBe(401);
      expect(response.body).toEqual({ message: 'Not authorized' });
    }
  });

  it('openapi.json documents every superset route, with Superset\'s error shape, and validates', async () => {
    const result = await new Validator().validate(openapi);
    expect(result.errors ?? []).toEqual([]);
    for (const route of ROUTES.filter((r) => r.tag === 'superset')) {
      const operation = openapi.paths[`/api/brain${openApiPath(route.path)}`]?.[route.method.toLowerCase()];
      expect(operation?.operationId, route.id).toBe(route.id);
      expect(operation.tags).toEqual(['superset']);
      expect(operation.responses['401'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/SupersetMessage' });
    }
    expect(openapi.paths['/api/brain/superset/api/v1/chart/{id}/thumbnail'].get.responses['200'].content).toHaveProperty(['image/svg+xml; charset=utf-8']);
  });
});

describe('lists: {count, ids, result} and q', () => {
  it('dashboards: every key, the demo dashboard, count as the graph counts; keys and columns select', async () => {
    const { status, body } = await superset('/api/v1/dashboard/');
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['count', 'description_columns', 'ids', 'label_columns', 'list_columns', 'list_title', 'order_columns', 'result']);
    expectDocumented(openapi, 'supersetDashboardList', body);
    const graph = await graphql('viewer', '{ dashboards(first: 100) { totalCount edges { node { id slug } } } }');
    expect(body.count).toBe(graph.dashboards.totalCount);
    expect(body.ids).toEqual(body.result.map((d: any) => d.id));
    const demo = body.result.find((d: any) => d.slug === DEMO_DASHBOARD.slug);
    expect(demo).toMatchObject({ dashboard_title: DEMO_DASHBOARD.title, published: true, status: 'published' });
    expect(body.label_columns.dashboard_title).toBe('Dashboard Title');
    expect(body.order_columns).toContain('changed_on_delta_humanized');

    const bare = await superset('/api/v1/dashboard/', { q: '(keys:!(none),columns:!(id,slug))' });
    expect(Object.keys(bare.body).sort()).toEqual(['count', 'ids', 'result']);
    expect(Object.keys(bare.body.result[0]).sort()).toEqual(['id', 'slug']);
    const some = await superset('/api/v1/dashboard/', { q: '(keys:!(list_columns),columns:!(slug,bogus))' });
    expect(some.body).toMatchObject({ list_columns: ['slug'] });
    expect(some.body).not.toHaveProperty('label_columns');

    // The seed's path is the same list.
    expect(timeless((await superset('/dashboards', { q: '(keys:!(none))' })).body)).toEqual(timeless((await superset('/api/v1/dashboard', { q: '(keys:!(none))' })).body));
  });

  it('dashboards: eq, ct, sw, in filters, order and pages from 0; JSON q too; drafts only for analysts and above', async () => {
    const tag = `sup${randomUUID().slice(0, 6)}`;
    const made = [];
    for (const [i, title] of ['Beta', 'alpha', 'Gamma'].entries()) made.push(await createDashboard({ title: `${tag} ${title}`, slug: `${tag}-${i}` }, true));
    const draft = await createDashboard({ title: `${tag} Draft`, slug: `${tag}-draft` }, false);

    const byTitle = (q: string, as: Who = 'viewer') => superset('/api/v1/dashboard/', { q, as }).then((r) => r.body);
    const ct = await byTitle(`(filters:!((col:dashboard_title,opr:ct,value:${tag.toUpperCase()})),order_column:dashboard_title,order_direction:asc)`);
    expect(ct.count).toBe(3);
    expect(ct.result.map((d: any) => d.dashboard_title)).toEqual([`${tag} alpha`, `${tag} Beta`, `${tag} Gamma`]);
    const desc = await byTitle(`(filters:!((col:dashboard_title,opr:ct,value:${tag})),order_column:dashboard_title,order_direction:desc,page:1,page_size:2)`);
    expect(desc).toMatchObject({ count: 3, result: [{ dashboard_title: `${tag} alpha` }] });
    const first = await byTitle(`(filters:!((col:dashboard_title,opr:ct,value:${tag})),order_column:dashboard_title,order_direction:desc,page:0,page_size:2)`);
    expect(first.result.map((d: any) => d.dashboard_title)).toEqual([`${tag} Gamma`, `${tag} Beta`]);

    expect((await byTitle(`(filters:!((col:slug,opr:eq,value:'${tag}-1')))`)).ids).toEqual([made[1]!.id]);
    expect((await byTitle(`(filters:!((col:slug,opr:sw,value:'${tag}-')),order_column:slug)`)).ids).toEqual(made.map((d) => d.id));
    expect((await byTitle(`(filters:!((col:id,opr:in,value:!('${made[0]!.id}','${made[2]!.id.toUpperCase()}'))),order_column:slug)`)).ids).toEqual([made[0]!.id, made[2]!.id]);
    const json = await byTitle(JSON.stringify({ filters: [{ col: 'slug', opr: 'sw', value: `${tag}-` }], order_column: 'slug', order_direction: 'desc', keys: ['none'] }));
    expect(json.ids).toEqual(made.map((d) => d.id).reverse());

    // A draft: the owner (an analyst and above) sees it, a viewer does not.
    expect((await byTitle(`(filters:!((col:slug,opr:sw,value:'${tag}-')))`)).count).toBe(3);
    expect((await byTitle(`(filters:!((col:slug,opr:sw,value:'${tag}-')))`, 'owner')).count).toBe(4);
    expect((await byTitle(`(filters:!((col:published,opr:eq,value:!f),(col:slug,opr:sw,value:'${tag}')))`, 'owner')).ids).toEqual([draft.id]);
    expect((await superset(`/api/v1/dashboard/${draft.slug}`)).status).toBe(404);
    expect((await superset(`/api/v1/dashboard/${draft.slug}`, { as: 'owner' })).status).toBe(200);
  });

  it('bad q: 400 in Superset\'s words (rison, schema, filter column, operator, order column)', async () => {
    const bad = async (q: string) => {
      const { status, body } = await superset('/api/v1/chart/', { q });
      expect(status, q).toBe(400);
      return body.message;
    };
    expect(await bad('(filters:!((col:slice_name,opr:ct,value:x))')).toBe('Not a valid rison/json argument');
    expect(await bad('(page:x)')).toMatch(/^Not a valid rison schema: page/);
    expect(await bad('(order_direction:sideways)')).toMatch(/^Not a valid rison schema: order_direction/);
    expect(await bad('(filters:!((col:params,opr:eq,value:x)))')).toBe('Filter column: params not allowed to filter');
    expect(await bad('(filters:!((col:id,opr:ct,value:x)))')).toBe('Filter operation: ct not allowed on column: id');
    expect(await bad('(filters:!((col:slice_name,opr:in,value:x)))')).toMatch(/must be a list/);
    expect(await bad('(order_column:params)')).toBe('Order column: params not allowed');
    expect((await superset('/api/v1/dataset/', { q: '(page:' })).body).toEqual({ message: 'Not a valid rison/json argument' });
  });

  it('charts: the graph\'s charts with form_data; filters by dataset and viz type; ordered by name', async () => {
    const { body } = await superset('/api/v1/chart/', { q: '(page_size:100)' });
    expectDocumented(openapi, 'supersetChartList', body);
    const graph = await graphql('viewer', '{ charts(first: 1) { totalCount } }');
    expect(body.count).toBe(graph.charts.totalCount);
    const pipeline = body.result.find((c: any) => c.slice_name === 'Pipeline by stage');
    expect(pipeline).toMatchObject({ viz_type: 'echarts_timeseries_bar', datasource_id: 'deals', datasource_type: 'table' });
    expect(JSON.parse(pipeline.params)).toMatchObject({ datasource: 'deals__table', groupby: ['stage'], metrics: [{ aggregate: 'SUM', column: { column_name: 'amount' }, label: 'amount' }] });

    const deals = await superset('/api/v1/chart/', { q: '(filters:!((col:datasource_id,opr:eq,value:deals),(col:viz_type,opr:eq,value:echarts_timeseries_bar)),order_column:slice_name,order_direction:asc,page_size:100)' });
    const names = deals.body.result.map((c: any) => c.slice_name);
    expect(names).toEqual([...names].sort((a: string, b: string) => a.localeCompare(b)));
    expect(names).toEqual(expect.arrayContaining(['Pipeline by stage', 'Won revenue per month']));
    expect(deals.body.result.every((c: any) => c.datasource_id === 'deals')).toBe(true);
    // The same list by both paths.
    expect(timeless((await superset('/charts', { q: '(keys:!(none),page_size:100)' })).body)).toEqual(timeless((await superset('/api/v1/chart/', { q: '(keys:!(none),page_size:100)' })).body));
  });

  it('a list longer than one page of the graph is read whole: count, order and pages over all of it', async () => {
    const tag = `sup${randomUUID().slice(0, 6)}`;
    const total = 105;
    const names = Array.from({ length: total }, (_, i) => `${tag} chart ${String(i).padStart(3, '0')}`);
    for (let i = 0; i < total; i += 15) {
      await Promise.all(
        names.slice(i, i + 15).map((name, j) =>
          createChart({ name, type: (i + j) % 2 ? 'PIE' : 'BAR', dataset: 'leads', metrics: [{ aggregate: 'COUNT', label: 'leads' }], dimensions: ['status'] }),
        ),
      );
    }
    const page = (q: string) => superset('/api/v1/chart/', { q }).then((r) => r.body);
    const last = await page(`(filters:!((col:slice_name,opr:ct,value:'${tag} chart')),order_column:slice_name,order_direction:asc,page:5,page_size:20,keys:!(none),columns:!(slice_name))`);
    expect(last.count).toBe(total);
    expect(last.result.map((c: any) => c.slice_name)).toEqual(names.slice(100));
    const capped = await page(`(filters:!((col:slice_name,opr:sw,value:'${tag}')),page_size:1000,columns:!(id))`);
    expect(capped.result).toHaveLength(100);
    expect(capped.count).toBe(total);
    const pies = await page(`(filters:!((col:slice_name,opr:sw,value:'${tag}'),(col:viz_type,opr:in,value:!(pie,table))),page_size:100)`);
    expect(pies.count).toBe(52);
    expect(pies.result.every((c: any) => c.viz_type === 'pie')).toBe(true);
    const notPies = await page(`(filters:!((col:slice_name,opr:sw,value:'${tag}'),(col:viz_type,opr:neq,value:pie),(col:slice_name,opr:nct,value:'chart 00')),page_size:100)`);
    expect(notPies.count).toBe(53 - 5);
  });

  it('datasets: named, with their columns and the saved metric count; 404 for an unknown one', async () => {
    const { body } = await superset('/api/v1/dataset/');
    expectDocumented(openapi, 'supersetDatasetList', body);
    const graph = await graphql('viewer', '{ biDatasets { name } }');
    expect(body.ids).toEqual(graph.biDatasets.map((d: any) => d.name).sort());
    expect(body.result.find((d: any) => d.id === 'leads')).toMatchObject({ table_name: 'leads', main_dttm_col: 'created_at', kind: 'physical' });
    expect((await superset('/api/v1/dataset/', { q: '(filters:!((col:table_name,opr:sw,value:order)))' })).body.ids).toEqual(['order_lines', 'orders']);
    expect((await superset('/datasets')).body).toEqual(body);

    const leads = await superset('/api/v1/dataset/leads');
    expectDocumented(openapi, 'supersetDatasetGet', leads.body);
    expect(leads.body.result.metrics).toEqual([{ metric_name: 'count', verbose_name: 'Count', expression: 'COUNT(*)', metric_type: 'count' }]);
    expect(leads.body.result.columns.find((c: any) => c.column_name === 'created_at')).toMatchObject({ type_generic: 2, is_dttm: true, groupby: false });
    expect(leads.body.result.columns.find((c: any) => c.column_name === 'status')).toMatchObject({ type_generic: 1, groupby: true, filterable: true });
    expect(await superset('/api/v1/dataset/nope')).toMatchObject({ status: 404, body: { message: 'Not found' } });
  });
});

describe('dashboards: one, by id or slug, and its charts', () => {
  it('the same dashboard by id and slug; json_metadata and position_json are JSON strings in Superset\'s formats', async () => {
    const bySlug = await acmeDemo();
    expect(bySlug.status).toBe(200);
    expectDocumented(openapi, 'supersetDashboardGet', bySlug.body);
    const byId = await superset(`/api/v1/dashboard/${bySlug.body.result.id}`);
    expect(byId.body.result).toEqual({ ...bySlug.body.result, changed_on_delta_humanized: byId.body.result.changed_on_delta_humanized, created_on_delta_humanized: byId.body.result.created_on_delta_humanized });

    const graph = await graphql('viewer', 'query($s: String!) { dashboard(idOrSlug: $s) { id charts { chart { id name } x y width height } } }', { s: DEMO_DASHBOARD.slug });
    const result = bySlug.body.result;
    expect(result.charts).toEqual(graph.dashboard.charts.map((p: any) => p.chart.name));
    const metadata = JSON.parse(result.json_metadata);
    expect(metadata).toMatchObject({ native_filter_configuration: [], cross_filters_enabled: false });
    const position = JSON.parse(result.position_json);
    expect(position).toMatchObject({ DASHBOARD_VERSION_KEY: 'v2', ROOT_ID: { children: ['GRID_ID'] }, HEADER_ID: { meta: { text: DEMO_DASHBOARD.title } } });
    for (const placed of graph.dashboard.charts) {
      const item = position[`CHART-${placed.chart.id}`];
      expect(item).toMatchObject({ type: 'CHART', meta: { chartId: placed.chart.id, sliceName: placed.chart.name, width: placed.width, height: placed.height, x: placed.x, y: placed.y } });
      const row = position[item.parents[2]];
      expect(row.type).toBe('ROW');
      expect(row.children).toContain(item.id);
      expect(position.GRID_ID.children).toContain(row.id);
    }
    // Rows top to bottom, charts left to right.
    const rows = position.GRID_ID.children.map((id: string) => position[id].children.map((c: string) => position[c].meta));
    expect(rows.map((row: any[]) => row[0].y)).toEqual([...new Set(graph.dashboard.charts.map((p: any) => p.y))].sort((a: any, b: any) => a - b));
    for (const row of rows) expect(row.map((m: any) => m.x)).toEqual([...row.map((m: any) => m.x)].sort((a, b) => a - b));

    expect(await superset('/api/v1/dashboard/no-such-dashboard')).toMatchObject({ status: 404, body: { message: 'Not found' } });
    expect(await superset(`/api/v1/dashboard/${randomUUID()}`)).toMatchObject({ status: 404, body: { message: 'Not found' } });
  });

  it('native filters as native_filter_configuration, in scope of the charts whose dataset has the column', async () => {
    const leadsChart = await createChart({ name: 'Leads by source (sup)', type: 'BAR', dataset: 'leads', metrics: [{ aggregate: 'COUNT', label: 'leads' }], dimensions: ['source'] });
    const dealsChart = await createChart({ name: 'Deals by stage (sup)', type: 'BAR', dataset: 'deals', metrics: [{ aggregate: 'SUM', column: 'amount', label: 'amount' }], dimensions: ['stage'] });
    const tag = `sup${randomUUID().slice(0, 6)}`;
    const dashboard = await createDashboard(
      {
        title: `${tag} filtered`,
        nativeFilters: [
          { column: 'source', operator: 'IN', values: ['web', 'referral'] },
          { column: 'amount', operator: 'RANGE', values: [100, null] },
          { column: 'created_at', operator: 'RANGE', values: ['2024-01-01T00:00:00Z', null] },
        ],
        charts: [
          { chartId: dealsChart, x: 6, y: 0, width: 6, height: 4 },
          { chartId: leadsChart, x: 0, y: 0, width: 6, height: 4 },
        ],
      },
      true,
    );
    const { body } = await superset(`/api/v1/dashboard/${dashboard.id}`);
    const [source, amount, created] = JSON.parse(body.result.json_metadata).native_filter_configuration;
    expect(created).toMatchObject({
      filterType: 'filter_time',
      chartsInScope: [leadsChart, dealsChart],
      defaultDataMask: { extraFormData: { time_range: expect.stringMatching(/^2024-01-01T00:00:00(\.000)?Z : $/), granularity_sqla: 'created_at' } },
    });
    expect(source).toMatchObject({
      name: 'source',
      filterType: 'filter_select',
      targets: [{ column: { name: 'source' } }],
      chartsInScope: [leadsChart],
      scope: { rootPath: ['ROOT_ID'], excluded: [dealsChart] },
      defaultDataMask: { extraFormData: { filters: [{ col: 'source', op: 'IN', val: ['web', 'referral'] }] }, filterState: { value: ['web', 'referral'] } },
    });
    expect(amount).toMatchObject({ filterType: 'filter_range', chartsInScope: [dealsChart], defaultDataMask: { extraFormData: { filters: [{ col: 'amount', op: '>=', val: 100 }] } } });
    const position = JSON.parse(body.result.position_json);
    expect(position[position.GRID_ID.children[0]].children).toEqual([`CHART-${leadsChart}`, `CHART-${dealsChart}`]);
    expect(body.result.charts).toEqual(['Leads by source (sup)', 'Deals by stage (sup)']);

    const charts = await superset(`/api/v1/dashboard/${dashboard.slug}/charts`);
    expectDocumented(openapi, 'supersetDashboardCharts', charts.body);
    expect(charts.body.result.map((c: any) => c.id)).toEqual([leadsChart, dealsChart]);
    expect(charts.body.result[0]).toMatchObject({ slice_name: 'Leads by source (sup)', viz_type: 'echarts_timeseries_bar', form_data: { slice_id: leadsChart, datasource: 'leads__table', groupby: ['source'] } });
  });
});

describe('chart data', () => {
  const AGGREGATES = [
    ['COUNT', null],
    ['COUNT_DISTINCT', 'owner_id'],
    ['SUM', 'amount'],
    ['AVG', 'amount'],
    ['MIN', 'probability'],
    ['MAX', 'amount'],
  ] as const;

  it('every aggregate, as the graph computes the same definition; coltypes; colnames in Superset\'s labels', async () => {
    const metrics = AGGREGATES.map(([aggregate, column]) => (aggregate === 'COUNT' ? 'count' : { expressionType: 'SIMPLE', aggregate, column: { column_name: column } }));
    const { status, body } = await chartData({
      datasource: { id: 'deals', type: 'table' },
      queries: [{ columns: ['stage', 'won'], metrics, orderby: [['stage', true], ['won', true]], row_limit: 1000 }],
      result_format: 'json',
      result_type: 'full',
    });
    expect(status, JSON.stringify(body)).toBe(200);
    expectDocumented(openapi, 'supersetChartDataQuery', body);
    const [result] = body.result;
    const names = ['stage', 'won', 'count', 'COUNT_DISTINCT(owner_id)', 'SUM(amount)', 'AVG(amount)', 'MIN(probability)', 'MAX(amount)'];
    expect(result).toMatchObject({ colnames: names, coltypes: [1, 3, 0, 0, 0, 0, 0, 0], status: 'success', error: null });
    expect(result).not.toHaveProperty('query');
    const expected = await preview({
      dataset: 'deals',
      metrics: AGGREGATES.map(([aggregate, column], i) => ({ aggregate, column, label: `m${i}` })),
      dimensions: ['stage', 'won'],
      sort: [{ by: 'stage' }, { by: 'won' }],
    });
    expect(expected.rows.length).toBeGreaterThan(1);
    expect(result.data).toEqual(records(expected, names));
    expect(result.rowcount).toBe(expected.rows.length);
    expect(result.indexnames).toEqual(expected.rows.map((_, i) => i));

    // The same through `results`: only the data keys.
    const results = await chartData({ datasource: 'deals__table', queries: [{ columns: ['stage', 'won'], metrics, orderby: [['stage', true], ['won', true]] }], result_type: 'results' });
    expect(Object.keys(results.body.result[0]).sort()).toEqual(['coltypes', 'colnames', 'data', 'rowcount', 'sql_rowcount'].sort());
    expect(results.body.result[0].data).toEqual(result.data);
  });

  it('filters, order by a metric, row limit, a time axis with a grain and a Superset time range, as the graph computes them', async () => {
    const { body } = await chartData({
      datasource: { id: 'leads', type: 'table' },
      queries: [
        {
          columns: ['status'],
          metrics: [{ expressionType: 'SIMPLE', aggregate: 'AVG', column: { column_name: 'score' }, label: 'avg score' }, 'count'],
          filters: [
            { col: 'status', op: 'IN', val: ['new', 'contacted', 'qualified'] },
            { col: 'score', op: '>=', val: 10 },
            { col: 'score', op: '<', val: 90 },
            { col: 'converted', op: 'IS FALSE' },
          ],
          orderby: [['count', false], ['status', true]],
          row_limit: 2,
        },
        {
          columns: [{ columnType: 'BASE_AXIS', sqlExpression: 'created_at', label: 'month', expressionType: 'SQL', timeGrain: 'P1M' }],
          metrics: ['count'],
          filters: [{ col: 'source', op: 'ILIKE', val: '%e%' }, { col: 'created_at', op: 'TEMPORAL_RANGE', val: 'Last year' }],
          orderby: [['month', true]],
        },
      ],
    });
    expect(body.result).toHaveLength(2);
    const [byStatus, byMonth] = body.result;
    const expectedStatus = await preview({
      dataset: 'leads',
      metrics: [{ aggregate: 'AVG', column: 'score', label: 'a' }, { aggregate: 'COUNT', label: 'n' }],
      dimensions: ['status'],
      filters: [
        { column: 'status', operator: 'IN', values: ['new', 'contacted', 'qualified'] },
        { column: 'score', operator: 'RANGE', values: [10, null] },
        { column: 'score', operator: 'RANGE', values: [null, 90] },
        { column: 'converted', operator: 'EQ', values: [false] },
      ],
      sort: [{ by: 'n', descending: true }, { by: 'status' }],
      rowLimit: 2,
    });
    expect(byStatus.colnames).toEqual(['status', 'avg score', 'count']);
    expect(byStatus.data).toEqual(records(expectedStatus, ['status', 'avg score', 'count']));
    expect(byStatus.applied_filters).toEqual([{ column: 'status' }, { column: 'score' }, { column: 'score' }, { column: 'converted' }]);

    const today = new Date();
    const to = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()));
    const from = new Date(Date.UTC(to.getUTCFullYear() - 1, to.getUTCMonth(), Math.min(to.getUTCDate(), new Date(Date.UTC(to.getUTCFullYear() - 1, to.getUTCMonth() + 1, 0)).getUTCDate())));
    const expectedMonths = await preview({
      dataset: 'leads',
      metrics: [{ aggregate: 'COUNT', label: 'n' }],
      timeColumn: 'created_at',
      timeGrain: 'MONTH',
      timeRange: { from: from.toISOString(), to: to.toISOString() },
      filters: [{ column: 'source', operator: 'CONTAINS', values: ['e'] }],
      sort: [{ by: 'created_at' }],
    });
    expect(byMonth.colnames).toEqual(['month', 'count']);
    expect(byMonth.coltypes).toEqual([2, 0]);
    expect(byMonth.data).toEqual(records(expectedMonths, ['month', 'count']));
    expect(byMonth.from_dttm).toBe(from.getTime());
    expect(byMonth.to_dttm).toBe(to.getTime());
    expect(byMonth.data.length).toBeGreaterThan(0);
    expect(typeof byMonth.data[0].month).toBe('number');
  });

  it('a saved chart: its data by GET, and its query_context posted back computes the same; is_cached tells the cache answered', async () => {
    const id = await createChart({
      name: 'Won amount per quarter (sup)',
      type: 'LINE',
      dataset: 'deals',
      metrics: [{ aggregate: 'SUM', column: 'amount', label: 'won amount' }],
      dimensions: ['currency'],
      timeColumn: 'created_at',
      timeGrain: 'QUARTER',
      timeRange: { relative: 'LAST_365_DAYS' },
      filters: [{ column: 'won', operator: 'EQ', values: [true] }, { column: 'stage', operator: 'CONTAINS', values: ['o'] }],
      sort: [{ by: 'created_at' }],
      rowLimit: 500 + Math.floor(Math.random() * 400),
    });
    const chart = await superset(`/api/v1/chart/${id}`);
    expectDocumented(openapi, 'supersetChartGet', chart.body);
    expect(chart.body.result).toMatchObject({ id, slice_name: 'Won amount per quarter (sup)', viz_type: 'echarts_timeseries_line', datasource_id: 'deals' });
    expect(JSON.parse(chart.body.result.params)).toMatchObject({ x_axis: 'created_at', time_grain_sqla: 'P3M', time_range: 'DATEADD(DATETIME("today"), -364, day) : DATEADD(DATETIME("today"), 1, day)' });

    const first = await superset(`/api/v1/chart/${id}/data`);
    expect(first.status).toBe(200);
    expectDocumented(openapi, 'supersetChartData', first.body);
    expect(first.body.result[0].is_cached).toBe(false);
    const again = await superset(`/api/v1/chart/${id}/data`);
    expect(again.body.result[0]).toMatchObject({ is_cached: true, cached_dttm: expect.any(String) });
    const graph = await graphql('viewer', `query($id: ID!) { chart(id: $id) { ${DATA} } }`, { id });
    expect(first.body.result[0].colnames).toEqual(['created_at', 'currency', 'won amount']);
    expect(first.body.result[0].data).toEqual(records(graph.chart.data, ['created_at', 'currency', 'won amount']));

    const posted = await chartData(JSON.parse(chart.body.result.query_context));
    expect(posted.status, JSON.stringify(posted.body)).toBe(200);
    expect(posted.body.result[0].data).toEqual(first.body.result[0].data);
    expect(posted.body.result[0].colnames).toEqual(first.body.result[0].colnames);
  });

  it('the thumbnail is the chart as SVG', async () => {
    const list = await superset('/api/v1/chart/', { q: "(filters:!((col:slice_name,opr:eq,value:'Pipeline by stage')))" });
    const [id] = list.body.ids;
    expect(list.body.result[0].thumbnail_url).toBe(`${base}/api/brain/superset/api/v1/chart/${id}/thumbnail/`);
    const response = await fetch(list.body.result[0].thumbnail_url, { headers: { authorization: `Bearer ${tokens.viewer}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    // Opened directly in a browser it is still only a picture: no scripts, no loads.
    expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'; sandbox");
    expect((await response.text()).trimStart()).toMatch(/^<svg/);
  });

  it('bad requests are 400s in marshmallow\'s shape; SQL is refused; a viewer may not preview (403)', async () => {
    const deals = { id: 'deals', type: 'table' };
    expect(await chartData({ datasource: deals })).toMatchObject({ status: 400, body: { message: { queries: ['Missing data for required field.'] } } });
    const sqlMetric = await chartData({ datasource: deals, queries: [{ metrics: [{ expressionType: 'SQL', sqlExpression: 'SUM(amount) * 2', label: 'x' }] }] });
    expect(sqlMetric.status).toBe(400);
    expect(sqlMetric.body.message.queries['0'].metrics[0]).toMatch(/SQL, which is never accepted/);
    const where = await chartData({ datasource: deals, queries: [{ metrics: ['count'], extras: { where: "stage = 'x' OR 1=1" } }] });
    expect(where).toMatchObject({ status: 400, body: { message: { queries: { 0: { extras: { where: [expect.stringMatching(/never accepted/)] } } } } } });
    expect((await chartData({ datasource: { id: 'nope', type: 'table' }, queries: [{ metrics: ['count'] }] })).body.message.datasource[0]).toMatch(/nope/);
    expect((await chartData({ datasource: { id: 7, type: 'table' }, queries: [{ metrics: ['count'] }] })).body.message.datasource[0]).toMatch(/named here/);
    const unknownColumn = await chartData({ datasource: deals, queries: [{ columns: ['password'], metrics: ['count'] }] });
    expect(unknownColumn).toMatchObject({ status: 400, body: { message: { queries: { 0: { columns: [expect.stringMatching(/password/)] } } } } });
    const sumText = await chartData({ datasource: deals, queries: [{ metrics: [{ expressionType: 'SIMPLE', aggregate: 'SUM', column: { column_name: 'stage' }, label: 'bad' }] }] });
    expect(sumText.status).toBe(400);
    expect(sumText.body.message.queries['0']).toHaveProperty('metrics');
    expect(JSON.stringify(sumText.body)).not.toContain('__metric_');
    expect((await chartData({ datasource: deals, queries: [{ metrics: ['count'], time_range: 'since the dawn of time' }] })).body.message.queries['0'].time_range[0]).toMatch(
      /Unsupported time range/,
    );
    expect((await chartData({ datasource: deals, queries: [{ metrics: ['count'] }], result_type: 'query' })).body.message.result_type[0]).toMatch(/never given/);
    expect((await chartData({ datasource: deals, queries: [{ metrics: ['count'], row_limit: 100_000 }] })).body.message.queries['0'].row_limit).toHaveLength(1);

    const viewer = await chartData({ datasource: deals, queries: [{ metrics: ['count'] }] }, 'viewer');
    expect(viewer.status).toBe(403);
    expect(typeof viewer.body.message).toBe('string');
  });
});

describe('tenant isolation', () => {
  it("a globex token never sees acme's dashboards, charts or data through these paths", async () => {
    const acme = (await acmeDemo()).body.result;
    const acmeCharts = (await superset(`/api/v1/dashboard/${acme.id}/charts`)).body.result.map((c: any) => c.id);
    expect(acmeCharts.length).toBeGreaterThan(0);

    const dashboards = await superset('/api/v1/dashboard/', { as: 'globex', q: '(page_size:100)' });
    expect(dashboards.status).toBe(200);
    expect(dashboards.body.ids).not.toContain(acme.id);
    // Globex has its own demo dashboard under the same slug: its own, never acme's.
    const sameSlug = await superset(`/api/v1/dashboard/${DEMO_DASHBOARD.slug}`, { as: 'globex' });
    expect(sameSlug.status).toBe(200);
    expect(sameSlug.body.result.id).not.toBe(acme.id);
    expect(JSON.parse(sameSlug.body.result.position_json)).not.toHaveProperty(`CHART-${acmeCharts[0]}`);

    const charts = await superset('/api/v1/chart/', { as: 'globex', q: '(page_size:100)' });
    for (const id of acmeCharts) {
      expect(charts.body.ids).not.toContain(id);
      for (const path of [`/api/v1/chart/${id}`, `/api/v1/chart/${id}/data`]) {
        expect(await superset(path, { as: 'globex' }), path).toMatchObject({ status: 404, body: { message: 'Not found' } });
      }
      expect((await superset(`/api/v1/chart/${id}/thumbnail/`, { as: 'globex' })).status).toBe(404);
    }
    for (const path of [`/api/v1/dashboard/${acme.id}`, `/api/v1/dashboard/${acme.id}/charts`]) {
      expect(await superset(path, { as: 'globex' }), path).toMatchObject({ status: 404, body: { message: 'Not found' } });
    }
    const ids = charts.body.result.map((c: any) => c.id);
    expect(ids.length).toBeGreaterThan(0);

    // Chart data as globex: globex's own facts, as the graph computes them for globex.
    const query = { datasource: { id: 'leads', type: 'table' }, queries: [{ columns: ['status'], metrics: ['count'], orderby: [['status', true]] }] };
    const globexData = (await chartData(query, 'globex')).body.result[0].data;
    const expected = await preview({ dataset: 'leads', metrics: [{ aggregate: 'COUNT', label: 'count' }], dimensions: ['status'], sort: [{ by: 'status' }] }, 'globex');
    expect(globexData).toEqual(records(expected, ['status', 'count']));
    const acmeLeads = (await graphql('owner', '{ leads(first: 1) { totalCount } }')).leads.totalCount;
    const globexTotal = globexData.reduce((sum: number, row: any) => sum + row.count, 0);
    const globexLeads = (await graphql('globex', '{ leads(first: 1) { totalCount } }')).leads.totalCount;
    expect(globexTotal).toBe(globexLeads);
    expect(acmeLeads).toBeGreaterThan(0);
  });
});
