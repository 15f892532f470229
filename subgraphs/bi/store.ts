import type { ListRequest } from '../kit/connection.ts';
import type { Tx } from '../kit/db/database.ts';
import { readList } from '../kit/db/list.ts';
import { Params } from '../kit/db/params.ts';
import { selectByKeys } from '../kit/db/select-by-keys.ts';
import type { Table } from '../kit/db/table.ts';
import { CURRENT_TENANT } from '../kit/db/tenant.ts';
import { deleteRow, insertRow, updateRow } from '../kit/db/write-row.ts';
import type { ChartType } from './engine/types.ts';

// All SQL of the bi subgraph's own objects (charts, dashboards, their layout); the facts charts
// read are the engine's. Every function runs inside the caller's tenant transaction (ctx.tx):
// row-level security decides which rows exist, and new rows take the transaction's tenant. Ids
// reaching these functions are already checked to be UUIDs.

export interface ChartRow {
  id: string;
  name: string;
  description: string | null;
  type: ChartType;
  dataset: string;
  /** The validated definition as stored (JSON: times are ISO strings); see mappers.ts definitionOf. */
  definition: Record<string, unknown>;
  owner_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface DashboardRow {
  id: string;
  title: string;
  slug: string;
  description: string | null;
  published: boolean;
  /** ChartFilter objects as stored (JSON). */
  native_filters: Record<string, unknown>[];
  owner_id: string | null;
  created_at: Date;
  updated_at: Date;
}

/** A chart's place on a dashboard, read together with the chart. */
export interface PlacementRow {
  dashboard_id: string;
  x: number;
  y: number;
  width: number;
  height: number;
  chart: ChartRow;
}

export interface Placement {
  chart_id: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

const CHART_COLUMNS = 'id, name, description, type, dataset, definition, owner_id, created_at, updated_at';
const CHARTS: Table = { name: 'bi.charts', columns: CHART_COLUMNS };
export const DASHBOARDS: Table = { name: 'bi.dashboards', columns: 'id, title, slug, description, published, native_filters, owner_id, created_at, updated_at' };

/** `%text%` for ILIKE, with LIKE's wildcards in `text` escaped. */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

// ---------------------------------------------------------------------------------------------
// Charts

/** The charts of these ids (a DataLoader batch: one statement). */
export const chartsByIds = selectByKeys<ChartRow>(CHARTS, { key: 'id' });

export interface ChartListFilter {
  dataset?: string | null;
  type?: ChartType | null;
  search?: string | null;
}

/** One page of the tenant's charts, newest first (off charts_by_created). */
export function chartsPage(tx: Tx, filter: ChartListFilter, page: ListRequest) {
  const p = new Params();
  const where: string[] = [];
  if (filter.dataset) where.push(`dataset = ${p.add(filter.dataset)}`);
  if (filter.type) where.push(`type = ${p.add(filter.type)}`);
  if (filter.search) where.push(`name ILIKE ${p.add(containing(filter.search))}`);
  return readList<ChartRow>(tx, { columns: CHART_COLUMNS, from: CHARTS.name, where, orderBy: 'created_at DESC, id DESC', values: p.values }, page);
}

export interface ChartValues {
  name: string;
  description: string | null;
  type: ChartType;
  dataset: string;
  definition: unknown;
}

const chartColumns = (chart: ChartValues) => ({ ...chart, definition: JSON.stringify(chart.definition) });

export const insertChart = (tx: Tx, chart: ChartValues, ownerId: string | null) =>
  insertRow<ChartRow>(tx, CHARTS, { ...chartColumns(chart), owner_id: ownerId });

export const updateChart = (tx: Tx, id: string, chart: ChartValues) => updateRow<ChartRow>(tx, CHARTS, id, chartColumns(chart));

/** Its placements go with it (ON DELETE CASCADE). */
export const deleteChart = (tx: Tx, id: string) => deleteRow(tx, CHARTS, id);

/** Which of these ids are charts of the tenant (a dashboard's layout may only use those). */
export async function existingChartIds(tx: Tx, ids: readonly string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const { rows } = await tx.query<{ id: string }>('SELECT id FROM bi.charts WHERE id = ANY($1::uuid[])', [ids]);
  return new Set(rows.map((r) => r.id));
}

// ---------------------------------------------------------------------------------------------
// Dashboards

/**
 * The dashboards of these ids (a DataLoader batch: one statement); unpublished ones only when
 * `withUnpublished` (analysts and above): for the others they do not exist.
 */
export function dashboardsByIds(withUnpublished: boolean): (tx: Tx, ids: readonly string[]) => Promise<DashboardRow[]> {
  const text = `SELECT ${DASHBOARDS.columns} FROM bi.dashboards WHERE id = ANY($1::uuid[])${withUnpublished ? '' : ' AND published'}`;
  return async (tx, ids) => (await tx.query<DashboardRow>(text, [ids])).rows;
}

/** The dashboard with this slug, under the same rule as dashboardsByIds. */
export async function dashboardBySlug(tx: Tx, slug: string, withUnpublished: boolean): Promise<DashboardRow | null> {
  const { rows } = await tx.query<DashboardRow>(
    `SELECT ${DASHBOARDS.columns} FROM bi.dashboards WHERE slug = $1${withUnpublished ? '' : ' AND published'}`,
    [slug],
  );
  return rows[0] ?? null;
}

export interface DashboardListFilter {
  /** Null: both (as far as the caller may see). */
  published?: boolean | null;
  search?: string | null;
  withUnpublished: boolean;
}

/** One page of the tenant's dashboards, newest first (off dashboards_by_created). */
export function dashboardsPage(tx: Tx, filter: DashboardListFilter, page: ListRequest) {
  const p = new Params();
  const where: string[] = [];
  if (filter.published === false) where.push(filter.withUnpublished ? 'NOT published' : 'false');
  else if (!filter.withUnpublished || filter.published === true) where.push('published');
  if (filter.search) where.push(`title ILIKE ${p.add(containing(filter.search))}`);
  return readList<DashboardRow>(tx, { columns: DASHBOARDS.columns, from: DASHBOARDS.name, where, orderBy: 'created_at DESC, id DESC', values: p.values }, page);
}

export interface DashboardValues {
  title?: string;
  slug?: string;
  description?: string | null;
  published?: boolean;
  native_filters?: unknown[];
}

const dashboardColumns = (values: DashboardValues) => {
  const columns: Record<string, unknown> = { ...values };
  if (values.native_filters !== undefined) columns.native_filters = JSON.stringify(values.native_filters);
  return columns;
};

export const insertDashboard = (tx: Tx, values: DashboardValues, ownerId: string | null) =>
  insertRow<DashboardRow>(tx, DASHBOARDS, { ...dashboardColumns(values), owner_id: ownerId });

export const updateDashboard = (tx: Tx, id: string, values: DashboardValues) => updateRow<DashboardRow>(tx, DASHBOARDS, id, dashboardColumns(values));

export const deleteDashboard = (tx: Tx, id: string) => deleteRow(tx, DASHBOARDS, id);

/** Whether another dashboard of the tenant has this slug. */
export async function slugTaken(tx: Tx, slug: string, exceptId: string | null): Promise<boolean> {
  const { rows } = await tx.query('SELECT 1 FROM bi.dashboards WHERE slug = $1 AND id IS DISTINCT FROM $2::uuid', [slug, exceptId]);
  return rows.length > 0;
}

/** The dashboard's layout becomes `placements` (the old one is removed), in one statement each. */
export async function replacePlacements(tx: Tx, dashboardId: string, placements: readonly Placement[]): Promise<void> {
  await tx.query('DELETE FROM bi.dashboard_charts WHERE dashboard_id = $1', [dashboardId]);
  if (!placements.length) return;
  await tx.query(
    `INSERT INTO bi.dashboard_charts (tenant_id, dashboard_id, chart_id, x, y, width, height)
     SELECT ${CURRENT_TENANT}, $1, chart_id, x, y, width, height
     FROM jsonb_to_recordset($2::jsonb) AS r(chart_id uuid, x smallint, y smallint, width smallint, height smallint)`,
    [dashboardId, JSON.stringify(placements)],
  );
}

/**
 * The charts of these dashboards with their places, in grid order (top to bottom, left to
 * right): one statement for any number of dashboards (a DataLoader batch), the charts joined in.
 */
const PLACEMENTS_OF_DASHBOARDS = `SELECT dc.dashboard_id, dc.x, dc.y, dc.width, dc.height, ${CHART_COLUMNS.split(', ').map((c) => `c.${c}`).join(', ')}
  FROM bi.dashboard_charts dc JOIN bi.charts c ON c.tenant_id = dc.tenant_id AND c.id = dc.chart_id
  WHERE dc.dashboard_id = ANY($1::uuid[])
  ORDER BY dc.dashboard_id, dc.y, dc.x, dc.chart_id`;

export async function placementsOfDashboards(tx: Tx, dashboardIds: readonly string[]): Promise<PlacementRow[]> {
  const { rows } = await tx.query<Omit<PlacementRow, 'chart'> & ChartRow>(PLACEMENTS_OF_DASHBOARDS, [dashboardIds]);
  return rows.map(({ dashboard_id, x, y, width, height, ...chart }) => ({ dashboard_id, x, y, width, height, chart }));
}
