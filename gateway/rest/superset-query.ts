import { supersetError } from './errors.ts';

/*
 * Superset's chart queries <-> the bi subgraph's chart definitions (schema/bi.graphql), both ways:
 *
 * In: a `POST /api/v1/chart/data` query -> a `ChartInput` for `chartPreview`.
 *  - `datasource` `{id, type: "table"}` or `"<id>__table"`: the id is the dataset's name (`leads`).
 *  - `metrics`: the saved metric `count` (the one every dataset has: COUNT(*)), or
 *    `{expressionType: "SIMPLE", aggregate, column: {column_name}, label}`; Superset's default
 *    label (`SUM(amount)`, `COUNT(*)`) when none is given. The engine's labels are stricter, so
 *    metrics are computed as `__metric_<n>` and renamed back in the answer.
 *  - `columns` (or legacy `groupby`): column names; the time axis is Superset's BASE_AXIS column
 *    `{columnType: "BASE_AXIS", sqlExpression: "<time column>", timeGrain}`, or legacy
 *    `granularity` / `is_timeseries` (answered as `__timestamp`). A grain (`timeGrain`, else
 *    `extras.time_grain_sqla`: P1D, P1W, P1M, P3M, P1Y) applies only to that axis, as in Superset.
 *  - `filters` `{col, op, val}`: `==`, `IN`, `>=`, `<` (ranges are half-open), `ILIKE '%text%'`
 *    (contains), `IS TRUE`, `IS FALSE`, `IS NULL`, `TEMPORAL_RANGE` (the time column and range).
 *  - `time_range`: `No filter`, `Last day|week|month|quarter|year` (Superset's: the period before
 *    today, today excluded), `previous calendar week|month|quarter|year`, `Current day|week|month|
 *    quarter|year`, `<start> : <end>` (ISO dates or times, `today`, `now`, an empty end is open).
 *  - `orderby` `[[metric or column, ascending]]`, `row_limit`.
 *  - No SQL, ever: `expressionType: "SQL"` metrics and columns (other than a bare column name),
 *    `extras.where` / `having`, filters on expressions are 400s; so are operators, grains and
 *    ranges the graph cannot express exactly (`!=`, `>`, `LIKE`, PT1H, ...).
 * Out: a saved chart as Superset describes one (`form_data` / `params`, `query_context`), whose
 * query posted back to `chart/data` computes the same data.
 */

export type TimeGrain = 'DAY' | 'WEEK' | 'MONTH' | 'QUARTER' | 'YEAR';
export const GRAINS: Record<string, TimeGrain> = { P1D: 'DAY', P1W: 'WEEK', P1M: 'MONTH', P3M: 'QUARTER', P1Y: 'YEAR' };
const GRAIN_CODES: Record<TimeGrain, string> = { DAY: 'P1D', WEEK: 'P1W', MONTH: 'P1M', QUARTER: 'P3M', YEAR: 'P1Y' };
const AGGREGATES = ['COUNT', 'COUNT_DISTINCT', 'SUM', 'AVG', 'MIN', 'MAX'];

/** Superset's viz types for ours. */
export const VIZ_TYPES: Record<string, string> = {
  BIG_NUMBER: 'big_number_total',
  LINE: 'echarts_timeseries_line',
  BAR: 'echarts_timeseries_bar',
  AREA: 'echarts_area',
  PIE: 'pie',
  TABLE: 'table',
};

/** Superset's generic column types (`coltypes`): 0 numeric, 1 string, 2 temporal, 3 boolean. */
export const COLTYPES: Record<string, number> = { NUMBER: 0, STRING: 1, TIME: 2, BOOLEAN: 3 };

export interface TimeRangeInput {
  relative?: string;
  from?: string | null;
  to?: string | null;
}

/** A 400 about one field of one query: marshmallow's nesting (`{"queries": {"0": {"metrics": [...]}}}`). */
export function queryError(index: number, path: string, message: string) {
  let nested: Record<string, unknown> = { [path.split('.').at(-1)!]: [message] };
  for (const key of path.split('.').slice(0, -1).reverse()) nested = { [key]: nested };
  return supersetError(400, { queries: { [String(index)]: nested } });
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

// --- Time ranges ----------------------------------------------------------------------------------

const DAY_MS = 86_400_000;
const utcDay = (date: Date) => new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
/** `date` minus `months` calendar months, the day clamped to the month's last (Python's relativedelta). */
function monthsBefore(date: Date, months: number): Date {
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() - months;
  const last = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(Date.UTC(year, month, Math.min(date.getUTCDate(), last)));
}
const iso = (date: Date) => date.toISOString().replace('.000Z', 'Z');

const LAST: Record<string, (today: Date) => Date> = {
  day: (today) => new Date(today.getTime() - DAY_MS),
  week: (today) => new Date(today.getTime() - 7 * DAY_MS),
  month: (today) => monthsBefore(today, 1),
  quarter: (today) => monthsBefore(today, 3),
  year: (today) => monthsBefore(today, 12),
};
const PREVIOUS: Record<string, string> = { week: 'LAST_WEEK', month: 'LAST_MONTH', quarter: 'LAST_QUARTER', year: 'LAST_YEAR' };
const CURRENT: Record<string, string> = { day: 'TODAY', week: 'THIS_WEEK', month: 'THIS_MONTH', quarter: 'THIS_QUARTER', year: 'THIS_YEAR' };
/** Our rolling ranges (today included) in Superset's advanced syntax, which it parses itself. */
const ROLLING: Record<string, number> = { LAST_7_DAYS: 7, LAST_30_DAYS: 30, LAST_90_DAYS: 90, LAST_365_DAYS: 365 };
const ADVANCED = /^DATEADD\(DATETIME\("today"\), -(\d+), day\) : DATEADD\(DATETIME\("today"\), 1, day\)$/i;

/** One end of `<start> : <end>`: ISO text, `today`, `now`, or empty (open). Undefined: not one. */
function rangeEnd(text: string, now: Date): string | null | undefined {
  const value = text.trim();
  if (value === '') return null;
  if (/^today$/i.test(value)) return iso(utcDay(now));
  if (/^now$/i.test(value)) return iso(now);
  return ISO.test(value) ? value : undefined;
}

/**
 * Superset's `time_range` -> the schema's TimeRangeInput (null: no range), in UTC. Throws a
 * message for anything else (Superset's other advanced expressions are not offered).
 */
export function timeRangeInput(text: unknown, now: Date): TimeRangeInput | null {
  if (text === undefined || text === null) return null;
  if (typeof text !== 'string') throw new TypeError('time_range is a string');
  const value = text.trim();
  if (value === '' || /^no filter$/i.test(value)) return null;
  const today = utcDay(now);
  let match = /^last (day|week|month|quarter|year)$/i.exec(value);
  if (match) return { from: iso(LAST[match[1]!.toLowerCase()]!(today)), to: iso(today) };
  match = /^previous calendar (week|month|quarter|year)$/i.exec(value);
  if (match) return { relative: PREVIOUS[match[1]!.toLowerCase()]! };
  match = /^current (day|week|month|quarter|year)$/i.exec(value);
  if (match) return { relative: CURRENT[match[1]!.toLowerCase()]! };
  match = ADVANCED.exec(value);
  if (match) {
    const relative = Object.entries(ROLLING).find(([, days]) => days === Number(match![1]) + 1)?.[0];
    if (relative) return { relative };
  }
  // ` : ` separates the ends; an end may be empty (open), so the value may start or end with it.
  const parts = value.split(/\s+:\s+|\s+:$|^:\s+/);
  if (parts.length === 2) {
    const from = rangeEnd(parts[0]!, now);
    const to = rangeEnd(parts[1]!, now);
    if (from !== undefined && to !== undefined && (from !== null || to !== null)) return { from, to };
  }
  throw new TypeError(
    `Unsupported time range "${value.slice(0, 100)}": use No filter, Last day|week|month|quarter|year, previous calendar week|month|quarter|year, ` +
      'Current day|week|month|quarter|year, or "<start> : <end>" with ISO dates.',
  );
}

/** Our time range as Superset writes it (`No filter` for none). */
export function timeRangeText(range: { relative?: string | null; from?: string | null; to?: string | null } | null | undefined): string {
  if (!range || (!range.relative && !range.from && !range.to)) return 'No filter';
  if (range.relative) {
    const days = ROLLING[range.relative];
    if (days) return `DATEADD(DATETIME("today"), -${days - 1}, day) : DATEADD(DATETIME("today"), 1, day)`;
    const previous = Object.entries(PREVIOUS).find(([, r]) => r === range.relative)?.[0];
    if (previous) return `previous calendar ${previous}`;
    const current = Object.entries(CURRENT).find(([, r]) => r === range.relative)?.[0];
    return `Current ${current ?? 'day'}`;
  }
  return `${range.from ?? ''} : ${range.to ?? ''}`;
}

// --- In: a chart/data query -> a ChartInput ---------------------------------------------------------

/** A query translated: the ChartInput, and our result column names -> Superset's colnames. */
export interface TranslatedQuery {
  input: Record<string, unknown>;
  colnames: Map<string, string>;
  /** The filters as Superset names them (`applied_filters`). */
  applied: { column: string }[];
}

/** `{id, type}` or `"<id>__table"` -> the dataset's name. */
export function datasetOf(datasource: unknown): string {
  let id: unknown;
  let type: unknown = 'table';
  if (typeof datasource === 'string') [id, type = 'table'] = datasource.split('__');
  else if (isRecord(datasource)) ({ id, type = 'table' } = datasource);
  if (type !== 'table') throw supersetError(400, { datasource: [`Only datasources of type "table" exist here, not "${String(type)}".`] });
  if (typeof id === 'number') throw supersetError(400, { datasource: ['Datasets are named here (`leads`, `deals`, ...), not numbered: see GET /api/v1/dataset/.'] });
  if (typeof id !== 'string' || !id) throw supersetError(400, { datasource: ['Missing data for required field.'] });
  return id;
}

/** Refuses SQL wherever a query could carry it. */
const sqlRefused = (index: number, path: string, what: string) =>
  queryError(index, path, `${what} is SQL, which is never accepted: datasets are queried by their column names only (see GET /api/v1/dataset/<name>).`);

export function translateQuery(dataset: string, query: unknown, index: number, now: Date): TranslatedQuery {
  if (!isRecord(query)) throw queryError(index, '_schema', 'A query is an object.');
  const fail = (path: string, message: string) => queryError(index, path, message);
  const colnames = new Map<string, string>();
  const extras = query.extras === undefined || query.extras === null ? {} : query.extras;
  if (!isRecord(extras)) throw fail('extras', 'Not a valid mapping type.');
  for (const key of ['where', 'having']) {
    if (typeof extras[key] === 'string' && extras[key].trim()) throw sqlRefused(index, `extras.${key}`, `extras.${key}`);
  }
  if (Array.isArray(query.post_processing) && query.post_processing.length) throw fail('post_processing', 'Post-processing operations are not supported.');

  const grainOf = (code: unknown, path: string): TimeGrain | null => {
    if (code === undefined || code === null || code === '') return null;
    const grain = typeof code === 'string' ? GRAINS[code] : undefined;
    if (!grain) throw fail(path, `Unsupported time grain "${String(code)}": one of ${Object.keys(GRAINS).join(', ')}.`);
    return grain;
  };
  const extrasGrain = grainOf(extras.time_grain_sqla, 'extras.time_grain_sqla');

  // Columns: dimensions, and at most one time axis.
  let timeColumn: string | null = null;
  let timeGrain: TimeGrain | null = null;
  const dimensions: string[] = [];
  const columns = query.columns ?? query.groupby ?? [];
  if (!Array.isArray(columns)) throw fail('columns', 'Not a valid list.');
  for (const column of columns) {
    if (typeof column === 'string') {
      dimensions.push(column);
      continue;
    }
    if (!isRecord(column)) throw fail('columns', 'A column is a name or an adhoc column.');
    const expression = column.sqlExpression ?? column.column_name;
    // A "SQL expression" that is only a column's name names that column; anything else is SQL.
    if (typeof expression !== 'string' || !IDENTIFIER.test(expression)) throw sqlRefused(index, 'columns', 'A column expression');
    if (column.columnType === 'BASE_AXIS' || column.timeGrain !== undefined) {
      if (timeColumn) throw fail('columns', 'At most one time axis.');
      timeColumn = expression;
      timeGrain = grainOf(column.timeGrain, 'columns') ?? extrasGrain;
      // Times are grouped by a grain only (no raw timestamps as groups).
      if (!timeGrain) throw fail('columns', `The time axis ${expression} needs a time grain: one of ${Object.keys(GRAINS).join(', ')}.`);
      colnames.set(expression, typeof column.label === 'string' && column.label ? column.label : expression);
    } else dimensions.push(expression);
  }
  if (!timeColumn && (query.is_timeseries === true || (typeof query.granularity === 'string' && extrasGrain))) {
    timeColumn = typeof query.granularity === 'string' && query.granularity ? query.granularity : null;
    timeGrain = extrasGrain;
    // Legacy time series answer their time bucket as `__timestamp`.
    if (timeColumn && timeGrain && query.is_timeseries === true) colnames.set(timeColumn, '__timestamp');
  } else if (!timeColumn && typeof query.granularity === 'string' && query.granularity) timeColumn = query.granularity;

  // Metrics: computed as __metric_<n>, answered under Superset's names.
  const metricsIn = query.metrics ?? [];
  if (!Array.isArray(metricsIn)) throw fail('metrics', 'Not a valid list.');
  const names: string[] = [];
  const metrics = metricsIn.map((metric, i) => {
    const label = `__metric_${i}`;
    if (typeof metric === 'string') {
      if (metric !== 'count') throw fail('metrics', `Unknown saved metric "${metric.slice(0, 100)}": every dataset has one, "count" (COUNT(*)); others are {expressionType: "SIMPLE", aggregate, column}.`);
      names.push('count');
      colnames.set(label, 'count');
      return { aggregate: 'COUNT', label };
    }
    if (!isRecord(metric)) throw fail('metrics', 'A metric is a saved metric name or an adhoc metric.');
    if (metric.expressionType === 'SQL' || metric.sqlExpression !== undefined) throw sqlRefused(index, 'metrics', 'A metric expression');
    const aggregate = typeof metric.aggregate === 'string' ? metric.aggregate.toUpperCase() : '';
    if (!AGGREGATES.includes(aggregate)) throw fail('metrics', `The aggregate must be one of ${AGGREGATES.join(', ')}.`);
    const column = isRecord(metric.column) ? metric.column.column_name : metric.column;
    if (column !== undefined && column !== null && typeof column !== 'string') throw fail('metrics', 'A metric column is {column_name}.');
    const name = typeof metric.label === 'string' && metric.label ? metric.label : `${aggregate}(${column ?? '*'})`;
    names.push(name);
    colnames.set(label, name);
    return { aggregate, column: column ?? null, label };
  });
  /** A name the query uses for one of its outputs (`count`, `SUM(amount)`, a time axis' label) -> ours. */
  const ourName = (name: string) => [...colnames].find(([, theirs]) => theirs === name)?.[0];

  // Filters.
  let timeRange: TimeRangeInput | null = null;
  const rangeOf = (value: unknown, path: string) => {
    try {
      return timeRangeInput(value, now);
    } catch (error) {
      throw fail(path, (error as Error).message);
    }
  };
  const filtersIn = query.filters ?? [];
  if (!Array.isArray(filtersIn)) throw fail('filters', 'Not a valid list.');
  const filters: { column: string; operator: string; values: unknown[] }[] = [];
  const applied: { column: string }[] = [];
  for (const filter of filtersIn) {
    if (!isRecord(filter)) throw fail('filters', 'A filter is {col, op, val}.');
    const { col, val } = filter;
    const op = typeof filter.op === 'string' ? filter.op.toUpperCase() : '';
    if (isRecord(col)) throw sqlRefused(index, 'filters', 'A filter on an expression');
    if (typeof col !== 'string' || !col) throw fail('filters', 'A filter needs a column (col).');
    applied.push({ column: col });
    const add = (operator: string, values: unknown[]) => filters.push({ column: col, operator, values });
    switch (op) {
      case '==':
        add('EQ', [val]);
        break;
      case 'IN':
        add('IN', Array.isArray(val) ? val : [val]);
        break;
      case '>=':
        add('RANGE', [val, null]);
        break;
      case '<':
        add('RANGE', [null, val]);
        break;
      case 'IS TRUE':
        add('EQ', [true]);
        break;
      case 'IS FALSE':
        add('EQ', [false]);
        break;
      case 'IS NULL':
        add('EQ', [null]);
        break;
      case 'ILIKE': {
        const text = typeof val === 'string' ? /^%([^%_]*)%$/.exec(val)?.[1] : undefined;
        if (text === undefined || text === '') throw fail('filters', 'ILIKE takes "%text%" (contains, case-insensitive); no other pattern.');
        add('CONTAINS', [text]);
        break;
      }
      case 'TEMPORAL_RANGE':
        if (timeColumn && timeColumn !== col) throw fail('filters', `The time range applies to the time column (${timeColumn}), not ${col}.`);
        timeColumn = col;
        timeRange = rangeOf(val, 'filters');
        break;
      default:
        throw fail(
          'filters',
          `Unsupported operator "${String(filter.op).slice(0, 20)}": one of ==, IN, >=, < (ranges are half-open), ILIKE "%text%", IS TRUE, IS FALSE, IS NULL, TEMPORAL_RANGE.`,
        );
    }
  }
  if (query.time_range !== undefined && timeRange === null) timeRange = rangeOf(query.time_range, 'time_range');

  // Order.
  const orderby = query.orderby ?? [];
  if (!Array.isArray(orderby)) throw fail('orderby', 'Not a valid list.');
  const sort = orderby.map((entry) => {
    if (!Array.isArray(entry) || entry.length < 1 || entry.length > 2) throw fail('orderby', 'An order is [metric or column, ascending].');
    const [target, ascending = true] = entry as [unknown, unknown];
    if (typeof ascending !== 'boolean') throw fail('orderby', 'ascending is a boolean.');
    let by: string | undefined;
    if (typeof target === 'string') by = ourName(target) ?? target;
    else if (isRecord(target)) {
      if (target.expressionType === 'SQL' || target.sqlExpression !== undefined) throw sqlRefused(index, 'orderby', 'An order expression');
      const aggregate = typeof target.aggregate === 'string' ? target.aggregate.toUpperCase() : '';
      const column = isRecord(target.column) ? target.column.column_name : target.column;
      by = ourName(typeof target.label === 'string' && target.label ? target.label : `${aggregate}(${(column as string | undefined) ?? '*'})`);
      if (!by) throw fail('orderby', 'Order by one of the query\'s metrics, or a column.');
    }
    if (!by) throw fail('orderby', 'An order is [metric or column, ascending].');
    return { by, descending: !ascending };
  });

  const rowLimit = query.row_limit;
  if (rowLimit !== undefined && rowLimit !== null && !Number.isInteger(rowLimit)) throw fail('row_limit', 'Not a valid integer.');

  return {
    input: {
      name: 'Superset query',
      type: 'TABLE',
      dataset,
      metrics,
      dimensions,
      timeColumn,
      timeGrain,
      timeRange,
      filters,
      sort,
      ...(rowLimit === undefined || rowLimit === null ? {} : { rowLimit }),
    },
    colnames,
    applied,
  };
}

/** A chartPreview error's field (`metrics.0.column`) -> where it was in the Superset query. */
export function supersetPath(field: string | null): { top?: string; path: string } {
  const head = field?.split('.')[0] ?? '';
  switch (head) {
    case 'dataset':
      return { top: 'datasource', path: '' };
    case 'metrics':
      return { path: 'metrics' };
    case 'dimensions':
      return { path: 'columns' };
    case 'timeColumn':
      return { path: 'granularity' };
    case 'timeGrain':
      return { path: 'extras.time_grain_sqla' };
    case 'timeRange':
      return { path: 'time_range' };
    case 'filters':
      return { path: 'filters' };
    case 'sort':
      return { path: 'orderby' };
    case 'rowLimit':
      return { path: 'row_limit' };
    default:
      return { path: '_schema' };
  }
}

// --- Results ------------------------------------------------------------------------------------

export interface ChartDataValue {
  columns: { name: string; label: string; type: string }[];
  rows: unknown[][];
  rowCount: number;
  truncated: boolean;
  from: string | null;
  to: string | null;
  computedAt: string;
}

const epoch = (value: unknown) => (value === null || value === undefined ? null : Date.parse(String(value)));

/**
 * Chart data as one of Superset's `result` entries. Temporal cells and `from_dttm` / `to_dttm`
 * are epoch milliseconds, as Superset's JSON answers carry them. `is_cached`: the data were
 * computed before this request began (the engine's cache answered). No `query`: the SQL is never
 * shown.
 */
export function queryResult(
  data: ChartDataValue,
  options: { colnames?: Map<string, string>; resultType: 'full' | 'results'; startedAt: number; applied?: { column: string }[] },
): Record<string, unknown> {
  const colnames = data.columns.map((c) => options.colnames?.get(c.name) ?? c.name);
  const coltypes = data.columns.map((c) => COLTYPES[c.type] ?? 1);
  const records = data.rows.map((row) => Object.fromEntries(colnames.map((name, j) => [name, coltypes[j] === 2 ? epoch(row[j]) : (row[j] ?? null)])));
  const results = { data: records, colnames, coltypes, rowcount: data.rowCount, sql_rowcount: data.rowCount };
  if (options.resultType === 'results') return results;
  const cached = Date.parse(data.computedAt) < options.startedAt;
  return {
    cache_key: null,
    cached_dttm: cached ? data.computedAt : null,
    cache_timeout: null,
    applied_filters: options.applied ?? [],
    rejected_filters: [],
    annotation_data: [],
    error: null,
    is_cached: cached,
    status: 'success',
    stacktrace: null,
    ...results,
    from_dttm: epoch(data.from),
    to_dttm: epoch(data.to),
    indexnames: data.rows.map((_, i) => i),
    result_format: 'json',
  };
}

// --- Out: a saved chart as Superset describes one ---------------------------------------------------

export interface DefinitionValue {
  dataset: string;
  metrics: { aggregate: string; column: string | null; label: string }[];
  dimensions: string[];
  timeColumn: string | null;
  timeGrain: TimeGrain | null;
  timeRange: { relative: string | null; from: string | null; to: string | null } | null;
  filters: { column: string; operator: string; values: unknown[] }[];
  sort: { by: string; descending: boolean }[];
  rowLimit: number;
}

/** Our metric as Superset's: the saved `count`, or a SIMPLE adhoc metric. */
function metricOut(metric: DefinitionValue['metrics'][number]): unknown {
  if (metric.aggregate === 'COUNT' && metric.label === 'count') return 'count';
  return {
    expressionType: 'SIMPLE',
    aggregate: metric.aggregate,
    column: metric.column ? { column_name: metric.column } : null,
    label: metric.label,
    hasCustomLabel: true,
  };
}

/** One of our filters as chart/data filters (`{col, op, val}`; a range is two). */
export function filterClauses(f: { column: string; operator: string; values: unknown[] }): { col: string; op: string; val: unknown }[] {
  switch (f.operator) {
    case 'EQ':
      return [f.values[0] === null ? { col: f.column, op: 'IS NULL', val: null } : { col: f.column, op: '==', val: f.values[0] }];
    case 'IN':
      return [{ col: f.column, op: 'IN', val: f.values }];
    case 'RANGE':
      return [
        ...(f.values[0] !== null ? [{ col: f.column, op: '>=', val: f.values[0] }] : []),
        ...(f.values[1] !== null ? [{ col: f.column, op: '<', val: f.values[1] }] : []),
      ];
    default:
      return [{ col: f.column, op: 'ILIKE', val: `%${String(f.values[0])}%` }];
  }
}

/** Our filters and time range as chart/data filters. */
function filtersOut(definition: DefinitionValue): { col: string; op: string; val: unknown }[] {
  const out = definition.filters.flatMap(filterClauses);
  if (definition.timeColumn && definition.timeRange) out.push({ col: definition.timeColumn, op: 'TEMPORAL_RANGE', val: timeRangeText(definition.timeRange) });
  return out;
}

/** The query that computes a saved chart's data (its `query_context` query). */
export function queryOut(definition: DefinitionValue): Record<string, unknown> {
  const axis =
    definition.timeColumn && definition.timeGrain
      ? [{ columnType: 'BASE_AXIS', sqlExpression: definition.timeColumn, label: definition.timeColumn, expressionType: 'SQL', timeGrain: GRAIN_CODES[definition.timeGrain] }]
      : [];
  return {
    columns: [...axis, ...definition.dimensions],
    metrics: definition.metrics.map(metricOut),
    filters: filtersOut(definition),
    orderby: definition.sort.map((s) => [s.by, !s.descending]),
    row_limit: definition.rowLimit,
    ...(definition.timeColumn && !definition.timeGrain ? { granularity: definition.timeColumn } : {}),
    extras: definition.timeGrain ? { time_grain_sqla: GRAIN_CODES[definition.timeGrain] } : {},
  };
}

/** A saved chart's `form_data` (Superset's `params`). */
export function formData(chart: { id: string; type: string; definition: DefinitionValue }): Record<string, unknown> {
  const d = chart.definition;
  return {
    datasource: `${d.dataset}__table`,
    viz_type: VIZ_TYPES[chart.type] ?? 'table',
    slice_id: chart.id,
    metrics: d.metrics.map(metricOut),
    groupby: d.dimensions,
    ...(d.timeColumn ? { granularity_sqla: d.timeColumn } : {}),
    ...(d.timeColumn && d.timeGrain ? { x_axis: d.timeColumn, time_grain_sqla: GRAIN_CODES[d.timeGrain] } : {}),
    time_range: timeRangeText(d.timeRange),
    adhoc_filters: filtersOut(d).map((f) => ({ expressionType: 'SIMPLE', clause: 'WHERE', subject: f.col, operator: f.op, comparator: f.val })),
    row_limit: d.rowLimit,
  };
}

/** A saved chart's `query_context`: a chart/data request that computes its data. */
export function queryContext(chart: { id: string; type: string; definition: DefinitionValue }): Record<string, unknown> {
  return {
    datasource: { id: chart.definition.dataset, type: 'table' },
    force: false,
    queries: [queryOut(chart.definition)],
    form_data: formData(chart),
    result_format: 'json',
    result_type: 'full',
  };
}
