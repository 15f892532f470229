import { z } from 'zod';
import { isRunError, RunError } from '../run-error.ts';
import { body, day, esc, money, signedPercent, table, title } from './markdown.ts';
import { changePercent, DAY_MS, round } from './stats.ts';
import type { AgentKindDefinition, AnalystContext, InsightDraft } from './types.ts';

/*
 * Sales summary: revenue and orders by channel and by product over the last `periodDays`, against
 * the period of the same length before it, from bi's order facts (Saleor's orders as bi received
 * them) through the gateway: bi's `chartPreview` over the `orders` and `order_lines` datasets
 * (subgraphs/bi/datasets.ts), both periods and both datasets in one request. bi filters by
 * inclusion only, so the order status is a dimension and the excluded statuses are dropped here.
 * Revenue is the gross total, per currency (amounts of different currencies are never added).
 */

export const salesSummarySettings = z.object({
  periodDays: z.number().int().min(1).max(366).default(30).describe('The period: the last this many days up to the run (the previous period is as long, just before).'),
  excludeStatuses: z.array(z.string().regex(/^[A-Z_]{1,40}$/)).max(20).default(['CANCELED', 'DRAFT', 'EXPIRED']).describe('Orders in these statuses are not sales.'),
  topProducts: z.number().int().min(1).max(100).default(10).describe("Products in the summary's table."),
  dropPercent: z.number().min(1).max(100).default(20).describe("A revenue drop of at least this many percent (a channel's, or a top product's) is a warning."),
  maxProductInsights: z.number().int().min(0).max(50).default(5).describe('Products whose revenue dropped that far, reported one by one (largest previous revenue first).'),
});

interface Preview {
  data: { columns: { name: string }[]; rows: unknown[][]; truncated: boolean } | null;
  errors: { message: string; code: string }[];
}

const ROW_LIMIT = 10_000;
const PREVIEW = `data { columns { name } rows truncated } errors { message code }`;
const QUERY = `query AgentSales($orders: ChartInput!, $previousOrders: ChartInput!, $lines: ChartInput!, $previousLines: ChartInput!) {
  orders: chartPreview(input: $orders) { ${PREVIEW} }
  previousOrders: chartPreview(input: $previousOrders) { ${PREVIEW} }
  lines: chartPreview(input: $lines) { ${PREVIEW} }
  previousLines: chartPreview(input: $previousLines) { ${PREVIEW} }
}`;

const range = (from: Date, to: Date) => ({ from: from.toISOString(), to: to.toISOString() });

const ordersChart = (timeRange: { from: string; to: string }) => ({
  name: 'Sales summary agent: orders',
  type: 'TABLE',
  dataset: 'orders',
  metrics: [
    { aggregate: 'COUNT', label: 'orders' },
    { aggregate: 'SUM', column: 'total_gross', label: 'revenue' },
  ],
  dimensions: ['channel', 'currency', 'status'],
  timeColumn: 'created_at',
  timeRange,
  rowLimit: ROW_LIMIT,
});

const linesChart = (timeRange: { from: string; to: string }) => ({
  name: 'Sales summary agent: products',
  type: 'TABLE',
  dataset: 'order_lines',
  metrics: [
    { aggregate: 'SUM', column: 'total_gross', label: 'revenue' },
    { aggregate: 'SUM', column: 'quantity', label: 'units' },
    { aggregate: 'COUNT_DISTINCT', column: 'order_id', label: 'orders' },
  ],
  dimensions: ['product_id', 'product_name', 'channel', 'currency', 'order_status'],
  timeColumn: 'created_at',
  timeRange,
  rowLimit: ROW_LIMIT,
});

/** The preview's rows as objects by column name; a definition bi rejected is a bug here, reported as such. */
function rowsOf(preview: Preview | null): Record<string, unknown>[] {
  if (!preview) throw new RunError('UPSTREAM_ERROR', 'The sales data could not be read.');
  if (!preview.data) throw new RunError('INTERNAL', `bi rejected the sales chart: ${preview.errors.map((e) => e.message).join('; ')}`, false);
  const names = preview.data.columns.map((c) => c.name);
  return preview.data.rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i]])));
}

const num = (v: unknown) => (v == null ? 0 : Number(v));

interface Totals {
  orders: number;
  revenue: number;
  units: number;
}
const add = (map: Map<string, Totals & Record<string, unknown>>, key: string, extra: Record<string, unknown>, t: Partial<Totals>) => {
  const cur = map.get(key) ?? { ...extra, orders: 0, revenue: 0, units: 0 };
  cur.orders += t.orders ?? 0;
  cur.revenue += t.revenue ?? 0;
  cur.units += t.units ?? 0;
  map.set(key, cur);
};

async function run(ctx: AnalystContext) {
  const settings = salesSummarySettings.parse(ctx.settings);
  const to = ctx.now;
  const from = new Date(to.getTime() - settings.periodDays * DAY_MS);
  const previousFrom = new Date(from.getTime() - settings.periodDays * DAY_MS);
  await ctx.progress(10, `Reading orders from ${day(from)} to ${day(to)} and the period before`);
  let data: Record<'orders' | 'previousOrders' | 'lines' | 'previousLines', Preview | null>;
  try {
    data = await ctx.gateway.query(QUERY, {
      orders: ordersChart(range(from, to)),
      previousOrders: ordersChart(range(previousFrom, from)),
      lines: linesChart(range(from, to)),
      previousLines: linesChart(range(previousFrom, from)),
    });
  } catch (error) {
    if (isRunError(error) && error.code === 'FORBIDDEN') {
      throw new RunError('FORBIDDEN', 'The member this agent runs as may not read sales data (analysts, admins and owners may).', false);
    }
    throw error;
  }
  await ctx.progress(70, 'Comparing the periods');
  const excluded = new Set(settings.excludeStatuses);
  const truncated = Object.values(data).some((p) => p?.data?.truncated);
  if (truncated) await ctx.log('More rows than bi returns at once: the smallest groups are left out', { rowLimit: ROW_LIMIT });

  // Channels: channel x currency.
  const channels = new Map<string, Totals & { channel: string; currency: string; previous?: Totals }>();
  const previousChannels = new Map<string, Totals & Record<string, unknown>>();
  for (const [rows, target] of [
    [rowsOf(data.orders), channels],
    [rowsOf(data.previousOrders), previousChannels],
  ] as const) {
    for (const r of rows) {
      if (excluded.has(String(r.status))) continue;
      add(target as Map<string, Totals & Record<string, unknown>>, `${r.channel}\u0000${r.currency}`, { channel: String(r.channel), currency: String(r.currency) }, {
        orders: num(r.orders),
        revenue: num(r.revenue),
      });
    }
  }
  for (const [key, prev] of previousChannels) {
    if (!channels.has(key)) channels.set(key, { channel: String(prev.channel), currency: String(prev.currency), orders: 0, revenue: 0, units: 0 });
  }

  // Products: product x channel x currency.
  // A line whose product Saleor deleted has no product id: such lines are summed under their name.
  const products = new Map<string, Totals & { productId: string | null; name: string; channel: string; currency: string }>();
  const previousProducts = new Map<string, Totals & Record<string, unknown>>();
  for (const [rows, target] of [
    [rowsOf(data.lines), products],
    [rowsOf(data.previousLines), previousProducts],
  ] as const) {
    for (const r of rows) {
      if (excluded.has(String(r.order_status))) continue;
      add(
        target as Map<string, Totals & Record<string, unknown>>,
        `${r.product_id}\u0000${r.channel}\u0000${r.currency}`,
        { productId: r.product_id == null ? null : String(r.product_id), name: String(r.product_name ?? r.product_id ?? 'Unknown product'), channel: String(r.channel), currency: String(r.currency) },
        { orders: num(r.orders), revenue: num(r.revenue), units: num(r.units) },
      );
    }
  }
  for (const [key, prev] of previousProducts) {
    if (!products.has(key)) {
      products.set(key, { productId: (prev.productId as string | null) ?? null, name: String(prev.name), channel: String(prev.channel), currency: String(prev.currency), orders: 0, revenue: 0, units: 0 });
    }
  }

  const channelRows = [...channels.entries()]
    .map(([key, c]) => {
      const p = previousChannels.get(key) ?? { orders: 0, revenue: 0, units: 0 };
      return {
        channel: c.channel,
        currency: c.currency,
        orders: c.orders,
        revenue: round(c.revenue, 2),
        averageOrder: c.orders ? round(c.revenue / c.orders, 2) : null,
        previousOrders: p.orders,
        previousRevenue: round(p.revenue, 2),
        revenueChange: changePercent(c.revenue, p.revenue),
        ordersChange: changePercent(c.orders, p.orders),
      };
    })
    .sort((a, b) => b.revenue - a.revenue || a.channel.localeCompare(b.channel));
  const productRows = [...products.entries()]
    .map(([key, c]) => {
      const p = previousProducts.get(key) ?? { orders: 0, revenue: 0, units: 0 };
      return {
        productId: c.productId,
        name: c.name,
        channel: c.channel,
        currency: c.currency,
        revenue: round(c.revenue, 2),
        units: c.units,
        orders: c.orders,
        previousRevenue: round(p.revenue, 2),
        previousUnits: p.units,
        revenueChange: changePercent(c.revenue, p.revenue),
      };
    })
    .sort((a, b) => b.revenue - a.revenue || b.previousRevenue - a.previousRevenue || a.name.localeCompare(b.name));

  const period = { from: from.toISOString(), to: to.toISOString() };
  const previous = { from: previousFrom.toISOString(), to: from.toISOString() };
  const dropping = channelRows.filter((c) => c.revenueChange != null && c.revenueChange <= -settings.dropPercent);
  const totals = new Map<string, { orders: number; revenue: number }>();
  for (const c of channelRows) {
    const t = totals.get(c.currency) ?? { orders: 0, revenue: 0 };
    t.orders += c.orders;
    t.revenue += c.revenue;
    totals.set(c.currency, t);
  }
  const totalText = [...totals].map(([cur, t]) => `${money(round(t.revenue, 2), cur)} from ${t.orders} orders`).join('; ') || 'no orders';
  const insights: InsightDraft[] = [
    {
      kind: 'sales_summary',
      severity: dropping.length ? 'warning' : 'info',
      title: title(`Sales ${day(from)} to ${day(to)}: ${totalText}`),
      body: body([
        `Orders from ${day(from)} to ${day(to)} (${settings.periodDays} days) against the ${settings.periodDays} days before; orders ${[...excluded].join(', ') || '(none)'} are left out; revenue is gross.`,
        dropping.length ? `Revenue fell by ${settings.dropPercent} % or more in ${dropping.map((c) => `${esc(c.channel)} (${c.currency})`).join(', ')}.` : '',
        channelRows.length
          ? '**By channel**\n\n' +
            table(
              ['Channel', 'Orders', 'Revenue', 'Average order', 'Before: orders', 'Before: revenue', 'Change'],
              channelRows.map((c) => [esc(c.channel), c.orders, money(c.revenue, c.currency), c.averageOrder == null ? '–' : money(c.averageOrder, c.currency), c.previousOrders, money(c.previousRevenue, c.currency), signedPercent(c.revenueChange)]),
            )
          : 'No orders in either period.',
        productRows.length
          ? `**Top ${Math.min(settings.topProducts, productRows.length)} products**\n\n` +
            table(
              ['Product', 'Channel', 'Revenue', 'Units', 'Orders', 'Before: revenue', 'Change'],
              productRows.slice(0, settings.topProducts).map((p) => [esc(p.name), esc(p.channel), money(p.revenue, p.currency), p.units, p.orders, money(p.previousRevenue, p.currency), signedPercent(p.revenueChange)]),
            )
          : '',
        truncated ? '_More groups than bi returns at once: the smallest are missing._' : '',
      ]),
      evidence: {
        period,
        previousPeriod: previous,
        excludedStatuses: [...excluded],
        totals: Object.fromEntries([...totals].map(([cur, t]) => [cur, { orders: t.orders, revenue: round(t.revenue, 2) }])),
        channels: channelRows,
        products: productRows.slice(0, settings.topProducts),
        truncated,
      },
    },
  ];
  const falling = productRows
    .filter((p) => p.productId && p.previousRevenue > 0 && p.revenueChange != null && p.revenueChange <= -settings.dropPercent)
    .sort((a, b) => b.previousRevenue - a.previousRevenue || a.productId!.localeCompare(b.productId!))
    .slice(0, settings.maxProductInsights);
  for (const p of falling) {
    insights.push({
      kind: 'product_sales_drop',
      severity: 'warning',
      title: title(`${p.name}: revenue ${signedPercent(p.revenueChange)} in ${p.channel}`),
      body: body([
        `**${esc(p.name)}** sold ${money(p.revenue, p.currency)} (${p.units} units) from ${day(from)} to ${day(to)}, against ${money(p.previousRevenue, p.currency)} (${p.previousUnits} units) in the ${settings.periodDays} days before.`,
      ]),
      subject: { type: 'Product', id: p.productId!, channel: p.channel },
      evidence: { ...p, period, previousPeriod: previous },
    });
  }
  return { insights };
}

export const salesSummary: AgentKindDefinition = {
  kind: 'SALES_SUMMARY',
  description: "Summarises revenue and orders by channel and product over a period from bi's order facts, against the period before.",
  needsModel: false,
  settings: salesSummarySettings,
  run,
};
