/*
 * The bi engine: datasets (what a chart may read), validation of chart inputs, and chart data
 * computed from the tenant's live facts (cached per tenant until the facts change).
 */
export { DATASETS, datasetByName, columnOf, type FactColumn, type FactDataset } from '../datasets.ts';
export { validateChart, validateFilter, validateNativeFilters, defaultLabel, parseTime, LIMITS } from './validate.ts';
export { chartData, STATEMENT_TIMEOUT_MS, type ChartDataContext, type ChartDataOptions } from './chart-data.ts';
export { resolveRange, resolveRelative, RELATIVE_RANGES, TIME_GRAINS } from './time.ts';
export type * from './types.ts';
