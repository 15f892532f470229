import type { Tx } from '../kit/db/database.ts';
import { rejectAll } from '../kit/mutations/rejected.ts';
import type { DashboardChartInput, DashboardInput, DashboardUpdateInput } from './__generated__/resolvers-types.ts';
import { validateNativeFilters } from './engine/index.ts';
import type { ChartFilter } from './engine/types.ts';
import { checkLayout, missingCharts } from './layout.ts';
import type { BiContext } from './loaders.ts';
import { fail, reject, write, type Outcome } from './mutations.ts';
import { checkSlug, slugify } from './slugs.ts';
import * as store from './store.ts';
import { has, LIMITS, Problems } from './validate.ts';

// Dashboards: a title and a slug, native filters, and charts placed on a grid. Every write is one
// transaction: the input is checked first, then the charts it places must be charts of the
// tenant (another tenant's chart id is NOT_FOUND, like one that never existed).

/** A dashboard's stored native filters, as the engine takes them. */
export const nativeFiltersOf = (row: store.DashboardRow): ChartFilter[] => row.native_filters as unknown as ChartFilter[];

/**
 * A dashboard's native filters, checked by the engine: each must fit the column in every dataset
 * that has it (a chart applies only the filters its dataset has). Problems under `nativeFilters.<i>`.
 */
function checkNativeFilters(problems: Problems, filters: unknown): ChartFilter[] {
  const result = validateNativeFilters(filters);
  problems.list.push(...result.errors);
  return result.filters ?? [];
}

/** Places the charts (the old layout goes); rejects when one is not a chart of the tenant. */
async function placeCharts(tx: Tx, dashboardId: string, placements: store.Placement[], inputs: readonly DashboardChartInput[]) {
  const existing = await store.existingChartIds(tx, placements.map((p) => p.chart_id));
  const missing = missingCharts(placements, existing, inputs);
  if (missing.length) rejectAll(missing);
  await store.replacePlacements(tx, dashboardId, placements);
}

export async function createDashboard(ctx: BiContext, { input }: { input: DashboardInput }): Promise<Outcome<store.DashboardRow>> {
  const problems = new Problems();
  const title = problems.text('title', input.title, LIMITS.title, true);
  const slug = input.slug?.trim() ? checkSlug(problems, 'slug', input.slug) : slugify(title ?? '');
  const description = problems.text('description', input.description, LIMITS.description);
  const nativeFilters = checkNativeFilters(problems, input.nativeFilters ?? []);
  const charts = input.charts ?? [];
  const placements = checkLayout(problems, charts);
  if (problems.any) return problems.failed();
  return write(ctx.tx, async (tx) => {
    const dashboard = await store.insertDashboard(tx, { title: title!, slug: slug!, description, native_filters: nativeFilters }, ctx.principal.accountId);
    if (placements.length) await placeCharts(tx, dashboard.id, placements, charts);
    return dashboard;
  });
}

/** Changes the fields the input sends (null clears a description, the filters or the layout). */
export async function updateDashboard(ctx: BiContext, { id, input }: { id: string; input: DashboardUpdateInput }): Promise<Outcome<store.DashboardRow>> {
  const problems = new Problems();
  const dashboardId = problems.id('id', id, 'dashboard');
  const values: store.DashboardValues = {};
  if (has(input, 'title')) values.title = problems.text('title', input.title, LIMITS.title, true) ?? undefined;
  if (has(input, 'slug')) {
    if (input.slug == null || !input.slug.trim()) problems.add('slug', 'A dashboard keeps a slug.', 'REQUIRED');
    else values.slug = checkSlug(problems, 'slug', input.slug) ?? undefined;
  }
  if (has(input, 'description')) values.description = problems.text('description', input.description, LIMITS.description);
  if (has(input, 'published')) {
    if (input.published == null) problems.add('published', 'Say true or false.', 'REQUIRED');
    else values.published = input.published;
  }
  if (has(input, 'nativeFilters')) values.native_filters = checkNativeFilters(problems, input.nativeFilters ?? []);
  const charts = has(input, 'charts') ? (input.charts ?? []) : null;
  const placements = charts && checkLayout(problems, charts);
  if (problems.any) return problems.failed();
  return write(ctx.tx, async (tx) => {
    // Also when only the layout changes: updated_at says when the dashboard last changed.
    const dashboard = (await store.updateDashboard(tx, dashboardId!, values)) ?? reject('id', 'No such dashboard.', 'NOT_FOUND');
    if (placements) await placeCharts(tx, dashboard.id, placements, charts!);
    return dashboard;
  });
}

export async function deleteDashboard(ctx: BiContext, { id }: { id: string }): Promise<Outcome<string>> {
  const problems = new Problems();
  const dashboardId = problems.id('id', id, 'dashboard');
  if (!dashboardId) return fail('id', 'No such dashboard.', 'NOT_FOUND');
  return write(ctx.tx, async (tx) => (await store.deleteDashboard(tx, dashboardId)) ?? reject('id', 'No such dashboard.', 'NOT_FOUND'));
}
