import { allFields, freshName, type Field } from './fields.ts';
import { discrete, NUMBER_FORMAT, type Json } from './format.ts';
import type { SpecInput } from './spec.ts';

const SIZE = 320;
const RADIUS = 130;
/** Slices carry their value as a label only while there are few enough to keep the labels apart. */
const MAX_LABELLED_SLICES = 12;

/**
 * PIE: one slice per row of the first dimension (or the time bucket), sized by the first metric,
 * named in the legend. Without a dimension, the metrics are the slices.
 */
export function pieSpec({ fields, base, values }: SpecInput): Json {
  const category: Field | null = fields.dimensions[0] ?? fields.time ?? null;
  const chartFieldList = allFields(fields);
  const folded = !category && fields.metrics.length > 1;
  const key = freshName('metric', chartFieldList);
  const value = freshName('value', chartFieldList);
  const metric = fields.metrics[0];
  const shown = category ? [category, metric] : fields.metrics;
  const rows = values(shown);
  const slices = folded ? fields.metrics.length : rows.length;

  const legend = { labelLimit: 240 };
  const encoding: Json = {
    theta: { field: folded ? value : metric.ref, type: 'quantitative', stack: true, title: folded ? 'Value' : metric.label },
    color: folded
      ? { field: key, type: 'nominal', title: 'Metric', sort: null, legend }
      : category
        ? discrete(category, category === fields.time ? fields.grain : null, 'legend', legend)
        : { value: '#4c78a8' },
  };
  const arc = { mark: { type: 'arc', outerRadius: RADIUS, stroke: 'white', strokeWidth: 1 } };
  const label = {
    mark: { type: 'text', radius: RADIUS + 16, fontSize: 11 },
    encoding: {
      text: { field: folded ? value : metric.ref, type: 'quantitative', format: NUMBER_FORMAT, title: folded ? 'Value' : metric.label },
    },
  };
  return {
    ...base,
    width: SIZE,
    height: SIZE,
    data: { values: rows },
    ...(folded ? { transform: [{ fold: fields.metrics.map((m) => m.ref), as: [key, value] }] } : {}),
    encoding,
    layer: slices <= MAX_LABELLED_SLICES ? [arc, label] : [arc],
    config: { view: { stroke: null } },
  };
}
