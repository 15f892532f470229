/*
 * The contract between the bi subgraph's parts: datasets (what a chart may read), chart
 * definitions (what a chart computes, validated against its dataset) and chart results (what the
 * engine returns, what Vega-Lite specs and SVG renderings are made of). Enum values are the
 * GraphQL schema's (schema/bi.graphql), so resolvers pass them through unchanged.
 */

export type ColumnType = 'NUMBER' | 'STRING' | 'TIME' | 'BOOLEAN';
export type Aggregate = 'COUNT' | 'COUNT_DISTINCT' | 'SUM' | 'AVG' | 'MIN' | 'MAX';
export type ChartType = 'BIG_NUMBER' | 'LINE' | 'BAR' | 'AREA' | 'PIE' | 'TABLE';
export type TimeGrain = 'DAY' | 'WEEK' | 'MONTH' | 'QUARTER' | 'YEAR';
export type RelativeTimeRange =
  | 'TODAY'
  | 'LAST_7_DAYS'
  | 'LAST_30_DAYS'
  | 'LAST_90_DAYS'
  | 'LAST_365_DAYS'
  | 'THIS_WEEK'
  | 'THIS_MONTH'
  | 'THIS_QUARTER'
  | 'THIS_YEAR'
  | 'LAST_WEEK'
  | 'LAST_MONTH'
  | 'LAST_QUARTER'
  | 'LAST_YEAR';
export type FilterOperator = 'EQ' | 'IN' | 'RANGE' | 'CONTAINS';

/** A column a dataset exposes, and what a chart may do with it. */
export interface DatasetColumn {
  name: string;
  label: string;
  type: ColumnType;
  /** The SQL expression over the dataset's source (a column of the view): code, never input. */
  sql: string;
  groupable: boolean;
  filterable: boolean;
  /** Aggregates a metric may apply to it (COUNT of rows needs no column). */
  aggregates: readonly Aggregate[];
}

/** A source of facts: a read-only view another subgraph publishes, or one of bi's own tables. */
export interface Dataset {
  name: string;
  label: string;
  description: string;
  /** Qualified relation, e.g. `crm.lead_facts`: a view with security_invoker, or a bi table. */
  source: string;
  /** The subgraph whose cache generation changes when these facts do (crm, cms, bi). */
  owner: string;
  defaultTimeColumn: string | null;
  columns: readonly DatasetColumn[];
}

export interface Metric {
  aggregate: Aggregate;
  /** Null for COUNT of rows. */
  column: string | null;
  /** The result column's name. */
  label: string;
}

export interface ChartFilter {
  column: string;
  operator: FilterOperator;
  values: unknown[];
}

export interface TimeRange {
  relative: RelativeTimeRange | null;
  from: Date | null;
  to: Date | null;
}

export interface ChartSort {
  by: string;
  descending: boolean;
}

/** A chart's definition after validation: every name in it exists in the dataset and is allowed. */
export interface ChartDefinition {
  dataset: string;
  metrics: Metric[];
  dimensions: string[];
  timeColumn: string | null;
  timeGrain: TimeGrain | null;
  timeRange: TimeRange | null;
  filters: ChartFilter[];
  sort: ChartSort[];
  rowLimit: number;
}

export interface ResultColumn {
  name: string;
  label: string;
  type: ColumnType;
}

/** A computed chart: TIME cells are ISO 8601 strings, NUMBER cells numbers, missing values null. */
export interface ChartResult {
  columns: ResultColumn[];
  rows: unknown[][];
  rowCount: number;
  truncated: boolean;
  from: Date | null;
  to: Date | null;
  computedAt: Date;
}

/** A validation failure of a chart definition, reported in the mutation payload's `errors`. */
export interface DefinitionError {
  /** The input field at fault, e.g. `metrics.0.column`. */
  field: string | null;
  message: string;
  code: 'INVALID' | 'REQUIRED' | 'TOO_LONG' | 'DUPLICATE' | 'NOT_FOUND' | 'UNKNOWN_COLUMN' | 'WRONG_TYPE' | 'TOO_LARGE';
}
