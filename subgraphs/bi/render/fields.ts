import type { ChartDefinition, ChartResult, ColumnType, TimeGrain } from '../engine/types.ts';

/**
 * The fields a chart plots, taken from its definition (never from the result's column list, so a
 * result cannot bring a field the definition did not ask for), with the result's labels and types.
 */
export interface Field {
  /** The column's name in the result. */
  name: string;
  /** The key of the inlined data objects: the column's name (see dataKey). */
  key: string;
  /** `key` as a Vega-Lite field reference (see fieldRef). */
  ref: string;
  /** For titles, axes and legends. */
  label: string;
  type: ColumnType;
}

export interface ChartFields {
  /** The time column bucketed by `grain`, when the definition has one. */
  time: Field | null;
  grain: TimeGrain | null;
  /** The other dimensions, in definition order. */
  dimensions: Field[];
  metrics: Field[];
}

/**
 * A column name as a Vega-Lite field reference. Vega-Lite reads `.` and `[...]` in a field as a
 * path into nested objects, a leading quote as a quoted path, and `\` as an escape: escaping all of
 * them makes the whole name one flat key. Vega-Lite then writes fields into Vega expressions as
 * JSON string literals (`datum["..."]`), so a name (metric labels are the caller's text) can
 * neither reach another property nor become code.
 */
export function fieldRef(name: string): string {
  return name.replace(/[\\.[\]'"]/g, '\\$&');
}

/**
 * A column's key in the inlined data: its name, except that a backslash is replaced by the
 * look-alike U+29F5. Vega-Lite re-escapes field names for scale domains without escaping
 * backslashes, so a name holding one would be read as another (and plot nothing). Chart
 * definitions never hold one (the engine allows letters, digits, spaces, `_` and `-` in labels);
 * this keeps a name that did from breaking the chart.
 */
export function dataKey(name: string): string {
  return name.replace(/\\/g, '\u29f5');
}

/**
 * A label as a title. Vega-Lite writes encoding titles into the marks' ARIA description, a Vega
 * expression, as string literals with only `"` escaped: a backslash in a title could end the
 * literal and the rest would be read as expression code. So titles hold no backslash (shown as
 * the look-alike U+29F5) and no line break or control character (a string literal cannot hold
 * one); every encoding of ours has an explicit title, so Vega-Lite never makes one of a field name.
 */
export function titleText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\\/g, '\u29f5').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
}

/** Picks the chart's fields out of its definition; labels and types come from the result when it has the column. */
export function chartFields(definition: ChartDefinition, data: ChartResult): ChartFields {
  const columns = new Map(data.columns.map((column) => [column.name, column]));
  const field = (name: string, fallbackType: ColumnType): Field => {
    const column = columns.get(name);
    const key = dataKey(name);
    return { name, key, ref: fieldRef(key), label: titleText(column?.label || name), type: column?.type ?? fallbackType };
  };
  const grain = definition.timeColumn ? definition.timeGrain : null;
  const time = grain && definition.timeColumn ? field(definition.timeColumn, 'TIME') : null;
  const dimensions = unique(definition.dimensions)
    .filter((name) => name !== time?.name)
    .map((name) => field(name, 'STRING'));
  const metrics = unique(definition.metrics.map((metric) => metric.label))
    .filter((name) => name !== time?.name && !definition.dimensions.includes(name))
    .map((name) => field(name, 'NUMBER'));
  return { time, grain, dimensions, metrics };
}

/** Every field of the chart, time first, then dimensions, then metrics (a table's column order). */
export function allFields(fields: ChartFields): Field[] {
  return [...(fields.time ? [fields.time] : []), ...fields.dimensions, ...fields.metrics];
}

/** A name for a field the spec derives (fold, row number) that no chart field has. */
export function freshName(base: string, fields: readonly Field[]): string {
  const taken = new Set(fields.map((field) => field.key));
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
  return name;
}

/**
 * The rows as objects keyed by column name (Field.key), holding only the given fields. Own properties even for
 * a name like `__proto__`, which a plain assignment would take as the object's prototype.
 */
export function dataValues(fields: readonly Field[], data: ChartResult, rows: readonly unknown[][]): Record<string, unknown>[] {
  const index = new Map(data.columns.map((column, i) => [column.name, i]));
  const positions = fields.map((field) => index.get(field.name));
  return rows.map((row) => {
    const value: Record<string, unknown> = {};
    fields.forEach((field, i) => {
      const at = positions[i];
      Object.defineProperty(value, field.key, {
        value: at === undefined ? null : cell(row[at], field.type),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    });
    return value;
  });
}

/**
 * Cells are JSON scalars. A NUMBER that arrives as text (PostgreSQL's numeric) becomes a number so
 * the scales see it; anything else that is not a scalar is shown as its JSON text, never walked.
 */
function cell(value: unknown, type: ColumnType): unknown {
  if (value === null || value === undefined) return null;
  if (type === 'NUMBER' && (typeof value === 'string' || typeof value === 'bigint')) {
    const number = Number(value);
    return Number.isFinite(number) ? number : null;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  return JSON.stringify(value) ?? null;
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}
