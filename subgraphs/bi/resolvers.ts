import { accountField } from '../kit/accounts.ts';
import { listConnection, toListRequest } from '../kit/connection.ts';
import { ONE_STATEMENT } from '../kit/db/database.ts';
import { pageStatements } from '../kit/db/list.ts';
import { badInput, notFound } from '../kit/errors.ts';
import { isUuid } from '../kit/formats.ts';
import { loadOrNotFound } from '../kit/loaders.ts';
import { payloadResolver } from '../kit/mutations/payload.ts';
import type { Resolvers } from './__generated__/resolvers-types.ts';
import { seesUnpublished } from './access.ts';
import * as charts from './charts.ts';
import { definitionOf } from './charts.ts';
import * as dashboards from './dashboards.ts';
import { nativeFiltersOf } from './dashboards.ts';
import { dataOf, svgOf, vegaLiteOf } from './data.ts';
import { DATASETS, datasetByName } from './engine/index.ts';
import type { BiContext } from './loaders.ts';
import type { ChartModel, DashboardModel } from './mappers.ts';
import * as store from './store.ts';
import { backfillSaleorOrdersResolver, saleorBackfillFields, saleorBackfillResolver, startSaleorBackfillResolver } from './webhooks/backfill-mutation.ts';
import { LIMITS } from './validate.ts';
import { contextOf, inherit } from './share/scope.ts';
import { sharedDashboard, shareLinkMutations, shareLinkResolvers, shareLinksOf } from './share/resolvers.ts';

/** A list's search text: at most LIMITS.search characters (longer is an input error, not a cut). */
function search(value: string | null | undefined): string | null {
  if (!value) return null;
  if (value.length > LIMITS.search) throw badInput(`"search" is at most ${LIMITS.search} characters.`, 'search');
  return value;
}

const chartSpec = (chart: ChartModel) => ({ name: chart.name, type: chart.type, definition: definitionOf(chart) });

/** The dashboard of a slug, as the caller may see it; the id loader then knows it too. */
async function dashboardBySlug(ctx: BiContext, slug: string): Promise<DashboardModel | null> {
  const row = await ctx.tx((tx) => store.dashboardBySlug(tx, slug, seesUnpublished(ctx.principal)), ONE_STATEMENT);
  if (row) ctx.loaders.dashboard.prime(row.id, row);
  return row;
}

const chartPayload = payloadResolver('chart');
const dashboardPayload = payloadResolver('dashboard');
const deletedPayload = payloadResolver('deletedId');

export const resolvers: Resolvers = {
  Query: {
    biDatasets: () => [...DATASETS],
    biDataset: (_root, args) => {
      const dataset = datasetByName(args.name);
      if (!dataset) throw notFound('Dataset');
      return dataset;
    },
    charts: async (_root, args, ctx, info) => {
      const page = toListRequest(args, info);
      const filter = { dataset: args.filter?.dataset ?? null, type: args.filter?.type ?? null, search: search(args.filter?.search) };
      return listConnection(await ctx.tx((tx) => store.chartsPage(tx, filter, page), pageStatements(page)), page);
    },
    // The loaders read UUIDs only: a malformed id is not found either.
    chart: (_root, args, ctx) => loadOrNotFound(ctx.loaders.chart, args.id.toLowerCase(), 'Chart'),
    dashboards: async (_root, args, ctx, info) => {
      const page = toListRequest(args, info);
      const filter = { published: args.filter?.published ?? null, search: search(args.filter?.search), withUnpublished: seesUnpublished(ctx.principal) };
      return listConnection(await ctx.tx((tx) => store.dashboardsPage(tx, filter, page), pageStatements(page)), page);
    },
    // Unpublished dashboards do not exist for editors and viewers (the store leaves them out).
    dashboard: async (_root, args, ctx) => {
      const key = args.idOrSlug.trim().toLowerCase();
      const row = isUuid(key) ? await ctx.loaders.dashboard.load(key) : await dashboardBySlug(ctx, key);
      if (!row) throw notFound('Dashboard');
      return row;
    },
    chartPreview: (_root, args) => charts.previewChart(args.input),
    // Anyone with a share link's token: share/resolvers.ts, share/scope.ts.
    sharedDashboard,
    saleorBackfill: saleorBackfillResolver,
  },
  SaleorBackfill: saleorBackfillFields,
  Mutation: {
    createChart: chartPayload(charts.createChart),
    updateChart: chartPayload(charts.updateChart),
    deleteChart: deletedPayload(charts.deleteChart),
    createDashboard: dashboardPayload(dashboards.createDashboard),
    updateDashboard: dashboardPayload(dashboards.updateDashboard),
    deleteDashboard: deletedPayload(dashboards.deleteDashboard),
    backfillSaleorOrders: backfillSaleorOrdersResolver,
    startSaleorBackfill: startSaleorBackfillResolver,
    ...shareLinkMutations,
  },
  Chart: {
    __resolveReference: (reference, ctx) => ctx.loaders.chart.load(reference.id),
    definition: (chart) => definitionOf(chart),
    // A chart reached through a share link reads in the link's tenant (share/scope.ts contextOf).
    data: (chart, _args, ctx) => dataOf(contextOf(chart, ctx), definitionOf(chart)),
    vegaLite: (chart, _args, ctx) => vegaLiteOf(contextOf(chart, ctx), chartSpec(chart)),
    svg: (chart, _args, ctx) => svgOf(contextOf(chart, ctx), chartSpec(chart)),
    owner: accountField('owner_id'),
    createdAt: (chart) => chart.created_at,
    updatedAt: (chart) => chart.updated_at,
  },
  Dashboard: {
    __resolveReference: (reference, ctx) => ctx.loaders.dashboard.load(reference.id),
    nativeFilters: (dashboard) => nativeFiltersOf(dashboard),
    // A shared dashboard's charts are read, primed and marked in the link's context, never the
    // request's: its charts are reachable only through it (share/scope.ts).
    charts: async (dashboard, _args, requestCtx) => {
      const ctx = contextOf(dashboard, requestCtx);
      const placements = await ctx.loaders.placements.load(dashboard.id);
      const nativeFilters = nativeFiltersOf(dashboard);
      return placements.map(({ chart, x, y, width, height }) => {
        ctx.loaders.chart.prime(chart.id, chart);
        return inherit(dashboard, { chart: inherit(dashboard, chart), x, y, width, height, nativeFilters });
      });
    },
    shareLinks: shareLinksOf,
    owner: accountField('owner_id'),
    createdAt: (dashboard) => dashboard.created_at,
    updatedAt: (dashboard) => dashboard.updated_at,
  },
  DashboardChart: {
    data: (placed, _args, ctx) => dataOf(contextOf(placed, ctx), definitionOf(placed.chart), placed.nativeFilters),
    vegaLite: (placed, _args, ctx) => vegaLiteOf(contextOf(placed, ctx), chartSpec(placed.chart), placed.nativeFilters),
  },
  ...shareLinkResolvers,
  ChartPreview: {
    data: (preview, _args, ctx) => (preview.chart ? dataOf(ctx, preview.chart.definition) : null),
    vegaLite: (preview, _args, ctx) => (preview.chart ? vegaLiteOf(ctx, preview.chart) : null),
  },
};
