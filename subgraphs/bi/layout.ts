import type { DashboardChartInput } from './__generated__/resolvers-types.ts';
import type { Placement } from './store.ts';
import type { Problems } from './validate.ts';

// A dashboard's layout: charts on a 12-column grid (the bi.dashboard_charts CHECKs say the same).

export const GRID = { columns: 12, maxHeight: 24, maxY: 10_000, maxCharts: 50 } as const;

const within = (value: number, min: number, max: number) => Number.isInteger(value) && value >= min && value <= max;

/**
 * The placements of a layout input, checked: each chart once, inside the grid, none overlapping
 * another. Problems are recorded under `charts.<i>.<field>`; whether the charts exist in the
 * tenant is the write's to check (missingCharts).
 */
export function checkLayout(problems: Problems, charts: readonly DashboardChartInput[]): Placement[] {
  if (charts.length > GRID.maxCharts) {
    problems.add('charts', `At most ${GRID.maxCharts} charts on a dashboard.`, 'TOO_LARGE');
    return [];
  }
  const placements: Placement[] = [];
  /** The input index of each placement, to name the other one of an overlap. */
  const indexes: number[] = [];
  const seen = new Map<string, number>();
  charts.forEach((item, i) => {
    const at = `charts.${i}`;
    const before = problems.list.length;
    const chartId = problems.id(`${at}.chartId`, item.chartId, 'chart');
    if (chartId !== null) {
      if (seen.has(chartId)) problems.add(`${at}.chartId`, `The chart is on the dashboard already (charts.${seen.get(chartId)}).`, 'DUPLICATE');
      else seen.set(chartId, i);
    }
    if (!within(item.x, 0, GRID.columns - 1)) problems.add(`${at}.x`, `Must be between 0 and ${GRID.columns - 1}.`, 'INVALID');
    if (!within(item.y, 0, GRID.maxY)) problems.add(`${at}.y`, `Must be between 0 and ${GRID.maxY}.`, 'INVALID');
    if (!within(item.width, 1, GRID.columns)) problems.add(`${at}.width`, `Must be between 1 and ${GRID.columns}.`, 'INVALID');
    else if (within(item.x, 0, GRID.columns - 1) && item.x + item.width > GRID.columns) {
      problems.add(`${at}.width`, `x + width must be at most ${GRID.columns}.`, 'INVALID');
    }
    if (!within(item.height, 1, GRID.maxHeight)) problems.add(`${at}.height`, `Must be between 1 and ${GRID.maxHeight}.`, 'INVALID');
    if (problems.list.length > before) return;
    const placement = { chart_id: chartId!, x: item.x, y: item.y, width: item.width, height: item.height };
    const other = placements.findIndex((p) => overlap(p, placement));
    if (other >= 0) problems.add(at, `Overlaps charts.${indexes[other]}.`, 'INVALID');
    else {
      placements.push(placement);
      indexes.push(i);
    }
  });
  return placements;
}

const overlap = (a: Placement, b: Placement) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** The payload errors of placed charts that are not charts of the tenant (another tenant's are not). */
export function missingCharts(placements: readonly Placement[], existing: ReadonlySet<string>, inputs: readonly DashboardChartInput[]) {
  return placements
    .filter((p) => !existing.has(p.chart_id))
    .map((p) => ({
      field: `charts.${inputs.findIndex((c) => c.chartId.toLowerCase() === p.chart_id)}.chartId`,
      message: 'No such chart.',
      code: 'NOT_FOUND' as const,
    }));
}
