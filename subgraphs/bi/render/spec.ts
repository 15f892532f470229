import type { ChartDefinition, ChartResult, ChartType } from '../engine/types.ts';
import { bigNumberSpec } from './big-number.ts';
import { cartesianSpec } from './cartesian.ts';
import { chartFields, dataValues, type ChartFields, type Field } from './fields.ts';
import type { Json } from './format.ts';
import { pieSpec } from './pie.ts';
import { tableSpec } from './table.ts';

export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export interface RenderableChart {
  name: string;
  type: ChartType;
  definition: ChartDefinition;
}

/**
 * The most rows a chart of each type inlines and draws. They bound the spec's size and the SVG's
 * rendering time (see the report in test/bi-render.test.ts); past them a chart says how many rows
 * it shows. A pie or a table of more rows is unreadable anyway; the full rows are in `Chart.data`.
 */
export const ROW_CAPS: Readonly<Record<ChartType, number>> = Object.freeze({
  BIG_NUMBER: 1,
  LINE: 2000,
  AREA: 2000,
  BAR: 500,
  PIE: 50,
  TABLE: 100,
});

/** What a type's builder gets: the fields, the rows it may show, and the common top-level properties. */
export interface SpecInput {
  chart: RenderableChart;
  fields: ChartFields;
  data: ChartResult;
  rows: unknown[][];
  values: (fields: readonly Field[]) => Record<string, unknown>[];
  base: Json;
}

/** The chart as a Vega-Lite v6 specification with its rows inlined (`data.values`). */
export function vegaLiteSpec(chart: RenderableChart, data: ChartResult): Json {
  const fields = chartFields(chart.definition, data);
  const rows = chart.type === 'BIG_NUMBER' ? bigNumberRows(fields, data) : data.rows.slice(0, ROW_CAPS[chart.type]);
  const notes: string[] = [];
  if (chart.type !== 'BIG_NUMBER' && rows.length < data.rows.length) {
    notes.push(`Showing the first ${count(rows.length)} of ${count(data.rows.length)} rows`);
  }
  if (data.truncated) notes.push(`More rows matched than the row limit (${count(chart.definition.rowLimit)})`);
  const base: Json = {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: chart.name, ...(notes.length ? { subtitle: notes.join('. ') } : {}), anchor: 'start' },
    background: 'white',
    padding: 12,
    usermeta: { rowsShown: rows.length, rowCount: data.rows.length, truncated: data.truncated },
  };
  if (rows.length === 0 || (fields.metrics.length === 0 && chart.type !== 'TABLE')) return noDataSpec(base);
  const input: SpecInput = { chart, fields, data, rows, values: (shown) => dataValues(shown, data, rows), base };
  switch (chart.type) {
    case 'BIG_NUMBER':
      return bigNumberSpec(input);
    case 'PIE':
      return pieSpec(input);
    case 'TABLE':
      return tableSpec(input);
    case 'LINE':
    case 'AREA':
    case 'BAR':
      return cartesianSpec(input);
  }
}

/**
 * An empty result draws a "No data" panel rather than failing or drawing empty axes. The chart's
 * data stays empty (`data.values: []`); the message is a layer with a datum of its own.
 */
function noDataSpec(base: Json): Json {
  return {
    ...base,
    width: 320,
    height: 120,
    data: { values: [] },
    usermeta: { ...(base.usermeta as Json), noData: true },
    layer: [
      {
        data: { values: [{}] },
        mark: { type: 'text', text: 'No data', fontSize: 16, color: '#888888', baseline: 'middle', align: 'center' },
      },
    ],
    config: { view: { stroke: null } },
  };
}

/**
 * A big number shows one row: the latest time bucket when the chart has a time column (the current
 * value of a trend), else the first row (the engine's order).
 */
function bigNumberRows(fields: ChartFields, data: ChartResult): unknown[][] {
  if (data.rows.length <= 1 || !fields.time) return data.rows.slice(0, 1);
  const at = data.columns.findIndex((column) => column.name === fields.time!.name);
  if (at < 0) return data.rows.slice(0, 1);
  let latest = data.rows[0];
  for (const row of data.rows) if (timeOf(row[at]) > timeOf(latest[at])) latest = row;
  return [latest];
}

const timeOf = (value: unknown) => {
  const time = typeof value === 'string' || value instanceof Date ? new Date(value).getTime() : NaN;
  return Number.isNaN(time) ? -Infinity : time;
};

const count = (n: number) => n.toLocaleString('en-US');
