import { isUuid } from '../../kit/formats.ts';
import { columnOf, DATASETS, datasetByName, type FactColumn, type FactDataset } from '../datasets.ts';
import { RELATIVE_RANGES, TIME_GRAINS } from './time.ts';
import type {
  Aggregate,
  ChartDefinition,
  ChartFilter,
  ChartSort,
  ChartType,
  ColumnType,
  DefinitionError,
  FilterOperator,
  Metric,
  TimeGrain,
  TimeRange,
} from './types.ts';

/*
 * Validation of a chart input (the GraphQL ChartInput, or the same shape from the REST shim)
 * against its dataset. Everything a definition names must exist in the dataset and allow the use
 * made of it; every filter value must be of its column's type. A valid definition is what the
 * SQL builder trusts: it still looks every column up again, but never sees a name or value it
 * would have to refuse. Errors name the input field at fault (`metrics.0.column`).
 */

export const LIMITS = Object.freeze({
  rowLimit: { min: 1, max: 10_000, default: 1000 },
  metrics: 20,
  dimensions: 10,
  filters: 50,
  inValues: 1000,
  sort: 20,
  labelLength: 64,
  stringValueLength: 1000,
});

const CHART_TYPES: readonly ChartType[] = ['BIG_NUMBER', 'LINE', 'BAR', 'AREA', 'PIE', 'TABLE'];
const AGGREGATES: readonly Aggregate[] = ['COUNT', 'COUNT_DISTINCT', 'SUM', 'AVG', 'MIN', 'MAX'];
const OPERATORS: readonly FilterOperator[] = ['EQ', 'IN', 'RANGE', 'CONTAINS'];

/**
 * A result column's name: letters (any script), digits, spaces, `_` and `-`. Labels become
 * result column names, JSON keys and Vega-Lite field names (where `.`, `[` and `\` mean
 * nested access), so nothing else; they never reach SQL (columns are aliased by position).
 */
const LABEL = /^[\p{L}\p{N}_][\p{L}\p{N}_ -]*$/u;

/** An ISO 8601 date, or date and time with an optional zone (none means UTC). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const DECIMAL = /^-?\d{1,20}(?:\.\d{1,20})?$/;

type Code = DefinitionError['code'];
const error = (field: string | null, code: Code, message: string): DefinitionError => ({ field, code, message });

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const quote = (value: unknown) => JSON.stringify(String(value).slice(0, 100));

/** A time value (Date, or ISO 8601 text; no zone means UTC), or null when it is not one. */
export function parseTime(value: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value !== 'string') return null;
  const match = ISO_TIME.exec(value.trim());
  if (!match) return null;
  const text = value.trim().replace(' ', 'T');
  // Date.parse reads a date and time without a zone as local time: these are UTC.
  const date = new Date(match[1] || text.length === 10 ? text : `${text}Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A filter value converted to its column's type, or undefined when it is not of that type. */
function coerceValue(column: FactColumn, value: unknown): string | number | boolean | undefined {
  switch (column.type) {
    case 'NUMBER':
      if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
      if (typeof value === 'string' && DECIMAL.test(value.trim())) return Number(value.trim());
      return undefined;
    case 'BOOLEAN':
      return typeof value === 'boolean' ? value : undefined;
    case 'TIME':
      return parseTime(value)?.toISOString();
    case 'STRING':
      // PostgreSQL text cannot hold NUL: refused here rather than failing the statement.
      if (typeof value !== 'string' || value.length > LIMITS.stringValueLength || value.includes('\u0000')) return undefined;
      if (column.valueType === 'uuid' && !isUuid(value)) return undefined;
      return value;
  }
}

const typeName: Record<ColumnType, string> = { NUMBER: 'a number', STRING: 'a text', TIME: 'an ISO 8601 time', BOOLEAN: 'true or false' };

/**
 * One filter against one dataset: its column exists and may be filtered, its operator fits the
 * column's type, its values are that type (and as many as the operator takes).
 */
export function validateFilter(dataset: FactDataset, input: unknown, field: string): { filter?: ChartFilter; errors: DefinitionError[] } {
  if (!isRecord(input)) return { errors: [error(field, 'INVALID', 'A filter is an object with column, operator and values.')] };
  const errors: DefinitionError[] = [];
  const column = typeof input.column === 'string' ? columnOf(dataset, input.column) : undefined;
  if (typeof input.column !== 'string' || !input.column) errors.push(error(`${field}.column`, 'REQUIRED', 'A filter needs a column.'));
  else if (!column || !column.filterable)
    errors.push(error(`${field}.column`, 'UNKNOWN_COLUMN', `The dataset ${dataset.name} has no column ${quote(input.column)} to filter on.`));
  const operator = input.operator as FilterOperator;
  if (!OPERATORS.includes(operator)) errors.push(error(`${field}.operator`, 'INVALID', `The operator must be one of ${OPERATORS.join(', ')}.`));
  if (!Array.isArray(input.values)) errors.push(error(`${field}.values`, 'REQUIRED', 'A filter needs a list of values.'));
  if (errors.length || !column) return { errors };
  const values = input.values as unknown[];

  const expected: Record<FilterOperator, [number, number]> = { EQ: [1, 1], IN: [1, LIMITS.inValues], RANGE: [2, 2], CONTAINS: [1, 1] };
  const [min, max] = expected[operator];
  if (operator === 'IN' && values.length > max) {
    return { errors: [error(`${field}.values`, 'TOO_LARGE', `IN takes at most ${max} values.`)] };
  }
  if (values.length < min || values.length > max) {
    const count = min === max ? `exactly ${min}` : `${min} to ${max}`;
    return { errors: [error(`${field}.values`, 'INVALID', `${operator} takes ${count} value${max === 1 ? '' : 's'}.`)] };
  }
  if (operator === 'RANGE' && column.type !== 'NUMBER' && column.type !== 'TIME') {
    return { errors: [error(`${field}.operator`, 'WRONG_TYPE', `RANGE needs a number or time column; ${column.name} is ${column.type}.`)] };
  }
  if (operator === 'CONTAINS' && column.type !== 'STRING') {
    return { errors: [error(`${field}.operator`, 'WRONG_TYPE', `CONTAINS needs a text column; ${column.name} is ${column.type}.`)] };
  }
  if (operator === 'RANGE' && values.every((value) => value === null || value === undefined)) {
    return { errors: [error(`${field}.values`, 'INVALID', 'RANGE needs at least one end: [from, to], either may be null.')] };
  }
  const coerced: unknown[] = [];
  values.forEach((value, i) => {
    // Null: an open end of a RANGE, or EQ null (the column has no value). Never in IN or CONTAINS.
    if (value === null || value === undefined) {
      if (operator === 'RANGE' || operator === 'EQ') coerced.push(null);
      else errors.push(error(`${field}.values.${i}`, 'INVALID', `${operator} takes no null value.`));
      return;
    }
    const converted = coerceValue(column, value);
    if (converted === undefined) {
      const what = column.valueType === 'uuid' ? 'an id (UUID)' : typeName[column.type];
      errors.push(error(`${field}.values.${i}`, 'WRONG_TYPE', `${column.name} takes ${what}${column.type === 'STRING' ? ` of at most ${LIMITS.stringValueLength} characters` : ''}.`));
    } else coerced.push(converted);
  });
  if (!errors.length && operator === 'RANGE') {
    const [from, to] = coerced as (string | number | null)[];
    if (from !== null && to !== null && !(from! < to!))
      errors.push(error(`${field}.values`, 'INVALID', 'RANGE needs from < to (from inclusive, to exclusive).'));
  }
  if (errors.length) return { errors };
  return { filter: { column: column.name, operator, values: coerced }, errors };
}

/**
 * A dashboard's native filters: each names a column some dataset may be filtered on, with values
 * that fit that column in every dataset that has it (a chart applies only those its dataset has).
 */
export function validateNativeFilters(filters: unknown, field = 'nativeFilters'): { filters?: ChartFilter[]; errors: DefinitionError[] } {
  if (!Array.isArray(filters)) return { errors: [error(field, 'INVALID', 'Filters are a list.')] };
  if (filters.length > LIMITS.filters) return { errors: [error(field, 'TOO_LARGE', `At most ${LIMITS.filters} filters.`)] };
  const errors: DefinitionError[] = [];
  const valid: ChartFilter[] = [];
  filters.forEach((input, i) => {
    const name = isRecord(input) ? input.column : undefined;
    const datasets = DATASETS.filter((d) => typeof name === 'string' && columnOf(d, name)?.filterable);
    if (!datasets.length) {
      const result = validateFilter(DATASETS[0]!, input, `${field}.${i}`);
      errors.push(...result.errors.map((e) => (e.code === 'UNKNOWN_COLUMN' ? { ...e, message: `No dataset has a column ${quote(name)} to filter on.` } : e)));
      return;
    }
    let filter: ChartFilter | undefined;
    for (const dataset of datasets) {
      const result = validateFilter(dataset, input, `${field}.${i}`);
      if (result.errors.length) {
        errors.push(...result.errors);
        return;
      }
      filter ??= result.filter;
    }
    valid.push(filter!);
  });
  return errors.length ? { errors } : { filters: valid, errors };
}

/** The label a metric gets when none is given: `count`, `sum_amount`, `count_distinct_owner_id`. */
export const defaultLabel = (aggregate: Aggregate, column: string | null) =>
  column ? `${aggregate.toLowerCase()}_${column}` : aggregate.toLowerCase();

function validateMetrics(dataset: FactDataset, input: unknown, errors: DefinitionError[]): Metric[] {
  if (!Array.isArray(input) || input.length === 0) {
    errors.push(error('metrics', 'REQUIRED', 'A chart needs at least one metric.'));
    return [];
  }
  if (input.length > LIMITS.metrics) {
    errors.push(error('metrics', 'TOO_LARGE', `At most ${LIMITS.metrics} metrics.`));
    return [];
  }
  const metrics: Metric[] = [];
  input.forEach((metric: unknown, i) => {
    const field = `metrics.${i}`;
    if (!isRecord(metric)) return errors.push(error(field, 'INVALID', 'A metric is an object with aggregate, column and label.'));
    const aggregate = metric.aggregate as Aggregate;
    if (!AGGREGATES.includes(aggregate))
      return errors.push(error(`${field}.aggregate`, 'INVALID', `The aggregate must be one of ${AGGREGATES.join(', ')}.`));
    const name = metric.column ?? null;
    let column: FactColumn | undefined;
    if (aggregate === 'COUNT') {
      if (name !== null) return errors.push(error(`${field}.column`, 'INVALID', 'COUNT counts rows: leave the column out (COUNT_DISTINCT counts values).'));
    } else {
      if (name === null || name === '') return errors.push(error(`${field}.column`, 'REQUIRED', `${aggregate} needs a column.`));
      column = typeof name === 'string' ? columnOf(dataset, name) : undefined;
      if (!column) return errors.push(error(`${field}.column`, 'UNKNOWN_COLUMN', `The dataset ${dataset.name} has no column ${quote(name)}.`));
      if (!column.aggregates.includes(aggregate)) {
        const numeric = aggregate === 'SUM' || aggregate === 'AVG' || ((aggregate === 'MIN' || aggregate === 'MAX') && column.type !== 'NUMBER' && column.type !== 'TIME');
        return errors.push(
          numeric && column.type !== 'NUMBER'
            ? error(`${field}.column`, 'WRONG_TYPE', `${aggregate} needs a number${aggregate === 'MIN' || aggregate === 'MAX' ? ' or time' : ''} column; ${column.name} is ${column.type}.`)
            : error(`${field}.column`, 'UNKNOWN_COLUMN', `${column.name} does not allow ${aggregate}.`),
        );
      }
    }
    const label = metric.label ?? defaultLabel(aggregate, column?.name ?? null);
    if (typeof label !== 'string' || label.trim() !== label || !LABEL.test(label))
      return errors.push(error(`${field}.label`, 'INVALID', 'A label is letters, digits, spaces, _ and -, starting with a letter, digit or _.'));
    if (label.length > LIMITS.labelLength) return errors.push(error(`${field}.label`, 'TOO_LONG', `A label has at most ${LIMITS.labelLength} characters.`));
    metrics.push({ aggregate, column: column?.name ?? null, label });
  });
  return metrics;
}

function validateTimeRange(input: unknown, errors: DefinitionError[]): TimeRange | null {
  if (input === null || input === undefined) return null;
  if (!isRecord(input)) {
    errors.push(error('timeRange', 'INVALID', 'A time range is relative, or from and to.'));
    return null;
  }
  const relative = input.relative ?? null;
  const from = input.from ?? null;
  const to = input.to ?? null;
  if (relative !== null) {
    if (from !== null || to !== null) errors.push(error('timeRange', 'INVALID', 'A time range is either relative or from/to, not both.'));
    else if (!RELATIVE_RANGES.includes(relative as never)) errors.push(error('timeRange.relative', 'INVALID', `relative must be one of ${RELATIVE_RANGES.join(', ')}.`));
    else return { relative: relative as TimeRange['relative'], from: null, to: null };
    return null;
  }
  if (from === null && to === null) return null;
  const fromDate = from === null ? null : parseTime(from);
  const toDate = to === null ? null : parseTime(to);
  if (from !== null && !fromDate) errors.push(error('timeRange.from', 'INVALID', 'from is an ISO 8601 time.'));
  if (to !== null && !toDate) errors.push(error('timeRange.to', 'INVALID', 'to is an ISO 8601 time.'));
  if (fromDate && toDate && fromDate >= toDate) errors.push(error('timeRange.to', 'INVALID', 'to must be after from (from inclusive, to exclusive).'));
  return { relative: null, from: fromDate, to: toDate };
}

/** What each chart type needs: one metric for a big number or a pie, a time axis for line and area. */
function chartTypeRules(type: ChartType, definition: ChartDefinition, errors: DefinitionError[]) {
  const { metrics, dimensions, timeGrain } = definition;
  const axes = dimensions.length + (timeGrain ? 1 : 0);
  switch (type) {
    case 'BIG_NUMBER':
      if (metrics.length !== 1) errors.push(error('metrics', 'INVALID', 'A big number shows exactly one metric.'));
      if (dimensions.length) errors.push(error('dimensions', 'INVALID', 'A big number has no dimensions.'));
      if (timeGrain) errors.push(error('timeGrain', 'INVALID', 'A big number has no time grain (a time range is fine).'));
      break;
    case 'PIE':
      if (metrics.length !== 1) errors.push(error('metrics', 'INVALID', 'A pie shows exactly one metric.'));
      if (dimensions.length !== 1) errors.push(error('dimensions', 'INVALID', 'A pie has exactly one dimension (its slices).'));
      if (timeGrain) errors.push(error('timeGrain', 'INVALID', 'A pie has no time grain.'));
      break;
    case 'LINE':
    case 'AREA':
      if (!definition.timeColumn) errors.push(error('timeColumn', 'REQUIRED', `A ${type.toLowerCase()} chart needs a time column.`));
      if (!timeGrain) errors.push(error('timeGrain', 'REQUIRED', `A ${type.toLowerCase()} chart needs a time grain.`));
      if (dimensions.length > 1) errors.push(error('dimensions', 'INVALID', `A ${type.toLowerCase()} chart has at most one dimension (its series).`));
      break;
    case 'BAR':
      if (axes === 0) errors.push(error('dimensions', 'REQUIRED', 'A bar chart needs a dimension or a time grain.'));
      if (axes > 2) errors.push(error('dimensions', 'INVALID', 'A bar chart has at most two axes (a dimension or time grain, and a series).'));
      break;
    case 'TABLE':
      break;
  }
}

/**
 * Validates a chart input. A valid one comes back as the definition the engine runs (labels
 * filled in, the dataset's default time column used where a grain or range needs one, filter
 * values converted to their columns' types); otherwise every error found, with its field.
 * The chart's name and description are not part of the definition: the caller checks those.
 */
export function validateChart(input: unknown): { definition: ChartDefinition } | { errors: DefinitionError[] } {
  if (!isRecord(input)) return { errors: [error(null, 'INVALID', 'A chart input is an object.')] };
  const errors: DefinitionError[] = [];
  const type = input.type as ChartType;
  if (input.type === undefined || input.type === null) errors.push(error('type', 'REQUIRED', 'A chart needs a type.'));
  else if (!CHART_TYPES.includes(type)) errors.push(error('type', 'INVALID', `The type must be one of ${CHART_TYPES.join(', ')}.`));
  if (typeof input.dataset !== 'string' || !input.dataset) return { errors: [...errors, error('dataset', 'REQUIRED', 'A chart needs a dataset.')] };
  const dataset = datasetByName(input.dataset);
  if (!dataset) {
    const names = DATASETS.map((d) => d.name).join(', ');
    return { errors: [...errors, error('dataset', 'UNKNOWN_COLUMN', `There is no dataset ${quote(input.dataset)} (datasets: ${names}).`)] };
  }

  const metrics = validateMetrics(dataset, input.metrics, errors);

  const dimensions: string[] = [];
  const dimensionInput = input.dimensions ?? [];
  if (!Array.isArray(dimensionInput)) errors.push(error('dimensions', 'INVALID', 'Dimensions are a list of column names.'));
  else if (dimensionInput.length > LIMITS.dimensions) errors.push(error('dimensions', 'TOO_LARGE', `At most ${LIMITS.dimensions} dimensions.`));
  else
    dimensionInput.forEach((name: unknown, i) => {
      const column = typeof name === 'string' ? columnOf(dataset, name) : undefined;
      if (!column) errors.push(error(`dimensions.${i}`, 'UNKNOWN_COLUMN', `The dataset ${dataset.name} has no column ${quote(name)}.`));
      else if (!column.groupable)
        errors.push(
          column.type === 'TIME'
            ? error(`dimensions.${i}`, 'WRONG_TYPE', `${column.name} is a time: group by it with timeColumn and timeGrain.`)
            : error(`dimensions.${i}`, 'UNKNOWN_COLUMN', `${column.name} cannot be a dimension.`),
        );
      else if (dimensions.includes(column.name)) errors.push(error(`dimensions.${i}`, 'DUPLICATE', `${column.name} is already a dimension.`));
      else dimensions.push(column.name);
    });

  const timeGrain = (input.timeGrain ?? null) as TimeGrain | null;
  if (timeGrain !== null && !TIME_GRAINS.includes(timeGrain)) errors.push(error('timeGrain', 'INVALID', `The grain must be one of ${TIME_GRAINS.join(', ')}.`));
  const timeRange = validateTimeRange(input.timeRange, errors);
  let timeColumn: string | null = null;
  if (input.timeColumn !== undefined && input.timeColumn !== null) {
    const column = typeof input.timeColumn === 'string' ? columnOf(dataset, input.timeColumn) : undefined;
    if (!column) errors.push(error('timeColumn', 'UNKNOWN_COLUMN', `The dataset ${dataset.name} has no column ${quote(input.timeColumn)}.`));
    else if (column.type !== 'TIME')
      errors.push(error(timeGrain ? 'timeGrain' : 'timeColumn', 'WRONG_TYPE', `${column.name} is not a time column (${column.type}): it takes no ${timeGrain ? 'grain' : 'time range'}.`));
    else timeColumn = column.name;
  } else if (timeGrain || timeRange || type === 'LINE' || type === 'AREA') {
    // A grain or a range applies to the dataset's default time column when none is named.
    timeColumn = dataset.defaultTimeColumn;
    if (!timeColumn && (timeGrain || timeRange)) errors.push(error('timeColumn', 'REQUIRED', `The dataset ${dataset.name} has no default time column: name one.`));
  }
  if (timeColumn && timeGrain && dimensions.includes(timeColumn)) errors.push(error('dimensions', 'DUPLICATE', `${timeColumn} is already the time dimension.`));

  // Result columns: dimensions (the time bucket first) and metrics, by name; no two alike.
  const outputs = [...(timeColumn && timeGrain ? [timeColumn] : []), ...dimensions];
  metrics.forEach((metric, i) => {
    if (outputs.includes(metric.label)) errors.push(error(`metrics.${i}.label`, 'DUPLICATE', `Another metric or a dimension is already called ${quote(metric.label)}.`));
    outputs.push(metric.label);
  });

  const filters: ChartFilter[] = [];
  const filterInput = input.filters ?? [];
  if (!Array.isArray(filterInput)) errors.push(error('filters', 'INVALID', 'Filters are a list.'));
  else if (filterInput.length > LIMITS.filters) errors.push(error('filters', 'TOO_LARGE', `At most ${LIMITS.filters} filters.`));
  else
    filterInput.forEach((filter: unknown, i) => {
      const result = validateFilter(dataset, filter, `filters.${i}`);
      if (result.filter) filters.push(result.filter);
      errors.push(...result.errors);
    });

  const sort: ChartSort[] = [];
  const sortInput = input.sort ?? [];
  if (!Array.isArray(sortInput)) errors.push(error('sort', 'INVALID', 'Sort is a list.'));
  else if (sortInput.length > LIMITS.sort) errors.push(error('sort', 'TOO_LARGE', `At most ${LIMITS.sort} sort keys.`));
  else
    sortInput.forEach((item: unknown, i) => {
      if (!isRecord(item)) return errors.push(error(`sort.${i}`, 'INVALID', 'A sort key is an object with by and descending.'));
      if (typeof item.by !== 'string' || !outputs.includes(item.by))
        return errors.push(error(`sort.${i}.by`, 'UNKNOWN_COLUMN', `Sort by a metric's label or a dimension (${outputs.map((o) => quote(o)).join(', ')}), not ${quote(item.by)}.`));
      if (item.descending !== undefined && item.descending !== null && typeof item.descending !== 'boolean')
        return errors.push(error(`sort.${i}.descending`, 'INVALID', 'descending is true or false.'));
      if (sort.some((s) => s.by === item.by)) return errors.push(error(`sort.${i}.by`, 'DUPLICATE', `Already sorted by ${quote(item.by)}.`));
      sort.push({ by: item.by, descending: item.descending === true });
    });

  const rowLimit = input.rowLimit ?? LIMITS.rowLimit.default;
  if (typeof rowLimit !== 'number' || !Number.isInteger(rowLimit)) errors.push(error('rowLimit', 'INVALID', 'The row limit is a whole number.'));
  else if (rowLimit < LIMITS.rowLimit.min || rowLimit > LIMITS.rowLimit.max)
    errors.push(error('rowLimit', 'TOO_LARGE', `The row limit is ${LIMITS.rowLimit.min} to ${LIMITS.rowLimit.max}.`));

  const definition: ChartDefinition = {
    dataset: dataset.name,
    metrics,
    dimensions,
    timeColumn,
    timeGrain,
    timeRange,
    filters,
    sort,
    rowLimit: rowLimit as number,
  };
  if (!errors.length && CHART_TYPES.includes(type)) chartTypeRules(type, definition, errors);
  return errors.length ? { errors } : { definition };
}
