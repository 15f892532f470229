import { GraphQLError } from 'graphql';
import type { Config } from '../../kit/config.ts';
import type { TxRunner } from '../../kit/db/database.ts';
import { badInput } from '../../kit/errors.ts';
import type { Principal } from '../../kit/principal.ts';
import type { RedisClient } from '../../kit/redis.ts';
import { datasetByName } from '../datasets.ts';
import { readCachedChart, writeCachedChart, type ChartCacheOptions, type ChartCacheSlot } from './cache.ts';
import { buildChartQuery, cell } from './sql.ts';
import { resolveRange } from './time.ts';
import type { ChartDefinition, ChartFilter, ChartResult } from './types.ts';
import { validateFilter } from './validate.ts';

/** What chartData needs of a request's context (a bi resolver's `ctx` has all of it). */
export interface ChartDataContext {
  deps: { config: Pick<Config, 'CACHE_TTL_SECONDS' | 'REDIS_PREFIX'>; redis: RedisClient };
  /** The caller's tenant transaction runner: row-level security decides which facts exist. */
  tx: TxRunner;
  principal: Pick<Principal, 'tenantId'>;
}

export interface ChartDataOptions {
  /**
   * A dashboard's native filters: each applies when the chart's dataset has that column (and may
   * filter on it), and is ignored otherwise. Values are checked against the column's type.
   */
  extraFilters?: readonly ChartFilter[];
  /** What relative time ranges are resolved against (default: the current time). */
  now?: Date;
  /**
   * The tenant `tx` runs as, when it is not the principal's (a share link read by an anonymous
   * caller): the cache key's tenant. Without a tenant nothing is cached.
   */
  tenantId?: string | null;
  /** The query's statement_timeout (default STATEMENT_TIMEOUT_MS). */
  statementTimeoutMs?: number;
  /** Read the dataset's daily rollup when the chart fits it (default true; false: always the facts). */
  rollups?: boolean;
}

/**
 * The longest a chart's query may run. The bench aims at 250 ms on a million rows; a query past
 * this is a definition too broad for the data (or a sick database), better refused than left
 * holding a pooled connection.
 */
export const STATEMENT_TIMEOUT_MS = 10_000;

/** PostgreSQL's query_canceled, which a statement_timeout raises. */
const QUERY_CANCELED = '57014';

/**
 * Computes a chart from the tenant's live facts (or the cache): one parameterised statement in
 * the caller's tenant transaction, under a statement timeout. Throws BAD_USER_INPUT for a
 * definition naming a dataset that does not exist or an extra filter whose values do not fit
 * its column, and when the query runs past the timeout.
 */
export async function chartData(ctx: ChartDataContext, definition: ChartDefinition, options: ChartDataOptions = {}): Promise<ChartResult> {
  const dataset = datasetByName(definition.dataset);
  if (!dataset) throw badInput(`There is no dataset ${JSON.stringify(definition.dataset)}.`, 'dataset');
  const extraFilters: ChartFilter[] = [];
  (options.extraFilters ?? []).forEach((filter, i) => {
    const column = dataset.columns.find((c) => c.name === filter.column);
    if (!column?.filterable) return;
    const result = validateFilter(dataset, filter, `nativeFilters.${i}`);
    if (!result.filter) throw badInput(result.errors[0]!.message, result.errors[0]!.field ?? undefined);
    extraFilters.push(result.filter);
  });
  const now = options.now ?? new Date();
  const range = resolveRange(definition.timeRange, now);
  const query = buildChartQuery(dataset, definition, range, extraFilters, { rollups: options.rollups });

  const tenantId = options.tenantId === undefined ? ctx.principal.tenantId : options.tenantId;
  const cache: ChartCacheOptions = { redis: ctx.deps.redis, prefix: ctx.deps.config.REDIS_PREFIX, ttlSeconds: ctx.deps.config.CACHE_TTL_SECONDS };
  // The key holds exactly what the SQL depends on: its text and values (the definition, the
  // filters and the resolved range, all in there), under the tenant.
  let slot: ChartCacheSlot | null = null;
  if (tenantId && cache.ttlSeconds > 0) {
    const read = await readCachedChart(cache, tenantId, dataset.owner, { text: query.text, values: query.values, from: range?.from ?? null, to: range?.to ?? null });
    // Definitions that differ only in their labels run the same statement and share its rows;
    // the columns (names, labels) are always this definition's own.
    if (read.cached) return { ...read.cached, columns: query.columns };
    slot = read.slot;
  }

  const timeout = Math.max(1, Math.floor(options.statementTimeoutMs ?? STATEMENT_TIMEOUT_MS));
  let rows: unknown[][];
  try {
    rows = await ctx.tx(
      async (tx) => {
        // Transaction-local settings: they end with this transaction and never reach the
        // connection's next user. The kit runs parameterised statements as prepared ones, and
        // after five runs PostgreSQL may switch one to a generic plan, estimated without the
        // values: for a chart, whose time range may cover a day or three years, the plan must
        // fit the values (index range or parallel scan), and planning costs far less than a bad plan.
        const [, result] = await Promise.all([
          tx.query(`SET LOCAL statement_timeout = ${timeout}; SET LOCAL plan_cache_mode = force_custom_plan`),
          tx.query<Record<string, unknown>>(query.text, query.values),
        ]);
        return result.rows.map((row) => query.columns.map((column, i) => cell(row[`c${i}`], column.type)));
      },
      { statements: 2 },
    );
  } catch (error) {
    if ((error as { code?: string }).code === QUERY_CANCELED)
      throw new GraphQLError('The chart took too long to compute: narrow its time range or filters.', { extensions: { code: 'BAD_USER_INPUT' } });
    throw error;
  }

  const truncated = rows.length > query.rowLimit;
  if (truncated) rows = rows.slice(0, query.rowLimit);
  const result: ChartResult = {
    columns: query.columns,
    rows,
    rowCount: rows.length,
    truncated,
    from: range?.from ?? null,
    to: range?.to ?? null,
    computedAt: new Date(),
  };
  if (slot) await writeCachedChart(cache, slot, result);
  return result;
}
