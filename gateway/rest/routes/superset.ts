import { supersetError } from '../errors.ts';
import { humanized, listArgsOf, Q_PARAM, supersetList, type ListArgs, type ListSpec } from '../superset.ts';
import {
  COLTYPES,
  datasetOf,
  filterClauses,
  formData,
  queryContext,
  queryError,
  queryResult,
  supersetPath,
  translateQuery,
  VIZ_TYPES,
  type ChartDataValue,
  type DefinitionValue,
  type TranslatedQuery,
} from '../superset-query.ts';
import { named, type JsonSchema, type RestCall, type RestRoute } from '../types.ts';
import { single } from '../query.ts';

/*
 * `/api/brain/superset/*`: what Apache Superset's REST API v1 answered, served by the bi subgraph.
 *
 *   GET  /superset/api/v1/dashboard/                    {count, ids, result} (+ FAB's metadata keys), `?q=` rison
 *   GET  /superset/api/v1/dashboard/{id_or_slug}        {result}: json_metadata and position_json as JSON strings
 *   GET  /superset/api/v1/dashboard/{id_or_slug}/charts {result: [chart with form_data]}
 *   GET  /superset/api/v1/chart/                        list, as dashboards
 *   GET  /superset/api/v1/chart/{id}                    {result}: params and query_context as JSON strings
 *   GET  /superset/api/v1/chart/{id}/data               the saved chart's data, as chart/data answers
 *   GET  /superset/api/v1/chart/{id}/thumbnail          the chart as SVG (image/svg+xml; Superset's is a PNG)
 *   POST /superset/api/v1/chart/data                    {datasource, queries, result_type} -> {result: [...]}
 *   GET  /superset/api/v1/dataset/                      list, as dashboards
 *   GET  /superset/api/v1/dataset/{id}                  {result}: columns and the saved metric
 *   GET  /superset/dashboards, /charts, /datasets       the seed's paths: the same lists (the hub forwarded them)
 *
 * Lists, `?q=` and errors follow Flask-AppBuilder (superset.ts); chart queries map onto the
 * graph's chart definitions (superset-query.ts). Paths work with or without the trailing slash.
 *
 * Ids: Superset's are integers; ours are UUIDs and are given as they are, strings, everywhere an
 * id goes (`id`, `ids`, `slice_id`, `chartId`): inventing integers would need a mapping nobody
 * could rely on across tenants. Datasets are defined by the code and named, not numbered: a
 * dataset's id is its name (`leads`, `deals`, `activities`, `pages`, `orders`, `order_lines`),
 * also as `datasource_id` and in chart/data's `datasource` (`{"id": "leads", "type": "table"}`).
 *
 * Lists read what the caller may see through their operation (pages of 100, at most MAX_LISTED),
 * pushing down what the graph filters itself (titles, names, published, type, dataset), then
 * filter, order and page as FAB does (Superset filters and orders on columns the graph does not).
 * `POST chart/data` runs `chartPreview` (analysts, admins and owners, as in the graph: 403 for
 * others), once per query. No SQL is ever accepted or shown (no `query` in results, no `sql` on
 * datasets).
 */

const TAG = 'superset';
const base = { tag: TAG, dialect: 'superset' as const, auth: 'required' as const };
const V1 = '/superset/api/v1';
/** The most items a list reads: enough for any tenant's dashboards and charts. */
const MAX_LISTED = 1000;
const PAGE = 100;

const DEFINITION = `definition {
  dataset metrics { aggregate column label } dimensions timeColumn timeGrain timeRange { relative from to }
  filters { column operator values } sort { by descending } rowLimit
}`;
const DATA = 'data { columns { name label type } rows rowCount truncated from to computedAt }';

interface Owned {
  owner: { id: string } | null;
}
const createdBy = (item: Owned) => (item.owner ? { id: item.owner.id } : null);
const owners = (item: Owned) => (item.owner ? [{ id: item.owner.id }] : []);

interface DashboardNode extends Owned {
  id: string;
  title: string;
  slug: string;
  description: string | null;
  published: boolean;
  createdAt: string;
  updatedAt: string;
}
interface ChartNode extends Owned {
  id: string;
  name: string;
  description: string | null;
  type: string;
  definition: DefinitionValue;
  createdAt: string;
  updatedAt: string;
}
interface DatasetNode {
  name: string;
  label: string;
  description: string;
  defaultTimeColumn: string | null;
  columns: { name: string; label: string; type: string; groupable: boolean; filterable: boolean; aggregates: string[] }[];
}

// --- Lists ----------------------------------------------------------------------------------------

interface ListState {
  args: ListArgs;
  variables: Record<string, unknown>;
}
const lists = new WeakMap<RestCall, ListState>();

/** The single `ct` / `eq` filter on `col`, for pushing it down to the graph. */
const pushable = (args: ListArgs, col: string, opr: string) => {
  const matching = args.filters.filter((f) => f.col === col);
  return matching.length === 1 && matching[0]!.opr === opr ? matching[0]!.value : undefined;
};
const searchable = (value: unknown) => (typeof value === 'string' && value.length <= 200 ? value : undefined);

/**
 * A connection's every node (the first page is the route's own answer; later pages run the same
 * operation through the same pipeline), at most MAX_LISTED.
 */
async function allNodes<T>(call: RestCall, operation: string, root: string, first: any): Promise<T[]> {
  const { variables } = lists.get(call)!;
  if ((first?.totalCount ?? 0) > MAX_LISTED) {
    throw supersetError(400, `More than ${MAX_LISTED} items match: narrow the list with a filter.`);
  }
  const nodes: T[] = [];
  let connection = first;
  for (;;) {
    nodes.push(...connection.edges.map((edge: { node: T }) => edge.node));
    if (!connection.pageInfo.hasNextPage || nodes.length >= MAX_LISTED) return nodes;
    connection = (await call.graphql(operation, { ...variables, first: PAGE, after: connection.pageInfo.endCursor }))[root];
  }
}

const listResponse = (name: string, item: JsonSchema) =>
  named(name, {
    type: 'object',
    description: 'Flask-AppBuilder list; the metadata keys unless `q`.`keys` names others (`none`: none).',
    properties: {
      count: { type: 'integer' },
      ids: { type: 'array', items: { type: 'string' } },
      result: { type: 'array', items: item },
      description_columns: { type: 'object' },
      label_columns: { type: 'object', additionalProperties: { type: 'string' } },
      list_columns: { type: 'array', items: { type: 'string' } },
      list_title: { type: 'string' },
      order_columns: { type: 'array', items: { type: 'string' } },
    },
    required: ['count', 'ids', 'result'],
  });

const account = { type: ['object', 'null'], properties: { id: { type: 'string' } }, required: ['id'] };
const accounts = { type: 'array', items: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } };
const time = { type: 'string', format: 'date-time' };

function listRoutes(
  paths: { path: string; id: string }[],
  spec: {
    what: string;
    operation: string;
    root: string;
    variables(args: ListArgs): Record<string, unknown>;
    list(call: RestCall): ListSpec<any>;
    item: JsonSchema;
    response: string;
    filters: string;
    description?: string;
  },
): RestRoute[] {
  return paths.map(({ path, id }) => ({
    ...base,
    method: 'GET' as const,
    path,
    id,
    summary: `List ${spec.what}`,
    description:
      `Superset's list (Flask-AppBuilder): \`{count, ids, result}\` with the metadata keys; \`?q=\` (rison or JSON) filters ${spec.filters}, ` +
      'orders, pages from 0 (`page_size` 20 by default, at most 100), selects `columns` and `keys`. Ids are our UUIDs, as strings.' +
      (spec.description ? ` ${spec.description}` : ''),
    operation: spec.operation,
    root: spec.root,
    query: { q: Q_PARAM },
    variables: (call: RestCall) => {
      const args = listArgsOf(call);
      const variables = spec.variables(args);
      lists.set(call, { args, variables });
      return { ...variables, first: PAGE, after: null };
    },
    shape: async (connection: any, call: RestCall) => {
      const nodes = await allNodes<any>(call, spec.operation, spec.root, connection);
      return supersetList(spec.list(call), lists.get(call)!.args, nodes);
    },
    response: listResponse(spec.response, spec.item),
  }));
}

const dashboardColumns = (): ListSpec<DashboardNode> => ({
  title: 'List Dashboard',
  id: (d) => d.id,
  baseOrder: ['changed_on', 'desc'],
  columns: {
    id: { value: (d) => d.id, filter: 'exact', order: true },
    dashboard_title: { value: (d) => d.title, filter: 'text', order: true },
    slug: { value: (d) => d.slug, filter: 'text', order: true },
    description: { value: (d) => d.description, filter: 'text' },
    published: { value: (d) => d.published, filter: 'exact', order: true },
    status: { value: (d) => (d.published ? 'published' : 'draft'), filter: 'exact' },
    changed_on_utc: { value: (d) => d.updatedAt, order: true },
    changed_on_delta_humanized: { value: (d) => humanized(d.updatedAt), order: true, sortKey: (d) => d.updatedAt },
    created_on_delta_humanized: { value: (d) => humanized(d.createdAt), order: true, sortKey: (d) => d.createdAt },
    created_by: { value: createdBy },
    owners: { value: owners },
    changed_on: { value: (d) => d.updatedAt, order: true, hidden: true },
    created_on: { value: (d) => d.createdAt, order: true, hidden: true },
  },
});

const DASHBOARD_ITEM = named('SupersetDashboardListItem', {
  type: 'object',
  description: 'The columns of `q`.`columns` (default: all but `changed_on`, `created_on`).',
  properties: {
    id: { type: 'string', format: 'uuid' },
    dashboard_title: { type: 'string' },
    slug: { type: 'string' },
    description: { type: ['string', 'null'] },
    published: { type: 'boolean' },
    status: { enum: ['published', 'draft'] },
    changed_on_utc: time,
    changed_on_delta_humanized: { type: 'string' },
    created_on_delta_humanized: { type: 'string' },
    created_by: account,
    owners: accounts,
    changed_on: time,
    created_on: time,
  },
});

const thumbnailUrl = (call: RestCall, id: string) => call.url(`${V1}/chart/${id}/thumbnail/`);

const chartColumns = (call: RestCall): ListSpec<ChartNode> => ({
  title: 'List Slice',
  id: (c) => c.id,
  baseOrder: ['changed_on', 'desc'],
  columns: {
    id: { value: (c) => c.id, filter: 'exact', order: true },
    slice_name: { value: (c) => c.name, filter: 'text', order: true },
    viz_type: { value: (c) => VIZ_TYPES[c.type], filter: 'exact', order: true },
    description: { value: (c) => c.description, filter: 'text' },
    datasource_id: { value: (c) => c.definition.dataset, filter: 'exact', order: true },
    datasource_type: { value: () => 'table' },
    datasource_name_text: { value: (c) => c.definition.dataset, filter: 'text', order: true },
    params: { value: (c) => JSON.stringify(formData(c)) },
    cache_timeout: { value: () => null },
    thumbnail_url: { value: (c) => thumbnailUrl(call, c.id) },
    changed_on_utc: { value: (c) => c.updatedAt, order: true },
    changed_on_delta_humanized: { value: (c) => humanized(c.updatedAt), order: true, sortKey: (c) => c.updatedAt },
    created_by: { value: createdBy },
    owners: { value: owners },
    changed_on: { value: (c) => c.updatedAt, order: true, hidden: true },
    created_on: { value: (c) => c.createdAt, order: true, hidden: true },
    query_context: { value: (c) => JSON.stringify(queryContext(c)), hidden: true },
  },
});

const CHART_ITEM = named('SupersetChartListItem', {
  type: 'object',
  description: 'The columns of `q`.`columns` (default: all but `changed_on`, `created_on`, `query_context`).',
  properties: {
    id: { type: 'string', format: 'uuid' },
    slice_name: { type: 'string' },
    viz_type: { enum: Object.values(VIZ_TYPES) },
    description: { type: ['string', 'null'] },
    datasource_id: { type: 'string', description: "The dataset's name" },
    datasource_type: { const: 'table' },
    datasource_name_text: { type: 'string' },
    params: { type: 'string', description: 'form_data, as a JSON string' },
    cache_timeout: { type: 'null' },
    thumbnail_url: { type: 'string', format: 'uri' },
    changed_on_utc: time,
    changed_on_delta_humanized: { type: 'string' },
    created_by: account,
    owners: accounts,
    changed_on: time,
    created_on: time,
    query_context: { type: 'string', description: 'A chart/data request computing its data, as a JSON string' },
  },
});

const datasetColumns = (): ListSpec<DatasetNode> => ({
  title: 'List Sqla Table',
  id: (d) => d.name,
  baseOrder: ['table_name', 'asc'],
  columns: {
    id: { value: (d) => d.name, filter: 'exact', order: true },
    table_name: { value: (d) => d.name, filter: 'text', order: true },
    verbose_name: { value: (d) => d.label, filter: 'text', order: true },
    description: { value: (d) => d.description, filter: 'text' },
    main_dttm_col: { value: (d) => d.defaultTimeColumn },
    kind: { value: () => 'physical' },
    datasource_type: { value: () => 'table' },
  },
});

const DATASET_FIELDS = {
  id: { type: 'string', description: 'The dataset\'s name (datasets are named, not numbered)' },
  table_name: { type: 'string' },
  verbose_name: { type: 'string' },
  description: { type: 'string' },
  main_dttm_col: { type: ['string', 'null'] },
  kind: { const: 'physical' },
  datasource_type: { const: 'table' },
};
const DATASET_ITEM = named('SupersetDatasetListItem', { type: 'object', properties: DATASET_FIELDS });

const DASHBOARD_NODE = 'id title slug description published owner { id } createdAt updatedAt';
const CHART_NODE = `id name description type ${DEFINITION} owner { id } createdAt updatedAt`;
const DATASET_NODE = 'name label description defaultTimeColumn columns { name label type groupable filterable aggregates }';

const DASHBOARDS_OPERATION = `query RestSupersetDashboards($first: Int!, $after: String, $filter: DashboardListFilter) {
  dashboards(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { ${DASHBOARD_NODE} } }
  }
}`;
const CHARTS_OPERATION = `query RestSupersetCharts($first: Int!, $after: String, $filter: ChartListFilter) {
  charts(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { ${CHART_NODE} } }
  }
}`;

const typeOfViz = (viz: unknown) => Object.entries(VIZ_TYPES).find(([, v]) => v === viz)?.[0];

const dashboardLists = listRoutes(
  [
    { path: `${V1}/dashboard`, id: 'supersetDashboardList' },
    { path: '/superset/dashboards', id: 'supersetDashboards' },
  ],
  {
    what: 'dashboards (published ones; analysts and above also see drafts)',
    operation: DASHBOARDS_OPERATION,
    root: 'dashboards',
    variables: (args) => {
      const search = searchable(pushable(args, 'dashboard_title', 'ct'));
      const published = pushable(args, 'published', 'eq');
      const filter = { ...(search ? { search } : {}), ...(typeof published === 'boolean' ? { published } : {}) };
      return { filter: Object.keys(filter).length ? filter : null };
    },
    list: dashboardColumns,
    item: DASHBOARD_ITEM,
    response: 'SupersetDashboardList',
    filters: 'on `id`, `dashboard_title`, `slug`, `description`, `published`, `status`',
  },
);

const chartLists = listRoutes(
  [
    { path: `${V1}/chart`, id: 'supersetChartList' },
    { path: '/superset/charts', id: 'supersetCharts' },
  ],
  {
    what: 'charts',
    operation: CHARTS_OPERATION,
    root: 'charts',
    variables: (args) => {
      const search = searchable(pushable(args, 'slice_name', 'ct'));
      const type = typeOfViz(pushable(args, 'viz_type', 'eq'));
      const dataset = pushable(args, 'datasource_id', 'eq');
      const filter = { ...(search ? { search } : {}), ...(type ? { type } : {}), ...(typeof dataset === 'string' ? { dataset } : {}) };
      return { filter: Object.keys(filter).length ? filter : null };
    },
    list: chartColumns,
    item: CHART_ITEM,
    response: 'SupersetChartList',
    filters: 'on `id`, `slice_name`, `viz_type`, `description`, `datasource_id` (the dataset\'s name), `datasource_name_text`',
  },
);

const DATASETS_OPERATION = `query RestSupersetDatasets { biDatasets { ${DATASET_NODE} } }`;

const datasetLists: RestRoute[] = [
  { path: `${V1}/dataset`, id: 'supersetDatasetList' },
  { path: '/superset/datasets', id: 'supersetDatasets' },
].map(({ path, id }) => ({
  ...base,
  method: 'GET' as const,
  path,
  id,
  summary: 'List datasets',
  description:
    "Superset's list of datasets (`{count, ids, result}`), `?q=` as for dashboards, filters on `id`, `table_name`, `verbose_name`, `description`. " +
    "Datasets are defined by the code and named, not numbered: a dataset's `id` is its name (`leads`, ...).",
  operation: DATASETS_OPERATION,
  root: 'biDatasets',
  query: { q: Q_PARAM },
  variables: (call: RestCall) => {
    lists.set(call, { args: listArgsOf(call), variables: {} });
    return {};
  },
  shape: (datasets: DatasetNode[], call: RestCall) => supersetList(datasetColumns(), lists.get(call)!.args, datasets),
  response: listResponse('SupersetDatasetList', DATASET_ITEM),
}));

// --- Dashboards -----------------------------------------------------------------------------------

interface Placed {
  x: number;
  y: number;
  width: number;
  height: number;
  chart: { id: string; name: string; definition: { dataset: string } };
}
interface NativeFilter {
  column: string;
  operator: string;
  values: unknown[];
}

/**
 * Superset's native filters for ours (a filter applies to every chart whose dataset has the
 * column: `chartsInScope`, the others `scope.excluded`). EQ / IN are select filters, a range of
 * numbers a range filter, one of times a time filter, CONTAINS a select filter with ILIKE.
 */
function nativeFilterConfiguration(filters: NativeFilter[], charts: Placed[], datasets: { name: string; columns: { name: string }[] }[]) {
  const columnsOf = new Map(datasets.map((d) => [d.name, new Set(d.columns.map((c) => c.name))]));
  return filters.map((filter, i) => {
    const inScope = charts.filter((p) => columnsOf.get(p.chart.definition.dataset)?.has(filter.column)).map((p) => p.chart.id);
    const isTime = filter.operator === 'RANGE' && filter.values.some((v) => typeof v === 'string');
    const filterType = filter.operator === 'RANGE' ? (isTime ? 'filter_time' : 'filter_range') : 'filter_select';
    const extraFormData = isTime
      ? { time_range: `${(filter.values[0] as string | null) ?? ''} : ${(filter.values[1] as string | null) ?? ''}`, granularity_sqla: filter.column }
      : { filters: filterClauses(filter) };
    return {
      id: `NATIVE_FILTER-${i + 1}`,
      name: filter.column,
      type: 'NATIVE_FILTER',
      filterType,
      targets: [{ column: { name: filter.column } }],
      defaultDataMask: { extraFormData, filterState: { value: filter.values }, ownState: {} },
      controlValues: { multiSelect: filter.operator === 'IN', enableEmptyFilter: false, operator: filter.operator },
      cascadeParentIds: [],
      scope: { rootPath: ['ROOT_ID'], excluded: charts.map((p) => p.chart.id).filter((id) => !inScope.includes(id)) },
      chartsInScope: inScope,
      description: '',
    };
  });
}

/**
 * Superset's dashboard layout (position_json, v2) for our grid: a ROW per distinct `y` (top to
 * bottom), its charts left to right. `meta.width` is in the same 12 columns; `meta.height` is in
 * our grid's rows (the bi grid has no pixel size; Superset counts 8 px units); our exact `x` and
 * `y` are in `meta` too.
 */
function positionJson(title: string, charts: Placed[]) {
  const rows = [...new Set(charts.map((p) => p.y))].sort((a, b) => a - b);
  const layout: Record<string, unknown> = {
    DASHBOARD_VERSION_KEY: 'v2',
    ROOT_ID: { type: 'ROOT', id: 'ROOT_ID', children: ['GRID_ID'] },
    GRID_ID: { type: 'GRID', id: 'GRID_ID', children: rows.map((_, r) => `ROW-${r + 1}`), parents: ['ROOT_ID'] },
    HEADER_ID: { type: 'HEADER', id: 'HEADER_ID', meta: { text: title } },
  };
  rows.forEach((y, r) => {
    const rowId = `ROW-${r + 1}`;
    const inRow = charts.filter((p) => p.y === y).sort((a, b) => a.x - b.x);
    layout[rowId] = {
      type: 'ROW',
      id: rowId,
      children: inRow.map((p) => `CHART-${p.chart.id}`),
      parents: ['ROOT_ID', 'GRID_ID'],
      meta: { background: 'BACKGROUND_TRANSPARENT' },
    };
    for (const p of inRow) {
      layout[`CHART-${p.chart.id}`] = {
        type: 'CHART',
        id: `CHART-${p.chart.id}`,
        children: [],
        parents: ['ROOT_ID', 'GRID_ID', rowId],
        meta: { chartId: p.chart.id, sliceName: p.chart.name, width: p.width, height: p.height, x: p.x, y: p.y },
      };
    }
  });
  return layout;
}

const DASHBOARD_OPERATION = `query RestSupersetDashboard($idOrSlug: String!) {
  dashboard(idOrSlug: $idOrSlug) {
    ${DASHBOARD_NODE}
    nativeFilters { column operator values }
    charts { x y width height chart { id name definition { dataset } } }
  }
  biDatasets { name columns { name } }
}`;

const dashboardDetail: RestRoute = {
  ...base,
  method: 'GET',
  path: `${V1}/dashboard/{id_or_slug}`,
  id: 'supersetDashboardGet',
  summary: 'One dashboard, by id or slug',
  description:
    "`json_metadata` (native filters in Superset's `native_filter_configuration`) and `position_json` (the grid, Superset's " +
    'layout v2) are JSON strings, as Superset gives them; `charts` are the charts\' names. Ids are our UUIDs.',
  operation: DASHBOARD_OPERATION,
  variables: (call) => ({ idOrSlug: call.params.id_or_slug }),
  shape: (data: { dashboard: (DashboardNode & { nativeFilters: NativeFilter[]; charts: Placed[] }) | null; biDatasets: DatasetNode[] | null }) => {
    const d = data.dashboard;
    if (!d) throw supersetError(404, 'Not found');
    const metadata = {
      native_filter_configuration: nativeFilterConfiguration(d.nativeFilters, d.charts, data.biDatasets ?? []),
      chart_configuration: {},
      global_chart_configuration: { scope: { rootPath: ['ROOT_ID'], excluded: [] }, chartsInScope: d.charts.map((p) => p.chart.id) },
      color_scheme: '',
      refresh_frequency: 0,
      expanded_slices: {},
      label_colors: {},
      timed_refresh_immune_slices: [],
      cross_filters_enabled: false,
      default_filters: '{}',
    };
    return {
      result: {
        id: d.id,
        slug: d.slug,
        dashboard_title: d.title,
        description: d.description,
        published: d.published,
        css: '',
        json_metadata: JSON.stringify(metadata),
        position_json: JSON.stringify(positionJson(d.title, d.charts)),
        changed_on: d.updatedAt,
        changed_on_delta_humanized: humanized(d.updatedAt),
        created_on_delta_humanized: humanized(d.createdAt),
        created_by: createdBy(d),
        owners: owners(d),
        charts: d.charts.map((p) => p.chart.name),
        tags: [],
        roles: [],
        is_managed_externally: false,
      },
    };
  },
  response: named('SupersetDashboardResponse', {
    type: 'object',
    properties: {
      result: {
        type: 'object',
        properties: {
          id: { type: 'string', format: 'uuid' },
          slug: { type: 'string' },
          dashboard_title: { type: 'string' },
          description: { type: ['string', 'null'] },
          published: { type: 'boolean' },
          css: { type: 'string' },
          json_metadata: { type: 'string', description: 'JSON: native_filter_configuration, ...' },
          position_json: { type: 'string', description: 'JSON: the layout (v2)' },
          changed_on: time,
          changed_on_delta_humanized: { type: 'string' },
          created_on_delta_humanized: { type: 'string' },
          created_by: account,
          owners: accounts,
          charts: { type: 'array', items: { type: 'string' } },
          tags: { type: 'array', items: { type: 'object' } },
          roles: { type: 'array', items: { type: 'object' } },
          is_managed_externally: { type: 'boolean' },
        },
        required: ['id', 'slug', 'dashboard_title', 'published', 'json_metadata', 'position_json', 'charts'],
      },
    },
    required: ['result'],
  }),
};

const CHART_DETAIL = named('SupersetChart', {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    slice_name: { type: 'string' },
    description: { type: ['string', 'null'] },
    viz_type: { enum: Object.values(VIZ_TYPES) },
    datasource_id: { type: 'string' },
    datasource_type: { const: 'table' },
    datasource_name_text: { type: 'string' },
    params: { type: 'string', description: 'form_data, as a JSON string' },
    query_context: { type: 'string', description: 'A chart/data request computing its data, as a JSON string' },
    cache_timeout: { type: 'null' },
    thumbnail_url: { type: 'string', format: 'uri' },
    changed_on: time,
    changed_on_delta_humanized: { type: 'string' },
    created_by: account,
    owners: accounts,
    tags: { type: 'array' },
    is_managed_externally: { type: 'boolean' },
  },
  required: ['id', 'slice_name', 'viz_type', 'params', 'query_context'],
});

function chartDetail(chart: ChartNode, call: RestCall) {
  return {
    id: chart.id,
    slice_name: chart.name,
    description: chart.description,
    viz_type: VIZ_TYPES[chart.type],
    datasource_id: chart.definition.dataset,
    datasource_type: 'table',
    datasource_name_text: chart.definition.dataset,
    params: JSON.stringify(formData(chart)),
    query_context: JSON.stringify(queryContext(chart)),
    cache_timeout: null,
    thumbnail_url: thumbnailUrl(call, chart.id),
    changed_on: chart.updatedAt,
    changed_on_delta_humanized: humanized(chart.updatedAt),
    created_by: createdBy(chart),
    owners: owners(chart),
    tags: [],
    is_managed_externally: false,
  };
}

const dashboardCharts: RestRoute = {
  ...base,
  method: 'GET',
  path: `${V1}/dashboard/{id_or_slug}/charts`,
  id: 'supersetDashboardCharts',
  summary: "A dashboard's charts, in grid order",
  description: 'Each with its `form_data` (an object, as Superset gives it here).',
  operation: `query RestSupersetDashboardCharts($idOrSlug: String!) {
    dashboard(idOrSlug: $idOrSlug) { id charts { chart { ${CHART_NODE} } } }
  }`,
  root: 'dashboard',
  variables: (call) => ({ idOrSlug: call.params.id_or_slug }),
  shape: (dashboard: { charts: { chart: ChartNode }[] }) => ({
    result: dashboard.charts.map(({ chart }) => ({
      id: chart.id,
      slice_name: chart.name,
      description: chart.description,
      viz_type: VIZ_TYPES[chart.type],
      cache_timeout: null,
      changed_on: chart.updatedAt,
      form_data: formData(chart),
      certified_by: null,
      certification_details: null,
      is_managed_externally: false,
    })),
  }),
  response: named('SupersetDashboardCharts', {
    type: 'object',
    properties: {
      result: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            id: { type: 'string', format: 'uuid' },
            slice_name: { type: 'string' },
            description: { type: ['string', 'null'] },
            viz_type: { type: 'string' },
            cache_timeout: { type: 'null' },
            changed_on: time,
            form_data: { type: 'object' },
            certified_by: { type: 'null' },
            certification_details: { type: 'null' },
            is_managed_externally: { type: 'boolean' },
          },
          required: ['id', 'slice_name', 'form_data'],
        },
      },
    },
    required: ['result'],
  }),
};

// --- Charts ---------------------------------------------------------------------------------------

const chartRoute: RestRoute = {
  ...base,
  method: 'GET',
  path: `${V1}/chart/{id}`,
  id: 'supersetChartGet',
  summary: 'One chart',
  description: '`params` (form_data) and `query_context` (a chart/data request computing its data) are JSON strings. Ids are our UUIDs.',
  operation: `query RestSupersetChart($id: ID!) { chart(id: $id) { ${CHART_NODE} } }`,
  root: 'chart',
  variables: (call) => ({ id: call.params.id }),
  shape: (chart: ChartNode, call) => ({ result: chartDetail(chart, call) }),
  response: named('SupersetChartResponse', { type: 'object', properties: { result: CHART_DETAIL }, required: ['result'] }),
};

const RESULT = named('SupersetChartDataResult', {
  type: 'object',
  description: "One query's answer; `result_type: results` gives only data, colnames, coltypes, rowcount and sql_rowcount.",
  properties: {
    cache_key: { type: 'null' },
    cached_dttm: { type: ['string', 'null'], description: 'When the cached data were computed' },
    cache_timeout: { type: 'null' },
    applied_filters: { type: 'array', items: { type: 'object', properties: { column: { type: 'string' } } } },
    rejected_filters: { type: 'array' },
    annotation_data: { type: 'array' },
    error: { type: 'null' },
    is_cached: { type: 'boolean' },
    status: { const: 'success' },
    stacktrace: { type: 'null' },
    data: { type: 'array', items: { type: 'object' }, description: 'One object per row; temporal values in epoch milliseconds' },
    colnames: { type: 'array', items: { type: 'string' } },
    coltypes: { type: 'array', items: { enum: Object.values(COLTYPES) }, description: '0 numeric, 1 string, 2 temporal, 3 boolean' },
    rowcount: { type: 'integer' },
    sql_rowcount: { type: 'integer' },
    from_dttm: { type: ['integer', 'null'] },
    to_dttm: { type: ['integer', 'null'] },
    indexnames: { type: 'array', items: { type: 'integer' } },
    result_format: { const: 'json' },
  },
  required: ['data', 'colnames', 'coltypes', 'rowcount'],
});
const DATA_RESPONSE = named('SupersetChartDataResponse', {
  type: 'object',
  properties: { result: { type: 'array', items: RESULT } },
  required: ['result'],
});

const RESULT_TYPES = ['full', 'results'];
function resultType(value: unknown, field: string): 'full' | 'results' {
  if (value === undefined || value === null) return 'full';
  if (typeof value !== 'string' || !RESULT_TYPES.includes(value)) {
    throw supersetError(400, { [field]: [`Must be one of: ${RESULT_TYPES.join(', ')} (the SQL of a query is never given).`] });
  }
  return value as 'full' | 'results';
}
function resultFormat(value: unknown, field: string) {
  if (value !== undefined && value !== null && value !== 'json') throw supersetError(400, { [field]: ['Must be one of: json.'] });
}


interface DataState {
  startedAt: number;
  resultType: 'full' | 'results';
  queries: TranslatedQuery[];
}
const dataStates = new WeakMap<RestCall, DataState>();

const savedChartData: RestRoute = {
  ...base,
  method: 'GET',
  path: `${V1}/chart/{id}/data`,
  id: 'supersetChartData',
  summary: "A saved chart's data",
  description: 'As `POST chart/data` answers it, from the live facts (cached until a source changes).',
  operation: `query RestSupersetChartData($id: ID!) { chart(id: $id) { id ${DEFINITION} ${DATA} } }`,
  root: 'chart',
  query: {
    type: { schema: { type: 'string', enum: RESULT_TYPES }, description: '`full` (default) or `results`' },
    format: { schema: { type: 'string', enum: ['json'] }, description: '`json` only' },
  },
  variables: (call) => {
    dataStates.set(call, { startedAt: Date.now(), resultType: resultType(single(call.query.type), 'type'), queries: [] });
    resultFormat(single(call.query.format), 'format');
    return { id: call.params.id };
  },
  shape: (chart: { definition: DefinitionValue; data: ChartDataValue | null }, call) => {
    if (!chart.data) throw supersetError(404, 'Not found');
    const { startedAt, resultType: type } = dataStates.get(call)!;
    const applied = chart.definition.filters.map((f) => ({ column: f.column }));
    return { result: [queryResult(chart.data, { resultType: type, startedAt, applied })] };
  },
  response: DATA_RESPONSE,
};

const PREVIEW = `query RestSupersetChartDataQuery($input: ChartInput!) {
  chartPreview(input: $input) { ${DATA} errors { field message code } }
}`;

/** One chartPreview answer -> its Superset result, or the 400 its errors make. */
function previewResult(preview: { data: ChartDataValue | null; errors: { field: string | null; message: string }[] } | null, index: number, state: DataState) {
  const query = state.queries[index]!;
  if (preview?.errors.length) {
    const [first] = preview.errors;
    // Our labels (`__metric_0`) back to the query's own names in the message.
    let message = first!.message;
    for (const [ours, theirs] of query.colnames) message = message.split(ours).join(theirs);
    const where = supersetPath(first!.field);
    if (where.top) throw supersetError(400, { [where.top]: [message] });
    throw queryError(index, where.path, message);
  }
  if (!preview?.data) throw supersetError(404, 'Not found');
  return queryResult(preview.data, { colnames: query.colnames, resultType: state.resultType, startedAt: state.startedAt, applied: query.applied });
}

const MAX_QUERIES = 10;

const chartDataRoute: RestRoute = {
  ...base,
  method: 'POST',
  path: `${V1}/chart/data`,
  id: 'supersetChartDataQuery',
  summary: 'Data of chart queries (analysts, admins, owners)',
  description:
    "Superset's chart data request, computed by the graph's `chartPreview` once per query (at most 10): `datasource` " +
    '`{"id": "<dataset name>", "type": "table"}`; metrics `count` or SIMPLE (`{aggregate, column: {column_name}, label}`), ' +
    'columns, the BASE_AXIS time column or `granularity` with `extras.time_grain_sqla` (P1D, P1W, P1M, P3M, P1Y), filters ' +
    '`==`, `IN`, `>=`, `<`, `ILIKE %x%`, `IS TRUE|FALSE|NULL`, `TEMPORAL_RANGE`, `time_range`, `orderby`, `row_limit`. ' +
    'SQL in any form (`expressionType: SQL`, `extras.where`, `having`) is refused with a 400. `result_type` `full` or `results`.',
  operation: PREVIEW,
  body: {
    schema: named('SupersetChartDataRequest', {
      type: 'object',
      properties: {
        datasource: { type: ['object', 'string'], description: '`{"id": "leads", "type": "table"}` or `"leads__table"`' },
        queries: { type: 'array', items: { type: 'object' }, minItems: 1, maxItems: MAX_QUERIES },
        result_type: { type: 'string' },
        result_format: { type: 'string' },
        force: { type: 'boolean' },
        form_data: { type: 'object' },
      },
      required: ['datasource', 'queries'],
    }),
  },
  variables: (call) => {
    const startedAt = Date.now();
    const body = call.body as { datasource: unknown; queries: unknown[]; result_type?: unknown; result_format?: unknown };
    const dataset = datasetOf(body.datasource);
    const type = resultType(body.result_type, 'result_type');
    resultFormat(body.result_format, 'result_format');
    const now = new Date(startedAt);
    const queries = body.queries.map((query, i) => translateQuery(dataset, query, i, now));
    dataStates.set(call, { startedAt, resultType: type, queries });
    return { input: queries[0]!.input };
  },
  shape: async (data: { chartPreview: any }, call) => {
    const state = dataStates.get(call)!;
    const result = [previewResult(data.chartPreview, 0, state)];
    for (let i = 1; i < state.queries.length; i++) {
      const next = await call.graphql(PREVIEW, { input: state.queries[i]!.input });
      result.push(previewResult(next.chartPreview, i, state));
    }
    return { result };
  },
  response: DATA_RESPONSE,
};

const thumbnail: RestRoute = {
  ...base,
  method: 'GET',
  path: `${V1}/chart/{id}/thumbnail`,
  id: 'supersetChartThumbnail',
  summary: 'The chart rendered as SVG',
  description: "`Chart.svg`: rendered on the server from the chart's live data (Superset's thumbnails are PNG screenshots).",
  operation: `query RestSupersetChartThumbnail($id: ID!) { chart(id: $id) { id svg } }`,
  root: 'chart',
  variables: (call) => ({ id: call.params.id }),
  shape: (chart: { svg: string | null }) => {
    if (!chart.svg) throw supersetError(404, 'Not found');
    return chart.svg;
  },
  contentType: 'image/svg+xml; charset=utf-8',
};

// --- Datasets -------------------------------------------------------------------------------------

const SQL_TYPES: Record<string, string> = { NUMBER: 'NUMERIC', STRING: 'VARCHAR', TIME: 'TIMESTAMP', BOOLEAN: 'BOOLEAN' };

const datasetDetail: RestRoute = {
  ...base,
  method: 'GET',
  path: `${V1}/dataset/{id}`,
  id: 'supersetDatasetGet',
  summary: 'One dataset, by name, with its columns and its saved metric',
  description:
    "The id is the dataset's name. Columns say what a query may do with them (`groupby`, `filterable`, and our `aggregates`); " +
    'the one saved metric is `count`.',
  operation: `query RestSupersetDataset($name: String!) { biDataset(name: $name) { ${DATASET_NODE} } }`,
  root: 'biDataset',
  variables: (call) => ({ name: call.params.id }),
  shape: (dataset: DatasetNode) => ({
    result: {
      id: dataset.name,
      table_name: dataset.name,
      verbose_name: dataset.label,
      description: dataset.description,
      main_dttm_col: dataset.defaultTimeColumn,
      kind: 'physical',
      datasource_type: 'table',
      columns: dataset.columns.map((c) => ({
        column_name: c.name,
        verbose_name: c.label,
        type: SQL_TYPES[c.type],
        type_generic: COLTYPES[c.type],
        is_dttm: c.type === 'TIME',
        groupby: c.groupable,
        filterable: c.filterable,
        aggregates: c.aggregates,
      })),
      metrics: [{ metric_name: 'count', verbose_name: 'Count', expression: 'COUNT(*)', metric_type: 'count' }],
    },
  }),
  response: named('SupersetDatasetResponse', {
    type: 'object',
    properties: {
      result: {
        type: 'object',
        properties: {
          ...DATASET_FIELDS,
          columns: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                column_name: { type: 'string' },
                verbose_name: { type: 'string' },
                type: { enum: Object.values(SQL_TYPES) },
                type_generic: { enum: Object.values(COLTYPES) },
                is_dttm: { type: 'boolean' },
                groupby: { type: 'boolean' },
                filterable: { type: 'boolean' },
                aggregates: { type: 'array', items: { type: 'string' } },
              },
            },
          },
          metrics: {
            type: 'array',
            items: {
              type: 'object',
              properties: { metric_name: { type: 'string' }, verbose_name: { type: 'string' }, expression: { type: 'string' }, metric_type: { type: 'string' } },
            },
          },
        },
        required: ['id', 'table_name', 'columns', 'metrics'],
      },
    },
    required: ['result'],
  }),
};

export const supersetRoutes: RestRoute[] = [
  ...dashboardLists,
  dashboardDetail,
  dashboardCharts,
  ...chartLists,
  chartDataRoute,
  chartRoute,
  savedChartData,
  thumbnail,
  ...datasetLists,
  datasetDetail,
];
