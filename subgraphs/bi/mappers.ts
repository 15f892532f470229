import type { ChartDefinition, ChartFilter, ChartResult, ChartType, Dataset, DatasetColumn } from './engine/types.ts';
import type { InputError } from '../kit/errors.ts';
import type { ShareLinkRow } from './share/store.ts';
import type { BackfillRow } from './webhooks/backfill-job.ts';
import type { ChartRow, DashboardRow } from './store.ts';

// What each GraphQL type's resolvers receive as parent (see codegen.ts).

export type ChartModel = ChartRow;
export type DashboardModel = DashboardRow;
/** A chart in its place on a dashboard, with the dashboard's native filters for its data. */
export interface DashboardChartModel {
  chart: ChartRow;
  x: number;
  y: number;
  width: number;
  height: number;
  nativeFilters: ChartFilter[];
}
export type ChartDefinitionModel = ChartDefinition;
export type ChartDataModel = ChartResult;
export type BiDatasetModel = Dataset;
export type BiColumnModel = DatasetColumn;
/** An unsaved chart (null when its definition was refused), and why it was refused. */
export interface ChartPreviewModel {
  chart: { name: string; type: ChartType; definition: ChartDefinition } | null;
  errors: InputError[];
}
/** A durable Saleor backfill (webhooks/backfill-job.ts). */
export type SaleorBackfillModel = BackfillRow;
/** A dashboard's share link (share/store.ts). */
export type ShareLinkModel = ShareLinkRow;
/** The auth subgraph's Account entity reference. */
export interface AccountModel {
  id: string;
}
