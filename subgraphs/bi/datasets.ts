import type { Aggregate, ColumnType, Dataset, DatasetColumn } from './engine/types.ts';

/*
 * The datasets charts are built on, defined by the code: a chart names a dataset and its
 * columns, and the engine builds SQL only from the `sql` expressions below (never from input).
 * crm and cms publish their facts as views with security_invoker (their 002_facts.sql), so the
 * row-level security of their tables filters every read; order facts are bi's own tables, filled
 * by Saleor's webhooks. `owner` names the subgraph whose cache generation changes with the facts.
 */

/**
 * A dataset column as the engine uses it: the contract's column, plus the PostgreSQL type a
 * filter value is cast to when it is not the one the column's type implies (a uuid column is a
 * STRING to charts, but its values are compared as uuids so its index can serve them, and a
 * value that is not a uuid is refused by validation instead of failing the statement).
 */
export interface FactColumn extends DatasetColumn {
  valueType?: 'uuid';
  /** The join (a key of the dataset's `joins`) this column's expression reads from. */
  join?: string;
}

/**
 * A daily rollup of a dataset (engine/rollup.ts): one row per tenant, UTC day of `timeColumn` and
 * value of each dimension, kept in step with the facts by triggers of the owner's tables (in the
 * same transaction as every write, so a chart is never staler than the facts). A chart that only
 * groups and filters by these dimensions, over whole UTC days (every relative range is), reads it
 * instead of the facts: a year of a million-row table is a few thousand rows. Its columns: `day`,
 * `facts` (the rows of the day and dimensions), each dimension by its name, and for each measure
 * `<name>_sum`, `<name>_count` (non-null values), `<name>_min` and `<name>_max`.
 */
export interface FactRollup {
  source: string;
  timeColumn: string;
  dimensions: readonly string[];
  measures: readonly string[];
}

export interface FactDataset extends Dataset {
  columns: readonly FactColumn[];
  rollup?: FactRollup;
  /**
   * Relations joined to `source` only when a column the chart uses needs them: a chart of
   * order lines by product reads order_lines alone (an index-only scan can serve it), one ranged
   * on the order's date joins the orders.
   */
  joins?: Readonly<Record<string, string>>;
}

const NUMERIC: readonly Aggregate[] = ['SUM', 'AVG', 'MIN', 'MAX', 'COUNT_DISTINCT'];
const TIMES: readonly Aggregate[] = ['MIN', 'MAX'];
const DISTINCT: readonly Aggregate[] = ['COUNT_DISTINCT'];

type ColumnOptions = Partial<Pick<FactColumn, 'sql' | 'groupable' | 'filterable' | 'aggregates' | 'valueType' | 'join'>>;

/** A column, with the defaults of its type: what is usually meaningful to do with one. */
function column(name: string, label: string, type: ColumnType, options: ColumnOptions = {}): FactColumn {
  const defaults: Record<ColumnType, Pick<FactColumn, 'groupable' | 'aggregates'>> = {
    STRING: { groupable: true, aggregates: DISTINCT },
    BOOLEAN: { groupable: true, aggregates: [] },
    NUMBER: { groupable: false, aggregates: NUMERIC },
    // Time is grouped through a chart's time column and grain (date_trunc), not as raw values.
    TIME: { groupable: false, aggregates: TIMES },
  };
  return { name, label, type, sql: options.sql ?? name, filterable: true, ...defaults[type], ...options };
}

/** An id: counted distinct and filtered, never a dimension (one group per row). */
const id = (name: string, label: string) => column(name, label, 'STRING', { groupable: false, valueType: 'uuid' });
/** A member of the tenant (an auth account id): a dimension, e.g. deals per owner. */
const member = (name: string, label: string) => column(name, label, 'STRING', { valueType: 'uuid' });

export const DATASETS: readonly FactDataset[] = Object.freeze([
  {
    name: 'leads',
    label: 'Leads',
    description: 'CRM leads: status, source, score, owner, tags, when created and converted.',
    source: 'crm.lead_facts',
    owner: 'crm',
    defaultTimeColumn: 'created_at',
    rollup: { source: 'crm.lead_facts_daily', timeColumn: 'created_at', dimensions: ['status', 'source'], measures: ['score'] },
    columns: [
      id('id', 'Lead'),
      column('status', 'Status', 'STRING'),
      column('source', 'Source', 'STRING'),
      column('score', 'Score', 'NUMBER', { groupable: true }),
      member('owner_id', 'Owner'),
      // Filtered by CONTAINS (a tag, or part of one); tags are a list, so no dimension.
      column('tags', 'Tags', 'STRING', { sql: `array_to_string(tags, ' ')`, groupable: false, aggregates: [] }),
      column('converted', 'Converted', 'BOOLEAN', { sql: 'converted_at IS NOT NULL' }),
      column('created_at', 'Created', 'TIME'),
      column('updated_at', 'Updated', 'TIME'),
      column('converted_at', 'Converted at', 'TIME'),
      column('last_activity_at', 'Last activity', 'TIME'),
    ],
  },
  {
    name: 'deals',
    label: 'Deals',
    description: 'CRM deals: pipeline stage, amount, probability, won or lost, expected and actual close.',
    source: 'crm.deal_facts',
    owner: 'crm',
    defaultTimeColumn: 'created_at',
    columns: [
      id('id', 'Deal'),
      column('stage', 'Stage', 'STRING'),
      column('stage_kind', 'Stage kind', 'STRING'),
      // The stage's place in the pipeline: a dimension next to `stage` to sort stages in order.
      column('stage_position', 'Stage position', 'NUMBER', { groupable: true, aggregates: ['MIN', 'MAX'] }),
      column('amount', 'Amount', 'NUMBER'),
      column('weighted_amount', 'Weighted amount', 'NUMBER', { sql: 'amount * probability / 100.0' }),
      column('currency', 'Currency', 'STRING'),
      column('probability', 'Probability', 'NUMBER', { groupable: true }),
      column('won', 'Won', 'BOOLEAN'),
      column('lost', 'Lost', 'BOOLEAN'),
      member('owner_id', 'Owner'),
      // A date in crm: its day, as the UTC midnight it starts with.
      column('expected_close_date', 'Expected close', 'TIME', { sql: `(expected_close_date::timestamp AT TIME ZONE 'UTC')` }),
      column('closed_at', 'Closed', 'TIME'),
      column('created_at', 'Created', 'TIME'),
      column('updated_at', 'Updated', 'TIME'),
    ],
  },
  {
    name: 'activities',
    label: 'Activities',
    description: 'CRM activities (calls, emails, meetings, notes, tasks): done or not, due, completed, and what they are about.',
    source: 'crm.activity_facts',
    owner: 'crm',
    defaultTimeColumn: 'created_at',
    columns: [
      id('id', 'Activity'),
      column('type', 'Type', 'STRING'),
      column('done', 'Done', 'BOOLEAN'),
      // Relative to when the data were computed (cached at most CACHE_TTL_SECONDS).
      column('overdue', 'Overdue', 'BOOLEAN', { sql: '(NOT done AND due_at IS NOT NULL AND due_at < now())' }),
      column('subject_kind', 'About', 'STRING'),
      member('account_id', 'Logged by'),
      column('due_at', 'Due', 'TIME'),
      column('completed_at', 'Completed', 'TIME'),
      column('created_at', 'Created', 'TIME'),
    ],
  },
  {
    name: 'pages',
    label: 'Pages',
    description: 'CMS pages: status, section, locale, author, revisions, when created and published.',
    source: 'cms.page_facts',
    owner: 'cms',
    defaultTimeColumn: 'created_at',
    columns: [
      id('id', 'Page'),
      column('status', 'Status', 'STRING'),
      column('section', 'Section', 'STRING'),
      column('locale', 'Locale', 'STRING'),
      column('depth', 'Depth', 'NUMBER', { groupable: true, aggregates: ['AVG', 'MIN', 'MAX'] }),
      member('author_id', 'Author'),
      column('has_unpublished_changes', 'Unpublished changes', 'BOOLEAN'),
      column('revision_count', 'Revisions', 'NUMBER'),
      column('published_at', 'First published', 'TIME'),
      column('last_published_at', 'Last published', 'TIME'),
      column('scheduled_at', 'Scheduled for', 'TIME'),
      column('created_at', 'Created', 'TIME'),
      column('updated_at', 'Updated', 'TIME'),
    ],
  },
  {
    name: 'orders',
    label: 'Orders',
    description: 'Saleor orders of the tenant\'s channel (from Saleor\'s webhooks): status, paid, totals, currency.',
    source: 'bi.orders',
    owner: 'bi',
    defaultTimeColumn: 'created_at',
    rollup: {
      source: 'bi.orders_daily',
      timeColumn: 'created_at',
      dimensions: ['channel', 'status', 'paid', 'currency'],
      measures: ['total_gross', 'total_net'],
    },
    columns: [
      column('order_id', 'Order', 'STRING', { groupable: false }),
      column('number', 'Number', 'STRING', { groupable: false }),
      column('channel', 'Channel', 'STRING'),
      column('status', 'Status', 'STRING'),
      column('paid', 'Paid', 'BOOLEAN'),
      column('total_gross', 'Total (gross)', 'NUMBER'),
      column('total_net', 'Total (net)', 'NUMBER'),
      column('currency', 'Currency', 'STRING'),
      column('created_at', 'Created', 'TIME'),
      column('updated_at', 'Updated', 'TIME'),
    ],
  },
  {
    name: 'order_lines',
    label: 'Order lines',
    description: 'Lines of Saleor orders: product, variant, quantity and totals, with their order\'s channel, status and date.',
    // Lines carry their order's date (migration 005: ranges read the lines alone); its status,
    // channel and payment are the order's, joined when a chart uses them (same tenant by the
    // composite key, both tables under RLS; every line has its order, foreign key with ON DELETE
    // CASCADE, so the join never drops a line).
    source: 'bi.order_lines l',
    joins: { order: 'JOIN bi.orders o ON o.tenant_id = l.tenant_id AND o.order_id = l.order_id' },
    owner: 'bi',
    defaultTimeColumn: 'created_at',
    // The line's own columns only: the order's (channel, status, paid) change after the lines are written.
    rollup: {
      source: 'bi.order_lines_daily',
      timeColumn: 'created_at',
      dimensions: ['product_id', 'product_name', 'currency'],
      measures: ['quantity', 'unit_price_gross', 'total_gross'],
    },
    columns: [
      column('order_id', 'Order', 'STRING', { sql: 'l.order_id', groupable: false }),
      column('line_id', 'Line', 'STRING', { sql: 'l.line_id', groupable: false }),
      column('product_id', 'Product id', 'STRING', { sql: 'l.product_id' }),
      column('product_name', 'Product', 'STRING', { sql: 'l.product_name' }),
      column('variant_id', 'Variant id', 'STRING', { sql: 'l.variant_id' }),
      column('sku', 'SKU', 'STRING', { sql: 'l.sku' }),
      column('quantity', 'Quantity', 'NUMBER', { sql: 'l.quantity' }),
      column('unit_price_gross', 'Unit price (gross)', 'NUMBER', { sql: 'l.unit_price_gross' }),
      column('total_gross', 'Line total (gross)', 'NUMBER', { sql: 'l.total_gross' }),
      column('currency', 'Currency', 'STRING', { sql: 'l.currency' }),
      column('channel', 'Channel', 'STRING', { sql: 'o.channel', join: 'order' }),
      column('order_status', 'Order status', 'STRING', { sql: 'o.status', join: 'order' }),
      column('paid', 'Paid', 'BOOLEAN', { sql: 'o.paid', join: 'order' }),
      column('created_at', 'Ordered', 'TIME', { sql: 'l.created_at' }),
    ],
  },
] satisfies FactDataset[]);

const byName = new Map(DATASETS.map((dataset) => [dataset.name, dataset]));

/** The dataset of that name, or undefined (names are case-sensitive). */
export const datasetByName = (name: string): FactDataset | undefined => byName.get(name);

/** A dataset's column by name, or undefined. */
export const columnOf = (dataset: FactDataset, name: string): FactColumn | undefined => dataset.columns.find((c) => c.name === name);
