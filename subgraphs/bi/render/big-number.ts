import { textOf, type Json } from './format.ts';
import type { SpecInput } from './spec.ts';

/**
 * BIG_NUMBER: the first metric of one row (spec.ts picks the latest time bucket), large and
 * formatted, its label under it, and the bucket it is for when the chart has a time column.
 * A null value (SUM over no rows) reads as "No data".
 */
export function bigNumberSpec({ fields, base, values }: SpecInput): Json {
  const metric = fields.metrics[0];
  const shown = fields.time ? [fields.time, metric] : [metric];
  const rows = values(shown);
  const missing = rows[0]?.[metric.key] === null;
  const layer: Json[] = [
    {
      mark: { type: 'text', fontSize: 44, fontWeight: 'bold', baseline: 'middle', align: 'center', dy: -12 },
      encoding: { text: missing ? { value: 'No data' } : textOf(metric, null) },
    },
    {
      mark: { type: 'text', fontSize: 14, color: '#666666', baseline: 'middle', align: 'center', dy: 26, limit: 300 },
      encoding: { text: { value: metric.label } },
    },
  ];
  if (fields.time) {
    layer.push({
      mark: { type: 'text', fontSize: 12, color: '#888888', baseline: 'middle', align: 'center', dy: 46 },
      encoding: { text: textOf(fields.time, fields.grain) },
    });
  }
  return { ...base, width: 320, height: 140, data: { values: rows }, layer, config: { view: { stroke: null } } };
}
