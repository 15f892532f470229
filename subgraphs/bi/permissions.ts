import { allow, isAdmin, isAnalyst, isMember, type Permissions } from '../kit/shield.ts';
import { isAdminNotShared, isMemberNotShared, isMemberOrShared, isMemberOrShareRequest } from './share/scope.ts';
import { isPlatformAdmin } from './webhooks/backfill-mutation.ts';

/**
 * Who may call what in the bi subgraph (row-level security then decides which rows exist):
 *
 * | what                                                         | who                         |
 * |--------------------------------------------------------------|-----------------------------|
 * | biDatasets, biDataset, charts, chart (with data, renderings) | members                     |
 * | dashboards, dashboard: published ones                        | members                     |
 * | dashboards, dashboard: unpublished ones too                  | analysts, admins, owners    |
 * | chartPreview; create/update/delete charts and dashboards     | analysts, admins, owners    |
 * | backfillSaleorOrders, startSaleorBackfill, saleorBackfill     | platform administrators     |
 * |   (Saleor's orders into the tenant whose channel it is)      |                             |
 * | createShareLink, revokeShareLink, Dashboard.shareLinks        | admins, owners              |
 * | sharedDashboard: that dashboard, its charts and their data    | anyone with the link's token |
 *
 * Which dashboards exist for the caller is the data layer's (access.ts, store.ts): an editor or
 * viewer asking for an unpublished one by id, slug or `_entities` gets NOT_FOUND / null, the
 * same answer as for one that never existed. Anything not listed is denied; the kit derives the
 * rules of connections, edges, PageInfo and mutation payloads from what they wrap.
 *
 * Share links (share/scope.ts): the objects `sharedDashboard` returns (the dashboard, its
 * placements, their charts) carry the link; their fields are open to whoever holds it
 * (`isMemberOrShared`), except who owns them and the dashboard's links. The plain values under
 * them (definitions, data) are open in a request that verified a link (`isMemberOrShareRequest`): only
 * fields already guarded return them. A chart or dashboard reached any other way (`chart`,
 * `_entities`, another dashboard) has no link: members only, as before.
 */

export const permissions: Permissions = {
  Query: {
    biDatasets: isMember,
    biDataset: isMember,
    charts: isMember,
    chart: isMember,
    dashboards: isMember,
    dashboard: isMember,
    chartPreview: isAnalyst,
    sharedDashboard: allow,
    saleorBackfill: isPlatformAdmin,
  },
  Mutation: {
    createChart: isAnalyst,
    updateChart: isAnalyst,
    deleteChart: isAnalyst,
    createDashboard: isAnalyst,
    updateDashboard: isAnalyst,
    deleteDashboard: isAnalyst,
    backfillSaleorOrders: isPlatformAdmin,
    startSaleorBackfill: isPlatformAdmin,
    createShareLink: isAdmin,
    revokeShareLink: isAdmin,
  },
  BiDataset: isMember,
  BiColumn: isMember,
  Chart: { '*': isMemberOrShared, owner: isMemberNotShared },
  ChartDefinition: isMemberOrShareRequest,
  Metric: isMemberOrShareRequest,
  ChartFilter: isMemberOrShareRequest,
  TimeRange: isMemberOrShareRequest,
  ChartSort: isMemberOrShareRequest,
  ChartData: isMemberOrShareRequest,
  ChartColumn: isMemberOrShareRequest,
  ChartPreview: isAnalyst,
  SaleorBackfill: isPlatformAdmin,
  // The lists stay members' (their node types' rules look at rows, so the kit would allow them).
  ChartConnection: isMember,
  ChartEdge: isMember,
  DashboardConnection: isMember,
  DashboardEdge: isMember,
  Dashboard: { '*': isMemberOrShared, owner: isMemberNotShared, shareLinks: isAdminNotShared },
  DashboardChart: isMemberOrShared,
  ShareLink: isAdmin,
  Account: isMember,
};
