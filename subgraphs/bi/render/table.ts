import { allFields, freshName, type Field } from './fields.ts';
import { textOf, type Json } from './format.ts';
import type { SpecInput } from './spec.ts';

const ROW_HEIGHT = 20;
// Vega measures text without a canvas by estimate, 0.8 × font size a character: a column must fit that.
const CHAR_WIDTH = 10;
const MIN_COLUMN = 48;
const MAX_COLUMN = 280;
/** The longest formatted time bucket (`Sep 30, 2026`, `2026-09-30 12:00`). */
const TIME_CHARS = 16;

/**
 * TABLE. Vega-Lite has no table mark; the usual way, used here, is one text column per field side
 * by side (hconcat), each a view whose rows are the row number (a window transform) on a band
 * scale, titled by the column's label. Numbers are right-aligned and formatted; long text is cut
 * with an ellipsis at the column's width; a null is a dash. Every cell is a text mark, so the SVG holds the values.
 */
export function tableSpec({ fields, base, values }: SpecInput): Json {
  const columns = allFields(fields);
  const rows = values(columns);
  const row = freshName('row', columns);
  return {
    ...base,
    data: { values: rows },
    transform: [{ window: [{ op: 'row_number', as: row }] }],
    hconcat: columns.map((field) =>
      column(field, field === fields.time ? fields.grain : null, row, width(field, rows.map((cells) => cells[field.key]))),
    ),
    spacing: 16,
    config: { view: { stroke: null }, title: { anchor: 'start' } },
  };
}

function column(field: Field, grain: SpecInput['fields']['grain'], row: string, columnWidth: number): Json {
  const right = field.type === 'NUMBER';
  return {
    width: columnWidth,
    height: { step: ROW_HEIGHT },
    title: { text: field.label, anchor: right ? 'end' : 'start', fontSize: 12, fontWeight: 'bold', limit: columnWidth },
    mark: { type: 'text', align: right ? 'right' : 'left', baseline: 'middle', x: right ? 'width' : 0, limit: columnWidth, fontSize: 12 },
    encoding: {
      y: { field: row, type: 'ordinal', axis: null },
      text: { condition: { test: present(field), ...textOf(field, grain) }, value: '–' },
    },
  };
}

/**
 * Whether a cell has a value: an empty one (null) reads as a dash, not as "null" or a formatted 0.
 * `valid` also tests that the value is a number, so it only suits numbers.
 */
function present(field: Field): Json {
  return field.type === 'NUMBER' ? { field: field.ref, valid: true } : { not: { field: field.ref, oneOf: [null] } };
}

/** Wide enough for the label and the longest value shown, within bounds (the text is cut past them). */
function width(field: Field, cells: unknown[]): number {
  let longest = field.label.length;
  for (const cell of cells) {
    const length =
      field.type === 'TIME' ? TIME_CHARS : typeof cell === 'number' ? cell.toLocaleString('en-US').length : String(cell ?? '').length;
    if (length > longest) longest = length;
  }
  return Math.max(MIN_COLUMN, Math.min(MAX_COLUMN, longest * CHAR_WIDTH + 8));
}
