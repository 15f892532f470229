import { columnOf, type FactColumn, type FactDataset } from '../datasets.ts';
import { GRAIN_FIELD, type ResolvedRange } from './time.ts';
import type { ChartDefinition, ChartFilter, ColumnType, Metric, ResultColumn } from './types.ts';
import { rollupAggregate, rollupFor } from './rollup.ts';

/*
 * The SQL of a chart: one SELECT over the dataset's source, built only from the dataset's
 * allow-listed `sql` expressions and fixed keywords; every value (filter values, the time range,
 * the row limit) is a parameter. Result columns are aliased by position (c0, c1, ...), so no
 * label or name from the input reaches the text either. Row-level security of the source's tables
 * adds the tenant condition (the caller's transaction), the engine none of its own.
 */

export interface ChartQuery {
  text: string;
  values: unknown[];
  columns: ResultColumn[];
  /** The row limit asked for: the query reads one row more to tell whether there were more. */
  rowLimit: number;
}

/** PostgreSQL type of a filter value or range bound, per column (fixed words, never input). */
function valueType(column: FactColumn): string {
  if (column.valueType === 'uuid') return 'uuid';
  const types: Record<ColumnType, string> = { NUMBER: 'numeric', STRING: 'text', TIME: 'timestamptz', BOOLEAN: 'boolean' };
  return types[column.type];
}

/** `%`, `_` and the escape character itself match literally in ILIKE ... ESCAPE '\'. */
export const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, '\\$&')}%`;

const AGGREGATE_SQL: Record<Metric['aggregate'], (sql: string) => string> = {
  COUNT: () => 'count(*)',
  COUNT_DISTINCT: (sql) => `count(DISTINCT ${sql})`,
  SUM: (sql) => `sum(${sql})`,
  AVG: (sql) => `avg(${sql})`,
  MIN: (sql) => `min(${sql})`,
  MAX: (sql) => `max(${sql})`,
};

/** The dataset's column of that name, or an error: a definition that names anything else never runs. */
function mustColumn(dataset: FactDataset, name: string): FactColumn {
  const column = columnOf(dataset, name);
  if (!column) throw new Error(`chart definition names a column ${JSON.stringify(name)} the dataset ${dataset.name} does not have`);
  return column;
}

export function buildChartQuery(
  dataset: FactDataset,
  definition: ChartDefinition,
  range: ResolvedRange | null,
  extraFilters: readonly ChartFilter[] = [],
  options: { rollups?: boolean } = {},
): ChartQuery {
  // The dataset's daily rollup when the chart fits it (rollup.ts): its columns by name, its
  // aggregates decomposed, its days for the time column; otherwise the facts.
  const rollup = options.rollups === false ? null : rollupFor(dataset, definition, range, extraFilters);
  const sqlOf = (column: FactColumn) => (rollup ? column.name : column.sql);
  const values: unknown[] = [];
  /** The joins the columns used need (FactDataset.joins), in the dataset's order. */
  const joins = new Set<string>();
  const use = (column: FactColumn) => {
    if (column.join) {
      if (!dataset.joins?.[column.join]) throw new Error(`column ${column.name} needs an unknown join ${column.join}`);
      joins.add(column.join);
    }
    return column;
  };
  const param = (value: unknown, type: string) => {
    values.push(value);
    return `$${values.length}::${type}`;
  };

  const select: string[] = [];
  const columns: ResultColumn[] = [];
  /** Result column name -> its position (1-based, as ORDER BY takes it). */
  const positions = new Map<string, number>();
  const output = (sql: string, column: ResultColumn) => {
    select.push(`${sql} AS c${select.length}`);
    columns.push(column);
    positions.set(column.name, select.length);
  };

  const timeColumn = definition.timeColumn ? use(mustColumn(dataset, definition.timeColumn)) : null;
  if (timeColumn && timeColumn.type !== 'TIME') throw new Error(`chart time column ${timeColumn.name} is not a time`);
  if (timeColumn && definition.timeGrain) {
    // Own keys only: a definition that was not validated must not reach Object.prototype here.
    const field = Object.hasOwn(GRAIN_FIELD, definition.timeGrain) ? GRAIN_FIELD[definition.timeGrain] : undefined;
    if (!field) throw new Error(`unknown time grain ${String(definition.timeGrain)}`);
    // The bucket in UTC, whatever the session's time zone (date_trunc with a zone, PostgreSQL 14+).
    const time = rollup ? `(day::timestamp AT TIME ZONE 'UTC')` : timeColumn.sql;
    output(`date_trunc('${field}', ${time}, 'UTC')`, { name: timeColumn.name, label: timeColumn.label, type: 'TIME' });
  }
  for (const name of definition.dimensions) {
    const column = use(mustColumn(dataset, name));
    if (!column.groupable) throw new Error(`column ${name} cannot be a dimension`);
    output(sqlOf(column), { name: column.name, label: column.label, type: column.type });
  }
  const groups = select.length;
  for (const metric of definition.metrics) {
    const aggregate = Object.hasOwn(AGGREGATE_SQL, metric.aggregate) ? AGGREGATE_SQL[metric.aggregate] : undefined;
    if (!aggregate) throw new Error(`unknown aggregate ${String(metric.aggregate)}`);
    let type: ColumnType = 'NUMBER';
    let sql = aggregate('');
    if (metric.aggregate !== 'COUNT') {
      const column = use(mustColumn(dataset, metric.column ?? ''));
      if (!column.aggregates.includes(metric.aggregate)) throw new Error(`column ${column.name} does not allow ${metric.aggregate}`);
      sql = rollup ? rollupAggregate(metric.aggregate, column.name) : aggregate(column.sql);
      if (metric.aggregate === 'MIN' || metric.aggregate === 'MAX') type = column.type;
    } else if (rollup) {
      sql = rollupAggregate('COUNT', null);
    }
    output(sql, { name: metric.label, label: metric.label, type });
  }

  const where: string[] = [];
  if (rollup) {
    // Whole UTC days (rollupFor checked): [from, to) as days.
    if (timeColumn && range?.from) where.push(`day >= ${param(range.from.toISOString().slice(0, 10), 'date')}`);
    if (timeColumn && range?.to) where.push(`day < ${param(range.to.toISOString().slice(0, 10), 'date')}`);
  } else {
    if (timeColumn && range?.from) where.push(`${timeColumn.sql} >= ${param(range.from.toISOString(), 'timestamptz')}`);
    if (timeColumn && range?.to) where.push(`${timeColumn.sql} < ${param(range.to.toISOString(), 'timestamptz')}`);
  }
  for (const filter of [...definition.filters, ...extraFilters]) {
    const column = use(mustColumn(dataset, filter.column));
    if (!column.filterable) throw new Error(`column ${column.name} cannot be filtered`);
    const type = valueType(column);
    switch (filter.operator) {
      case 'EQ':
        where.push(filter.values[0] === null ? `${sqlOf(column)} IS NULL` : `${sqlOf(column)} = ${param(filter.values[0], type)}`);
        break;
      case 'IN':
        where.push(`${sqlOf(column)} = ANY(${param(filter.values, `${type}[]`)})`);
        break;
      case 'RANGE': {
        const [from, to] = filter.values;
        if (from !== null && from !== undefined) where.push(`${sqlOf(column)} >= ${param(from, type)}`);
        if (to !== null && to !== undefined) where.push(`${sqlOf(column)} < ${param(to, type)}`);
        break;
      }
      case 'CONTAINS':
        where.push(`${sqlOf(column)} ILIKE ${param(likePattern(String(filter.values[0])), 'text')} ESCAPE '\\'`);
        break;
      default:
        throw new Error(`unknown filter operator ${String(filter.operator)}`);
    }
  }

  // The sort asked for, then every dimension not sorted on yet (in order, ascending), so equal
  // sort keys come in a stable order and a truncated result is always the same rows. Nulls last
  // either way: a missing value is never the top of a ranking.
  const order: string[] = [];
  const sorted = new Set<number>();
  for (const sort of definition.sort) {
    const position = positions.get(sort.by);
    if (position === undefined) throw new Error(`chart sorts by ${JSON.stringify(sort.by)}, not one of its columns`);
    if (sorted.has(position)) continue;
    sorted.add(position);
    order.push(`${position} ${sort.descending ? 'DESC' : 'ASC'} NULLS LAST`);
  }
  for (let position = 1; position <= groups; position++) if (!sorted.has(position)) order.push(`${position} ASC NULLS LAST`);

  const rowLimit = definition.rowLimit;
  if (!Number.isInteger(rowLimit) || rowLimit < 1) throw new Error(`bad row limit ${rowLimit}`);
  const text = [
    `SELECT ${select.join(', ')}`,
    rollup
      ? `FROM ${rollup.source}`
      : `FROM ${[dataset.source, ...Object.entries(dataset.joins ?? {}).filter(([name]) => joins.has(name)).map(([, sql]) => sql)].join(' ')}`,
    where.length ? `WHERE ${where.join(' AND ')}` : '',
    groups ? `GROUP BY ${Array.from({ length: groups }, (_, i) => i + 1).join(', ')}` : '',
    order.length ? `ORDER BY ${order.join(', ')}` : '',
    `LIMIT ${param(rowLimit + 1, 'integer')}`,
  ]
    .filter(Boolean)
    .join(' ');
  return { text, values, columns, rowLimit };
}

/** A cell as the result carries it: numbers as numbers (PostgreSQL's numeric and bigint arrive as text), times as ISO 8601. */
export function cell(value: unknown, type: ColumnType): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'NUMBER':
      return typeof value === 'number' ? value : Number(value);
    case 'TIME':
      return (value instanceof Date ? value : new Date(String(value))).toISOString();
    case 'BOOLEAN':
      return Boolean(value);
    case 'STRING':
      return String(value);
  }
}
