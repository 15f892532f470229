import type { SubgraphDeps } from '../kit/deps.ts';
import { DEMO_ACCOUNTS, DEMO_TENANTS } from '../auth/seed.ts';
import type { ChartInput } from './__generated__/resolvers-types.ts';
import { validateChart } from './engine/index.ts';
import * as store from './store.ts';
import { seedOrderFacts } from './webhooks/seed.ts';

/*
 * Demo BI content for the demo tenants: one published dashboard with the charts the old
 * Superset set-up promised (pipeline by stage, leads by source per week, won revenue per month,
 * top products by revenue from orders, pages published per month), over each tenant's own demo
 * facts. No time range: the demo facts are dated when the demo data was written, and a relative
 * range would empty the charts as time goes by. Written only when the tenant has no chart yet, so
 * it is idempotent.
 */

export const DEMO_DASHBOARD = {
  title: 'Agency overview',
  slug: 'agency-overview',
  description: 'Pipeline, leads, revenue, products and content at a glance.',
} as const;

type Placed = ChartInput & { description: string; at: { x: number; y: number; width: number; height: number } };

export const DEMO_CHARTS: readonly Placed[] = [
  {
    name: 'Pipeline by stage',
    description: 'Deal amounts in each pipeline stage.',
    type: 'BAR',
    dataset: 'deals',
    metrics: [{ aggregate: 'SUM', column: 'amount', label: 'amount' }],
    dimensions: ['stage'],
    sort: [{ by: 'amount', descending: true }],
    at: { x: 0, y: 0, width: 6, height: 8 },
  },
  {
    name: 'Won revenue per month',
    description: 'Amounts of the deals won, by the month they closed.',
    type: 'BAR',
    dataset: 'deals',
    metrics: [{ aggregate: 'SUM', column: 'amount', label: 'revenue' }],
    timeColumn: 'closed_at',
    timeGrain: 'MONTH',
    filters: [{ column: 'won', operator: 'EQ', values: [true] }],
    at: { x: 6, y: 0, width: 6, height: 8 },
  },
  {
    name: 'Leads by source per week',
    description: 'New leads each week, one line per source.',
    type: 'LINE',
    dataset: 'leads',
    metrics: [{ aggregate: 'COUNT', label: 'leads' }],
    dimensions: ['source'],
    timeColumn: 'created_at',
    timeGrain: 'WEEK',
    at: { x: 0, y: 8, width: 12, height: 8 },
  },
  {
    name: 'Top products by revenue',
    description: 'The ten products with the most revenue in Saleor orders.',
    type: 'BAR',
    dataset: 'order_lines',
    metrics: [{ aggregate: 'SUM', column: 'total_gross', label: 'revenue' }],
    dimensions: ['product_name'],
    sort: [{ by: 'revenue', descending: true }],
    rowLimit: 10,
    at: { x: 0, y: 16, width: 6, height: 8 },
  },
  {
    name: 'Pages published per month',
    description: 'CMS pages by the month they first went live.',
    type: 'BAR',
    dataset: 'pages',
    metrics: [{ aggregate: 'COUNT', label: 'pages' }],
    timeColumn: 'published_at',
    timeGrain: 'MONTH',
    // Pages never published have no month.
    filters: [{ column: 'published_at', operator: 'RANGE', values: ['2000-01-01T00:00:00Z', null] }],
    at: { x: 6, y: 16, width: 6, height: 8 },
  },
];

/** Idempotent: a tenant's demo charts and dashboard are written once, when it has no chart. */
export async function seedDemoDashboards(deps: SubgraphDeps): Promise<void> {
  // The demo tenants' Saleor orders (the backfill of their channels), for the order charts.
  await seedOrderFacts(deps);
  for (const tenant of DEMO_TENANTS) {
    const owner = DEMO_ACCOUNTS.find((a) => a.tenant === tenant.slug && a.role === 'owner');
    await deps.db.withTenant({ tenantId: tenant.id, accountId: owner?.id ?? null }, async (tx) => {
      if ((await tx.query('SELECT 1 FROM bi.charts LIMIT 1')).rows.length) return;
      // Owners must be members (foreign key): the auth demo data comes first.
      const member = owner && (await tx.query('SELECT 1 FROM auth.memberships WHERE account_id = $1', [owner.id])).rows.length ? owner.id : null;
      const placements: store.Placement[] = [];
      for (const { at, description, ...input } of DEMO_CHARTS) {
        const result = validateChart(input);
        if ('errors' in result) throw new Error(`bad demo chart ${input.name}: ${JSON.stringify(result.errors)}`);
        const chart = await store.insertChart(
          tx,
          { name: input.name, description, type: input.type, dataset: result.definition.dataset, definition: result.definition },
          member,
        );
        placements.push({ chart_id: chart.id, ...at });
      }
      const dashboard = await store.insertDashboard(tx, { ...DEMO_DASHBOARD, published: true, native_filters: [] }, member);
      await store.replacePlacements(tx, dashboard.id, placements);
    });
  }
}
