import { allFields, freshName, type Field } from './fields.ts';
import { continuousTime, discrete, type Json } from './format.ts';
import type { SpecInput } from './spec.ts';

const WIDTH = 640;
const HEIGHT = 320;
/** Points on a line only while they stay apart. */
const MAX_POINTS = 100;

/**
 * LINE, AREA and BAR. The x axis is the time bucket when the chart has one (continuous for lines
 * and areas, one band per bucket for bars), else the first dimension; the next dimension is the
 * color. Several metrics are folded into one value axis with a color legend (bars side by side);
 * a dimension left over then becomes the line's dash, or the stacked parts of a bar or an area.
 */
export function cartesianSpec({ chart, fields, base, values }: SpecInput): Json {
  const type = chart.type;
  const xField: Field | null = fields.time ?? fields.dimensions[0] ?? null;
  const splitField: Field | null = (fields.time ? fields.dimensions[0] : fields.dimensions[1]) ?? null;
  const grainOf = (field: Field) => (field === fields.time ? fields.grain : null);
  // With no dimension at all, the metrics themselves are the categories along x.
  const folded = fields.metrics.length > 1 || !xField;
  const chartFieldList = allFields(fields);
  const key = freshName('metric', chartFieldList);
  const value = freshName('value', chartFieldList);

  const encoding: Json = {};
  if (xField) {
    encoding.x =
      xField.type === 'TIME' && type !== 'BAR'
        ? continuousTime(xField, grainOf(xField))
        : discrete(xField, grainOf(xField), 'axis', { labelOverlap: true, labelLimit: 160 });
  } else {
    encoding.x = { field: key, type: 'nominal', title: null, sort: null, axis: { labelLimit: 160, labelAngle: 0 } };
  }

  if (folded) {
    encoding.y = { field: value, type: 'quantitative', title: valueTitle(fields.metrics), ...(type === 'AREA' ? { stack: null } : {}) };
    encoding.color = { field: key, type: 'nominal', title: 'Metric', sort: null, legend: { labelLimit: 200 } };
    if (type === 'BAR' && xField) encoding.xOffset = { field: key, type: 'nominal', sort: null, title: 'Metric' };
    if (splitField) {
      if (type === 'LINE') encoding.strokeDash = discrete(splitField, grainOf(splitField), 'legend', { labelLimit: 200 });
      else encoding.detail = { field: splitField.ref, type: splitField.type === 'TIME' ? 'ordinal' : 'nominal', title: splitField.label };
    }
  } else {
    const metric = fields.metrics[0];
    // MIN or MAX of a time column is a time: a time axis (UTC, as the engine's values are).
    encoding.y =
      metric.type === 'TIME'
        ? { field: metric.ref, type: 'temporal', title: metric.label, scale: { type: 'utc' }, axis: { format: '%Y-%m-%d' } }
        : { field: metric.ref, type: 'quantitative', title: metric.label };
    if (splitField) encoding.color = discrete(splitField, grainOf(splitField), 'legend', { labelLimit: 200 });
  }

  const rows = values(chartFieldList);
  return {
    ...base,
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    ...(folded ? { transform: [{ fold: fields.metrics.map((metric) => metric.ref), as: [key, value] }] } : {}),
    mark: mark(type, folded, Boolean(splitField), rows.length),
    encoding,
  };
}

function mark(type: string, folded: boolean, split: boolean, rows: number): Json {
  if (type === 'BAR') return split && folded ? { type: 'bar', stroke: 'white', strokeWidth: 0.5 } : { type: 'bar' };
  if (type === 'AREA') return folded ? { type: 'area', line: true, opacity: 0.35 } : { type: 'area', line: true, opacity: 0.8 };
  return { type: 'line', point: rows <= MAX_POINTS };
}

/** One metric's label, or the labels of a few, or a plain "Value" when they would not fit. */
function valueTitle(metrics: Field[]): string {
  const title = metrics.map((metric) => metric.label).join(', ');
  return title.length <= 60 ? title : 'Value';
}
