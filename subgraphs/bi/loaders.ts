import { accountEmailLoader } from '../kit/accounts.ts';
import type { Context } from '../kit/context.ts';
import { rowsById, rowsByParent } from '../kit/loaders.ts';
import { seesUnpublished } from './access.ts';
import type { ChartResult } from './engine/types.ts';
import type { BiSettings } from './settings.ts';
import * as shareStore from './share/store.ts';
import * as store from './store.ts';

/**
 * Per-request DataLoaders: every read by id is one statement per batch, and a dashboard's
 * charts come with their places in one statement for any number of dashboards.
 */
export function createLoaders(ctx: Pick<Context, 'tx' | 'principal'>) {
  return {
    chart: rowsById(ctx.tx, store.chartsByIds, (row) => row.id),
    /** Owners' emails (kit/accounts.ts), for `owner { email }` without auth. */
    accountEmail: accountEmailLoader(ctx.tx),
    // Unpublished dashboards exist only for analysts and above.
    dashboard: rowsById(ctx.tx, store.dashboardsByIds(seesUnpublished(ctx.principal)), (row) => row.id),
    placements: rowsByParent(ctx.tx, store.placementsOfDashboards, (row) => row.dashboard_id),
    // Dashboard.shareLinks (admins).
    shareLinks: rowsByParent(ctx.tx, shareStore.linksOfDashboards, (row) => row.dashboard_id),
    /**
     * Chart data computed in this request, by definition and extra filters: `data`, `vegaLite`
     * and `svg` of one chart (or the same chart on two dashboards) compute it once (data.ts).
     */
    chartData: new Map<string, Promise<ChartResult>>(),
  };
}

export type BiLoaders = ReturnType<typeof createLoaders>;
export type BiContext = Context<BiLoaders, BiSettings>;
