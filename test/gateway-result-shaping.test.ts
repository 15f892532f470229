import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../gateway/server.ts';
import { createTestBackends, type TestBackends } from './support/deps.ts';
import { startFakeGateway, startFakeSubgraph, type FakeSubgraph } from './support/gateway-fakes.ts';
import { postJson } from './support/graphql.ts';

/**
 * The gateway's result shaping (Apollo's, patched: patches/README.md) over lists of leaves, as
 * chart rows are (`rows: [[JSON]!]!`): what a subgraph sends comes out unchanged, and what breaks
 * the schema (a null where the type forbids one, a value its scalar or enum refuses) is still
 * reported and nulled exactly where Apollo's walk puts it. Operations are shaped from an analysis
 * kept per parsed document: the same document with other variables shapes by those variables.
 */
const FED2 = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';
const SDL = `${FED2}
scalar JSON
enum Level { LOW HIGH }
type Query {
  table(rows: Int!): Table!
  maybeTable: Table
  levels: [Level!]!
  counts: [[Int]!]
  notes: [Note!]!
  leaves: Leaves
}
type Leaves { strings: [String] ints: [Int] floats: [Float] booleans: [Boolean] ids: [ID] levels: [Level] string: String int: Int id: ID level: Level }
type Table { name: String! rows: [[JSON]!]! }
type Note { id: ID! text: String author: String }
`;

/** Rows of every JSON kind: numbers, strings, booleans, nulls, objects and arrays. */
const rowsOf = (n: number) =>
  Array.from({ length: n }, (_, i) => [`2026-01-${String((i % 28) + 1).padStart(2, '0')}`, i * 1.5, i % 3 === 0 ? null : i % 2 === 0, { k: i, nested: [i, 'x'] }]);

/** Answers the subgraph sends instead of executing, by the root field asked for (to break the schema). */
const broken: Record<string, unknown> = {};

let backends: TestBackends;
let subgraph: FakeSubgraph;
let gateway: Gateway;
let base: string;

const query = async (text: string, variables?: Record<string, unknown>) =>
  (await postJson(`${base}/graphql`, { query: text, variables })).json() as Promise<{ data?: any; errors?: any[]; extensions?: any }>;
/** What result shaping found wrong in a subgraph's answer: Apollo lists it under `extensions.valueCompletion`. */
const completionErrors = (result: { extensions?: any }) => (result.extensions?.valueCompletion as { message: string; path: unknown[] }[] | undefined)?.map((e) => [e.message, e.path]);

beforeAll(async () => {
  backends = await createTestBackends();
  subgraph = await startFakeSubgraph(
    'charts',
    SDL,
    {
      Query: {
        table: (_: unknown, { rows }: { rows: number }) => ({ name: `${rows} rows`, rows: rowsOf(rows) }),
        levels: () => ['LOW', 'HIGH'],
        counts: () => [[1, 2], [null, 3]],
        notes: () => [1, 2, 3].map((i) => ({ id: String(i), text: `note ${i}`, author: `author ${i}` })),
      },
    },
    (body) => {
      const field = Object.keys(broken).find((name) => body.query.includes(name));
      return field ? { status: 200, body: { data: broken[field] } } : undefined;
    },
  );
  ({ gateway, base } = await startFakeGateway(backends, [subgraph]));
});

afterAll(async () => {
  await gateway?.close();
  await subgraph?.close();
  await backends?.close();
});

describe('lists of leaves', () => {
  it('come out as the subgraph sent them, every JSON kind, a large table included', async () => {
    for (const rows of [0, 3, 5000]) {
      const result = await query('query T($rows: Int!) { table(rows: $rows) { name rows } }', { rows });
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({ table: { name: `${rows} rows`, rows: JSON.parse(JSON.stringify(rowsOf(rows))) } });
    }
    expect(await query('{ levels counts }')).toEqual({ data: { levels: ['LOW', 'HIGH'], counts: [[1, 2], [null, 3]] } });
  });

  it('a null where the type forbids one is reported at its path and nulls up to the nearest nullable field', async () => {
    broken.maybeTable = { maybeTable: { name: 'bad', rows: [[1, 'a'], null, [2, 'b']] } };
    try {
      const result = await query('{ maybeTable { name rows } }');
      expect(result.data).toEqual({ maybeTable: null });
      expect(completionErrors(result)).toEqual([['Cannot return null for non-nullable array element of type [JSON] at index 1.', ['maybeTable', 'rows', 1]]]);
    } finally {
      delete broken.maybeTable;
    }
  });

  it('a value its enum or scalar refuses is reported at its path and nulled there, or above where it may not be null', async () => {
    broken.counts = { counts: [[1, '2'], [3, 4.5], [5]] };
    broken.levels = { levels: ['LOW', 'MEDIUM'] };
    try {
      const counts = await query('{ counts }');
      expect(counts.data).toEqual({ counts: [[1, null], [3, null], [5]] });
      expect(completionErrors(counts)).toEqual([
        ['Invalid value found for array element of type Int at index 1.', ['counts', 0, 1]],
        ['Invalid value found for array element of type Int at index 1.', ['counts', 1, 1]],
      ]);
      const levels = await query('{ levels }');
      expect(levels.data).toBeNull();
      expect(completionErrors(levels)).toEqual([['Invalid value found for array element of type Level at index 1.', ['levels', 1]]]);
    } finally {
      delete broken.counts;
      delete broken.levels;
    }
  });
});

describe('leaves of every built-in scalar and of an enum', () => {
  // The patch keeps a leaf as it is only where Apollo's isValidLeafValue accepts it for its type:
  // a value it refuses must still be reported and nulled, in a list and as a field.
  it('keep exactly the values their type accepts; every other JSON value is reported and nulled', async () => {
    const other = [{}, [], 'x'];
    broken.leaves = {
      leaves: {
        strings: ['x', '7', '', 7, 7.5, true, ...other.slice(0, 2)],
        ints: [7, -3, 0, 2147483648, 7.5, 1e21, '7', true, ...other],
        floats: [7, 7.5, -0.25, 1e21, '7.5', false, ...other],
        booleans: [true, false, 'true', 1, 0, ...other],
        ids: ['x', '7', 7, -3, 7.5, 1e21, true, ...other.slice(0, 2)],
        levels: ['LOW', 'HIGH', 'MEDIUM', 'low', 1, true, ...other.slice(0, 2)],
        string: 7,
        int: '7',
        id: 7.5,
        level: 'MEDIUM',
      },
    };
    try {
      const result = await query('{ leaves { strings ints floats booleans ids levels string int id level } }');
      expect(result.data).toEqual({
        leaves: {
          strings: ['x', '7', '', null, null, null, null, null],
          // (Int is checked as Apollo does, by its decimal form: 2^31 passes; it is not the subgraph's limit.)
          ints: [7, -3, 0, 2147483648, null, null, null, null, null, null, null],
          floats: [7, 7.5, -0.25, 1e21, null, null, null, null, null],
          booleans: [true, false, null, null, null, null, null, null],
          ids: ['x', '7', 7, -3, null, null, null, null, null],
          levels: ['LOW', 'HIGH', null, null, null, null, null, null],
          string: null,
          int: null,
          id: null,
          level: null,
        },
      });
      const paths = completionErrors(result)!.map(([, path]) => (path as (string | number)[]).join('.'));
      const nulled = Object.entries(result.data.leaves as Record<string, unknown>).flatMap(([field, value]) =>
        Array.isArray(value) ? value.flatMap((v, i) => (v === null ? [`leaves.${field}.${i}`] : [])) : value === null ? [`leaves.${field}`] : [],
      );
      expect(paths.sort()).toEqual(nulled.sort());
    } finally {
      delete broken.leaves;
    }
  });
});

describe('one document, many requests', () => {
  it('shapes each request by its own variables (@include, @skip) and fragments', async () => {
    const text = `query N($withText: Boolean!, $withoutAuthor: Boolean!) {
      notes { id ...Body author @skip(if: $withoutAuthor) }
    }
    fragment Body on Note { text @include(if: $withText) }`;
    const all = await query(text, { withText: true, withoutAuthor: false });
    expect(all).toEqual({ data: { notes: [1, 2, 3].map((i) => ({ id: String(i), text: `note ${i}`, author: `author ${i}` })) } });
    const idsOnly = await query(text, { withText: false, withoutAuthor: true });
    expect(idsOnly).toEqual({ data: { notes: [{ id: '1' }, { id: '2' }, { id: '3' }] } });
    // Another fragment is another document, shaped by its own fragment: author skipped in the
    // operation but included by the fragment is included.
    const other = await query(text.replace('text @include', 'author @include'), { withText: true, withoutAuthor: true });
    expect(other).toEqual({ data: { notes: [1, 2, 3].map((i) => ({ id: String(i), author: `author ${i}` })) } });
  });
});

describe('what a selection set holds besides fields of the subgraph', () => {
  // (Result shaping reads each selection once per document: patches/README.md.)
  it('__typename (aliased too), introspection beside data, and @skip/@include on leaves and fragments, by each request', async () => {
    const text = `query Q($on: Boolean!) {
      __typename
      kind: __typename
      __type(name: "Note") { name }
      notes {
        __typename
        t: __typename
        id @include(if: $on)
        text @skip(if: $on)
        ... on Note @include(if: $on) { author }
      }
    }`;
    const on = await query(text, { on: true });
    expect(on.errors).toBeUndefined();
    expect(JSON.stringify(on.data)).toBe(
      JSON.stringify({ __typename: 'Query', kind: 'Query', __type: { name: 'Note' }, notes: [1, 2, 3].map((i) => ({ __typename: 'Note', t: 'Note', id: String(i), author: `author ${i}` })) }),
    );
    const off = await query(text, { on: false });
    expect(off.errors).toBeUndefined();
    expect(JSON.stringify(off.data)).toBe(
      JSON.stringify({ __typename: 'Query', kind: 'Query', __type: { name: 'Note' }, notes: [1, 2, 3].map((i) => ({ __typename: 'Note', t: 'Note', text: `note ${i}` })) }),
    );
  });
});

describe('result objects', () => {
  it('are the patched ones (patches/@apollo+gateway+2.14.4.patch is applied)', () => {
    const shaping = createRequire(import.meta.url)('@apollo/gateway/dist/resultShaping.js') as { ResultObject?: new () => object };
    expect(typeof shaping.ResultObject).toBe('function');
    expect(Object.getPrototypeOf(Object.getPrototypeOf(new shaping.ResultObject!()))).toBeNull();
  });

  // Subgraphs (graphql-js) and the gateway (result shaping) build results in objects that
  // inherit nothing (patches/README.md): a response name that is one of Object.prototype's is a
  // field like any other, never a prototype nor an inherited method.
  it("keep aliases named after Object.prototype's members as fields, in order", async () => {
    const result = await query('{ notes { __proto__: text constructor: id toString: author hasOwnProperty: text id } }');
    expect(result.errors).toBeUndefined();
    const expected = [1, 2, 3].map((i) => `{"__proto__":"note ${i}","constructor":"${i}","toString":"author ${i}","hasOwnProperty":"note ${i}","id":"${i}"}`);
    expect(JSON.stringify(result.data)).toBe(`{"notes":[${expected.join(',')}]}`);
  });
});
