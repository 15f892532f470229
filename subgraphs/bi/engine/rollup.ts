import type { FactDataset, FactRollup } from '../datasets.ts';
import type { ResolvedRange } from './time.ts';
import type { ChartDefinition, ChartFilter } from './types.ts';

/*
 * Whether a chart can read its dataset's daily rollup instead of the facts (datasets.ts,
 * FactRollup), with the same answer:
 * - every dimension and every filter's column is one of the rollup's dimensions (a filter on
 *   anything else would need the rows);
 * - every metric decomposes over days: COUNT (sum of the days' rows), SUM, MIN, MAX and AVG
 *   (sum of sums over sum of counts) of a measure, COUNT_DISTINCT of a dimension;
 * - its time column is the rollup's (or it has none), and the range starts and ends at UTC
 *   midnights (or is open), so whole days are in or out. Every relative range is whole UTC days;
 *   an absolute range at another time of day reads the facts.
 * A time grain of a day or more buckets the days as it would bucket the rows: a row's bucket is
 * its day's bucket.
 */

const DAY_MS = 86_400_000;
const wholeDay = (date: Date | null | undefined) => !date || date.getTime() % DAY_MS === 0;

export function rollupFor(
  dataset: FactDataset,
  definition: ChartDefinition,
  range: ResolvedRange | null,
  extraFilters: readonly ChartFilter[],
): FactRollup | null {
  const rollup = dataset.rollup;
  if (!rollup) return null;
  if (definition.timeColumn && definition.timeColumn !== rollup.timeColumn) return null;
  if (definition.timeColumn && range && (!wholeDay(range.from) || !wholeDay(range.to))) return null;
  const isDimension = (name: string | null | undefined) => !!name && rollup.dimensions.includes(name);
  if (!definition.dimensions.every(isDimension)) return null;
  if (![...definition.filters, ...extraFilters].every((filter) => isDimension(filter.column))) return null;
  for (const metric of definition.metrics) {
    if (metric.aggregate === 'COUNT') continue;
    if (metric.aggregate === 'COUNT_DISTINCT' ? !isDimension(metric.column) : !rollup.measures.includes(metric.column ?? '')) return null;
  }
  return rollup;
}

/** A metric over the rollup's columns (rollupFor said it decomposes). */
export function rollupAggregate(aggregate: string, column: string | null | undefined): string {
  switch (aggregate) {
    case 'COUNT':
      // count(*) is 0 over no rows; the sum of no days' counts is null.
      return 'coalesce(sum(facts), 0)';
    case 'COUNT_DISTINCT':
      return `count(DISTINCT ${column})`;
    case 'SUM':
      return `sum(${column}_sum)`;
    case 'AVG':
      return `sum(${column}_sum) / nullif(sum(${column}_count), 0)`;
    case 'MIN':
      return `min(${column}_min)`;
    case 'MAX':
      return `max(${column}_max)`;
    default:
      throw new Error(`aggregate ${aggregate} has no rollup form`);
  }
}
