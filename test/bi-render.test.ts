import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import { parseExpression } from 'vega';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChartDefinition, ChartResult, ChartType, ResultColumn, TimeGrain } from '../subgraphs/bi/engine/types.ts';
import {
  clearRenderCache,
  compileSpec,
  fieldRef,
  RenderError,
  renderSvg,
  ROW_CAPS,
  stopRenderWorker,
  VEGA_LITE_SCHEMA,
  vegaLiteSpec,
} from '../subgraphs/bi/render/index.ts';

// Issue 16, the bi subgraph's charts drawn: every chart type's Vega-Lite spec compiles without a
// warning, its SVG (Vega's headless renderer, on the render worker) is well-formed XML that shows
// the data's labels and values, tenant strings stay text, field names stay flat keys, empty data
// draws "No data", big results are capped and say so, and a slow rendering is cut off.

afterAll(() => stopRenderWorker());

const SCRIPT = '<script>alert(1)</script>';
const BREAKOUT = '"><svg onload=alert(1)>';
const SOURCES = ['web', 'referral', SCRIPT, BREAKOUT];
const MONTHS = Array.from({ length: 12 }, (_, i) => new Date(Date.UTC(2026, i, 1)).toISOString());
const QUARTERS = [0, 3, 6, 9].map((month) => new Date(Date.UTC(2026, month, 1)).toISOString());

const definition = (fields: Partial<ChartDefinition>): ChartDefinition => ({
  dataset: 'leads',
  metrics: [{ aggregate: 'COUNT', column: null, label: 'count' }],
  dimensions: [],
  timeColumn: null,
  timeGrain: null,
  timeRange: null,
  filters: [],
  sort: [],
  rowLimit: 1000,
  ...fields,
});
const result = (columns: ResultColumn[], rows: unknown[][], truncated = false): ChartResult => ({
  columns,
  rows,
  rowCount: rows.length,
  truncated,
  from: null,
  to: null,
  computedAt: new Date(),
});
const CREATED: ResultColumn = { name: 'created_at', label: 'Created', type: 'TIME' };
// Column labels and chart names are tenant text too.
const SOURCE: ResultColumn = { name: 'source', label: `Source ${BREAKOUT}`, type: 'STRING' };
const COUNT: ResultColumn = { name: 'count', label: 'Leads', type: 'NUMBER' };
const NAME = `Leads ${SCRIPT}`;

interface Case {
  type: ChartType;
  definition: ChartDefinition;
  data: ChartResult;
  /** Texts the SVG shows (a label cut with an ellipsis counts when it starts the same). */
  shows: string[];
}

const CASES: Case[] = [
  {
    type: 'BIG_NUMBER',
    definition: definition({ timeColumn: 'created_at', timeGrain: 'MONTH' }),
    // The latest bucket is shown whatever the row order.
    data: result([CREATED, COUNT], MONTHS.map((month, i) => [month, 1000 * i + 0.5]).reverse()),
    shows: ['11,000.5', 'Leads', 'Dec 2026', NAME],
  },
  {
    type: 'LINE',
    definition: definition({ timeColumn: 'created_at', timeGrain: 'MONTH', dimensions: ['source'] }),
    data: result([CREATED, SOURCE, COUNT], MONTHS.flatMap((month, i) => SOURCES.map((source, j) => [month, source, i * (j + 1)]))),
    shows: ['Jan 2026', 'Created (month)', 'Leads', SOURCE.label, ...SOURCES, NAME],
  },
  {
    type: 'AREA',
    definition: definition({ timeColumn: 'created_at', timeGrain: 'QUARTER', dimensions: ['source'] }),
    data: result([CREATED, SOURCE, COUNT], QUARTERS.flatMap((quarter, i) => SOURCES.map((source, j) => [quarter, source, i + j + 1]))),
    shows: ['Q1 2026', 'Q4 2026', 'Created (quarter)', 'Leads', ...SOURCES],
  },
  {
    type: 'BAR',
    definition: definition({ dimensions: ['source'] }),
    data: result([SOURCE, COUNT], SOURCES.map((source, j) => [source, j * 10 + 3])),
    shows: ['Leads', SOURCE.label, ...SOURCES, '30'],
  },
  {
    type: 'PIE',
    definition: definition({ dimensions: ['source'] }),
    data: result([SOURCE, COUNT], SOURCES.map((source, j) => [source, j * 10 + 3])),
    shows: [...SOURCES, '3', '13', '23', '33', SOURCE.label],
  },
  {
    type: 'TABLE',
    definition: definition({
      timeColumn: 'created_at',
      timeGrain: 'DAY',
      dimensions: ['source'],
      metrics: [{ aggregate: 'SUM', column: 'value', label: 'sum_value' }],
    }),
    data: result(
      [CREATED, SOURCE, { name: 'sum_value', label: 'Value', type: 'NUMBER' }],
      [
        ...SOURCES.map((source, j) => [new Date(Date.UTC(2026, 2, 1 + j)).toISOString(), source, 1234.567 * (j + 1)]),
        [new Date(Date.UTC(2026, 2, 5)).toISOString(), null, null],
      ],
    ),
    // An empty cell is a dash.
    shows: ['Created', SOURCE.label, 'Value', 'Mar 1, 2026', 'Mar 5, 2026', ...SOURCES, '1,234.57', '4,938.27', '–'],
  },
];

function parseSvg(svg: string): Document {
  const parser = new DOMParser({
    onError: (level: string, message: string) => {
      throw new Error(`SVG is not well-formed XML (${level}): ${message}`);
    },
  });
  return parser.parseFromString(svg, 'image/svg+xml');
}
function elementsOf(document: Document): Element[] {
  return Array.from(document.getElementsByTagName('*'));
}
function textsOf(document: Document): string[] {
  return Array.from(document.getElementsByTagName('text')).map((text) => text.textContent ?? '');
}
/** Whether a text shows `value`, whole or cut by Vega's label limit (`…`). */
function shown(texts: string[], value: string): boolean {
  return texts.some((text) => text === value || text.includes(value) || (text.endsWith('…') && text.length > 4 && value.startsWith(text.slice(0, -1))));
}

/** The functions called by the expressions (`expr`, `signal`, `update`, `test`) of a Vega spec. */
function expressionCalls(spec: unknown): string[] {
  const calls: string[] = [];
  const visitAst = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(visitAst);
    const record = node as Record<string, any>;
    if (record.type === 'CallExpression') calls.push(record.callee?.name ?? '(computed)');
    for (const value of Object.values(record)) visitAst(value);
  };
  const visit = (value: unknown, key?: string) => {
    if (typeof value === 'string' && key && ['expr', 'signal', 'update', 'test'].includes(key)) visitAst(parseExpression(value));
    else if (Array.isArray(value)) value.forEach((item) => visit(item));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) visit(v, k);
  };
  visit(spec);
  return calls;
}

/** The SVG holds tenant strings as text and attribute values only: no element or handler came from them. */
function expectInert(svg: string, document: Document) {
  expect(svg).not.toMatch(/<script/i);
  expect(svg).not.toMatch(/<svg onload/i);
  const elements = elementsOf(document);
  expect(elements.filter((element) => element.localName === 'svg')).toHaveLength(1);
  expect(elements.filter((element) => element.localName === 'script' || element.localName === 'foreignObject')).toEqual([]);
  const handlers = elements.flatMap((element) => Array.from(element.attributes).filter((attribute) => /^on/i.test(attribute.name)));
  expect(handlers.map((attribute) => attribute.name)).toEqual([]);
}

describe('vegaLiteSpec', () => {
  it('is a Vega-Lite v6 spec with the rows inlined as objects keyed by column name, for every chart type', async () => {
    for (const { type, definition, data } of CASES) {
      const spec = vegaLiteSpec({ name: NAME, type, definition }, data) as any;
      expect(spec.$schema, type).toBe(VEGA_LITE_SCHEMA);
      expect(spec.title.text, type).toBe(NAME);
      const names = data.columns.map((column) => column.name);
      const rows = type === 'BIG_NUMBER' ? [data.rows[0]] : data.rows;
      expect(spec.data.values, type).toEqual(rows.map((row) => Object.fromEntries(names.map((name, i) => [name, row[i]]))));
      const { warnings } = await compileSpec(spec);
      expect(warnings, type).toEqual([]);
    }
  });

  it('folds several metrics into one value axis with a color legend', async () => {
    const spec = vegaLiteSpec(
      {
        name: 'Leads and value',
        type: 'LINE',
        definition: definition({
          timeColumn: 'created_at',
          timeGrain: 'MONTH',
          metrics: [
            { aggregate: 'COUNT', column: null, label: 'count' },
            { aggregate: 'SUM', column: 'value', label: 'sum_value' },
          ],
        }),
      },
      result([CREATED, COUNT, { name: 'sum_value', label: 'Value', type: 'NUMBER' }], MONTHS.map((month, i) => [month, i, 100 - i])),
    ) as any;
    expect(spec.transform).toEqual([{ fold: ['count', 'sum_value'], as: ['metric', 'value'] }]);
    expect(spec.encoding.y).toMatchObject({ field: 'value', type: 'quantitative', title: 'Leads, Value' });
    expect(spec.encoding.color).toMatchObject({ field: 'metric', title: 'Metric' });
    expect(spec.encoding.x).toMatchObject({ field: 'created_at', type: 'temporal', timeUnit: 'utcyearmonth' });
    expect((await compileSpec(spec)).warnings).toEqual([]);
  });

  it('escapes the characters Vega-Lite reads as paths, quotes and escapes in field names', () => {
    expect(fieldRef('plain_name')).toBe('plain_name');
    expect(fieldRef('sum.amount[0]')).toBe('sum\\.amount\\[0\\]');
    expect(fieldRef(`it's "x" \\ y`)).toBe(`it\\'s \\"x\\" \\\\ y`);
  });
});

describe('renderSvg', () => {
  it('draws every chart type as well-formed SVG showing its labels and values, tenant strings escaped', async () => {
    for (const { type, definition, data, shows } of CASES) {
      const svg = await renderSvg({ name: NAME, type, definition }, data);
      const document = parseSvg(svg);
      expect(document.documentElement!.localName, type).toBe('svg');
      const texts = textsOf(document);
      for (const value of shows) expect(shown(texts, value), `${type} shows ${JSON.stringify(value)} in ${JSON.stringify(texts)}`).toBe(true);
      expectInert(svg, document);
      // The hostile strings did reach the SVG, whole, as text or attribute values (escaped by Vega).
      const carried = [...texts, ...elementsOf(document).flatMap((element) => Array.from(element.attributes).map((attribute) => attribute.value))];
      expect(carried.some((value) => value.includes(SCRIPT)), type).toBe(true);
      if (type !== 'BIG_NUMBER') expect(carried.some((value) => value.includes(BREAKOUT)), type).toBe(true);
    }
  });

  it('renders charts asked for at once, each its own', async () => {
    const charts = CASES.map(({ type, definition, data }) => ({ chart: { name: `At once ${type}`, type, definition }, data }));
    const svgs = await Promise.all([...charts, charts[0]].map(({ chart, data }) => renderSvg(chart, data)));
    svgs.forEach((svg, i) => expect(textsOf(parseSvg(svg))).toContain(`At once ${CASES[i % CASES.length].type}`));
  });

  it('labels time buckets by their grain, in UTC whatever the server\'s time zone', async () => {
    const cases: [TimeGrain, string, string][] = [
      ['DAY', '2026-03-02T00:00:00.000Z', 'Mar 2, 2026'],
      ['WEEK', '2026-03-02T00:00:00.000Z', 'Mar 2, 2026'],
      ['MONTH', '2026-03-01T00:00:00.000Z', 'Mar 2026'],
      ['QUARTER', '2026-01-01T00:00:00.000Z', 'Q1 2026'],
      ['YEAR', '2026-01-01T00:00:00.000Z', '2026'],
    ];
    // A zone where midnight UTC is still the day before, for a render worker started in it.
    const zone = process.env.TZ;
    await stopRenderWorker();
    process.env.TZ = 'America/Los_Angeles';
    try {
      expect(new Date('2026-03-01T00:00:00.000Z').getDate()).toBe(28);
      for (const [grain, bucket, label] of cases) {
        const chart = { name: grain, type: 'BAR' as const, definition: definition({ timeColumn: 'created_at', timeGrain: grain }) };
        const texts = textsOf(parseSvg(await renderSvg(chart, result([CREATED, COUNT], [[bucket, 4]]))));
        expect(texts, grain).toContain(label);
        expect(texts, grain).toContain(`Created (${grain === 'WEEK' ? 'week of' : grain.toLowerCase()})`);
      }
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
      await stopRenderWorker();
    }
  });

  it('reads metrics named with dots, brackets, quotes, backslashes, line breaks or markup as flat columns', async () => {
    // The last two aim at Vega expressions: a field path out of `datum[...]`, and a title out of the
    // string literal Vega-Lite writes it into (marks' ARIA descriptions).
    const labels = ['sum.amount[0]', `it's "quoted" \\ too\\`, BREAKOUT, 'two\nlines', 'a"]+alert(1)+datum["b', `a\\" + alert(1) + '`];
    const metrics = labels.map((label) => ({ aggregate: 'SUM' as const, column: 'amount', label }));
    const columns: ResultColumn[] = [SOURCE, ...labels.map((label) => ({ name: label, label, type: 'NUMBER' as const }))];
    const rows = [
      ['web', 410, 420, 430, 440, 450, 460],
      ['ads', 810, 820, 830, 840, 850, 860],
    ];
    for (const type of ['BIG_NUMBER', 'LINE', 'AREA', 'BAR', 'PIE', 'TABLE'] as ChartType[]) {
      // One metric at a time (the plain case) and all of them (folded); a big number shows one, a table all.
      const all = labels.map((_, i) => i);
      const sets = type === 'BIG_NUMBER' ? all.map((i) => [i]) : type === 'TABLE' ? [all] : [[0], [1], [4], [5], all];
      for (const set of sets) {
        const chart = { name: `${type} ${set.join(',')}`, type, definition: definition({ dimensions: ['source'], metrics: set.map((i) => metrics[i]) }) };
        const data = result([SOURCE, ...set.map((i) => columns[i + 1])], rows.map((row) => [row[0], ...set.map((i) => row[i + 1])]));
        const spec = vegaLiteSpec(chart, data) as any;
        const compiled = await compileSpec(spec);
        expect(compiled.warnings, chart.name).toEqual([]);
        // Every expression in the Vega spec parses, and none calls the `alert(1)` a label holds: no name became code.
        expect(expressionCalls(compiled.spec), chart.name).not.toContain('alert');
        const svg = await renderSvg(chart, data);
        const document = parseSvg(svg);
        expectInert(svg, document);
        const texts = textsOf(document);
        // The values were read (an axis reaching them, a slice label, a cell, the big number).
        // (A pie slices by its first metric.)
        const expected =
          type === 'BIG_NUMBER' ? [String(rows[0][set[0] + 1])]
          : type === 'PIE' ? [String(rows[1][set[0] + 1])]
          : type === 'TABLE' ? set.map((i) => String(rows[1][i + 1]))
          : ['800'];
        for (const value of expected) expect(shown(texts, value), `${chart.name}: ${value} in ${JSON.stringify(texts)}`).toBe(true);
        // Several metrics fold into a legend that names them as written (a backslash as its look-alike, see dataKey).
        if (set.length > 1 && type !== 'TABLE' && type !== 'PIE') {
          for (const label of labels) expect(shown(texts, label.replaceAll('\\', '\u29f5')), `${chart.name}: ${label} in ${JSON.stringify(texts)}`).toBe(true);
        }
      }
    }
  });

  it('draws a metric named __proto__ without failing (Vega refuses to read that property, so no value)', async () => {
    for (const type of ['BIG_NUMBER', 'BAR', 'TABLE'] as ChartType[]) {
      const chart = { name: type, type, definition: definition({ dimensions: ['source'], metrics: [{ aggregate: 'SUM', column: 'amount', label: '__proto__' }] }) };
      const data = result([SOURCE, { name: '__proto__', label: 'Amount', type: 'NUMBER' }], [['web', 5]]);
      const spec = vegaLiteSpec(chart, data) as any;
      expect(Object.getOwnPropertyNames(spec.data.values[0]), type).toContain('__proto__');
      const svg = await renderSvg(chart, data);
      expectInert(svg, parseSvg(svg));
    }
  });

  it('draws "No data" for an empty result, and for a big number whose value is null', async () => {
    for (const { type, definition, data } of CASES) {
      const empty = { ...data, rows: [], rowCount: 0 };
      const spec = vegaLiteSpec({ name: NAME, type, definition }, empty) as any;
      expect(spec.data.values, type).toEqual([]);
      expect(spec.usermeta.noData, type).toBe(true);
      expect((await compileSpec(spec)).warnings, type).toEqual([]);
      const svg = await renderSvg({ name: NAME, type, definition }, empty);
      const texts = textsOf(parseSvg(svg));
      expect(texts, type).toContain('No data');
      expect(texts, type).toContain(NAME);
    }
    const svg = await renderSvg({ name: 'Revenue', type: 'BIG_NUMBER', definition: definition({}) }, result([COUNT], [[null]]));
    expect(textsOf(parseSvg(svg))).toContain('No data');
  });

  it('draws at most its type\'s row cap and says so, and says when the row limit cut the result', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => [`source ${i}`, i]);
    const chart = { name: 'Many', type: 'BAR' as const, definition: definition({ dimensions: ['source'] }) };
    const data = result([SOURCE, COUNT], rows, true);
    const spec = vegaLiteSpec(chart, data) as any;
    expect(spec.data.values).toHaveLength(ROW_CAPS.BAR);
    expect(spec.usermeta).toEqual({ rowsShown: ROW_CAPS.BAR, rowCount: 1000, truncated: true });
    const texts = textsOf(parseSvg(await renderSvg(chart, data)));
    expect(texts.join('\n')).toContain(`Showing the first ${ROW_CAPS.BAR} of 1,000 rows. More rows matched than the row limit (1,000)`);
    const table = textsOf(parseSvg(await renderSvg({ ...chart, type: 'TABLE' }, data)));
    expect(table).toContain(`source ${ROW_CAPS.TABLE - 1}`);
    expect(table).not.toContain(`source ${ROW_CAPS.TABLE}`);
  });

  it('cuts off a rendering that takes longer than its timeout, and renders again afterwards', async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => [new Date(Date.UTC(2024, 0, 1 + Math.floor(i / 4))).toISOString(), `s${i % 4}`, i]);
    const chart = { name: 'Slow', type: 'AREA' as const, definition: definition({ timeColumn: 'created_at', timeGrain: 'DAY', dimensions: ['source'] }) };
    const data = result([CREATED, SOURCE, COUNT], rows);
    await expect(renderSvg(chart, data, { timeoutMs: 1 })).rejects.toThrow(RenderError);
    await expect(renderSvg(chart, data, { timeoutMs: 1 })).rejects.toThrow(/took over 1 ms/);
    const svg = await renderSvg({ ...chart, name: 'After' }, { ...data, rows: rows.slice(0, 8) });
    expect(textsOf(parseSvg(svg))).toContain('After');
  });

  it('serves a chart rendered before from its cache, and renders it again when its data change', async () => {
    const chart = { name: 'Cached', type: 'BAR' as const, definition: definition({ dimensions: ['source'] }) };
    const data = result([SOURCE, COUNT], [['web', 1], ['ads', 2]]);
    const svg = await renderSvg(chart, data);
    // A rendering cannot finish within 1 ms (see the timeout above): this one comes from the cache.
    expect(await renderSvg(chart, { ...data, computedAt: new Date(0) }, { timeoutMs: 1 })).toBe(svg);
    const changed = await renderSvg(chart, result([SOURCE, COUNT], [['web', 1], ['ads', 7]]));
    expect(changed).not.toBe(svg);
    expect(textsOf(parseSvg(changed))).toContain('7');
  });

  it('reports the rendering time of each chart type for 10 and 1000 rows (printed, not asserted)', async () => {
    const chartOf = (type: ChartType, count: number) => {
      const rows = Array.from({ length: count }, (_, i) => [new Date(Date.UTC(2024, 0, 1 + Math.floor(i / 4))).toISOString(), `source ${i % 4}`, i % 97]);
      const timed = type === 'LINE' || type === 'AREA' || type === 'BIG_NUMBER';
      const chart = {
        name: `${type} ${count}`,
        type,
        definition: definition(timed ? { timeColumn: 'created_at', timeGrain: 'DAY', dimensions: ['source'] } : { dimensions: ['source'] }),
      };
      const data = timed ? result([CREATED, SOURCE, COUNT], rows) : result([SOURCE, COUNT], rows.map((row, i) => [`page ${i}`, row[2]]));
      return { chart, data };
    };
    const time = async (type: ChartType, count: number) => {
      const { chart, data } = chartOf(type, count);
      clearRenderCache();
      const started = performance.now();
      const svg = await renderSvg(chart, data);
      return { ms: performance.now() - started, svg, drawn: (vegaLiteSpec(chart, data) as any).usermeta.rowsShown as number };
    };
    await stopRenderWorker();
    const cold = await time('BAR', 10);
    const report = [`first rendering (starts the worker, loads vega): ${cold.ms.toFixed(0)} ms`];
    for (const type of ['BIG_NUMBER', 'LINE', 'AREA', 'BAR', 'PIE', 'TABLE'] as ChartType[]) {
      for (const count of [10, 1000]) {
        const runs = [await time(type, count), await time(type, count), await time(type, count)];
        for (const { svg } of runs) expect(parseSvg(svg).documentElement!.localName).toBe('svg');
        const [, median] = runs.map((run) => run.ms).sort((a, b) => a - b);
        const { drawn, svg } = runs[0];
        report.push(`${type.padEnd(10)} ${String(count).padStart(4)} rows (${String(drawn).padStart(4)} drawn): ${median.toFixed(0).padStart(4)} ms, ${Math.round(svg.length / 1024)} KiB`);
      }
    }
    console.log(`bi-render timings (median of 3, warm worker):\n${report.join('\n')}`);
  });
});
