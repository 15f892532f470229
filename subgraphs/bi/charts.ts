import { failed } from '../kit/mutations/outcome.ts';
import type { ChartInput } from './__generated__/resolvers-types.ts';
import { validateChart } from './engine/index.ts';
import type { ChartDefinition, RelativeTimeRange } from './engine/types.ts';
import type { BiContext } from './loaders.ts';
import type { ChartPreviewModel } from './mappers.ts';
import { fail, reject, write, type Outcome } from './mutations.ts';
import * as store from './store.ts';
import { LIMITS, Problems } from './validate.ts';

// Charts: a name and a type around a definition the engine validated against its dataset
// (only allow-listed columns, aggregates their type allows, limits). Stored as that validated
// definition, so what a chart computes never depends on input checked some other way.

/** The chart an input describes, or every problem with it (the engine's field errors included). */
function checked(input: ChartInput): { values: store.ChartValues } | { errors: Problems['list'] } {
  const problems = new Problems();
  const name = problems.text('name', input.name, LIMITS.name, true);
  const description = problems.text('description', input.description, LIMITS.description);
  // The definition is the engine's to judge (the name and description are not part of it).
  const result = validateChart(input);
  if ('errors' in result) problems.list.push(...result.errors);
  if (problems.any || 'errors' in result) return { errors: problems.list };
  const { definition } = result;
  return { values: { name: name!, description, type: input.type, dataset: definition.dataset, definition } };
}

export async function createChart(ctx: BiContext, { input }: { input: ChartInput }): Promise<Outcome<store.ChartRow>> {
  const chart = checked(input);
  if ('errors' in chart) return failed(chart.errors);
  return write(ctx.tx, (tx) => store.insertChart(tx, chart.values, ctx.principal.accountId));
}

export async function updateChart(ctx: BiContext, { id, input }: { id: string; input: ChartInput }): Promise<Outcome<store.ChartRow>> {
  const problems = new Problems();
  const chartId = problems.id('id', id, 'chart');
  const chart = checked(input);
  if ('errors' in chart) problems.list.push(...chart.errors);
  if (problems.any || 'errors' in chart) return problems.failed();
  return write(ctx.tx, async (tx) => (await store.updateChart(tx, chartId!, chart.values)) ?? reject('id', 'No such chart.', 'NOT_FOUND'));
}

/** Removes the chart from every dashboard too (ON DELETE CASCADE). */
export async function deleteChart(ctx: BiContext, { id }: { id: string }): Promise<Outcome<string>> {
  const problems = new Problems();
  const chartId = problems.id('id', id, 'chart');
  if (!chartId) return fail('id', 'No such chart.', 'NOT_FOUND');
  return write(ctx.tx, async (tx) => (await store.deleteChart(tx, chartId)) ?? reject('id', 'No such chart.', 'NOT_FOUND'));
}

/** An unsaved chart for `chartPreview`: its data are computed only if asked for (resolvers.ts). */
export function previewChart(input: ChartInput): ChartPreviewModel {
  const chart = checked(input);
  if ('errors' in chart) return { chart: null, errors: chart.errors };
  const { name, type, definition } = chart.values;
  return { chart: { name, type, definition: definition as ChartDefinition }, errors: [] };
}

// ---------------------------------------------------------------------------------------------
// The stored definition, read back.

interface StoredTimeRange {
  relative?: RelativeTimeRange | null;
  from?: string | null;
  to?: string | null;
}

const definitions = new WeakMap<store.ChartRow, ChartDefinition>();

/**
 * A chart row's definition as the engine and the renderers take it: stored as JSON, so the
 * absolute time range's ends come back as ISO strings and become Dates again. Once per row.
 */
export function definitionOf(row: store.ChartRow): ChartDefinition {
  let definition = definitions.get(row);
  if (!definition) {
    const stored = row.definition as unknown as ChartDefinition & { timeRange: StoredTimeRange | null };
    const range = stored.timeRange;
    definition = {
      ...stored,
      timeRange: range
        ? { relative: range.relative ?? null, from: range.from ? new Date(range.from) : null, to: range.to ? new Date(range.to) : null }
        : null,
    };
    definitions.set(row, definition);
  }
  return definition;
}
