import { chartData } from './engine/index.ts';
import type { ChartDefinition, ChartFilter, ChartResult, ChartType } from './engine/types.ts';
import type { BiContext } from './loaders.ts';
import { renderSvg, vegaLiteSpec } from './render/index.ts';
import { chartTenantOf } from './share/scope.ts';

// A chart's data (the engine: live facts under the caller's RLS, cached in Redis until a source
// changes) and its renderings (the render module). Fields of one chart in one request share one
// computation: `data` and `vegaLite` of a chart ask the engine once.

/** What the renderers need of a chart, saved or not. */
export interface ChartSpec {
  name: string;
  type: ChartType;
  definition: ChartDefinition;
}

/**
 * The chart's data, with a dashboard's native filters when given (computed once per request).
 * Under a share link's context (share/scope.ts) its transaction runs in the link's tenant, and
 * the data are cached under that tenant, not the caller's.
 */
export function dataOf(ctx: BiContext, definition: ChartDefinition, extraFilters: readonly ChartFilter[] = []): Promise<ChartResult> {
  const key = JSON.stringify([definition, extraFilters]);
  let data = ctx.loaders.chartData.get(key);
  if (!data) {
    const tenantId = chartTenantOf(ctx);
    data = chartData(ctx, definition, { ...(extraFilters.length ? { extraFilters: [...extraFilters] } : {}), ...(tenantId ? { tenantId } : {}) });
    ctx.loaders.chartData.set(key, data);
  }
  return data;
}

export const vegaLiteOf = async (ctx: BiContext, chart: ChartSpec, extraFilters?: readonly ChartFilter[]) =>
  vegaLiteSpec(chart, await dataOf(ctx, chart.definition, extraFilters));

export const svgOf = async (ctx: BiContext, chart: ChartSpec) => renderSvg(chart, await dataOf(ctx, chart.definition));
