import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../gateway/server.ts';
import { createTestBackends, type TestBackends } from './support/deps.ts';
import { startFakeGateway, startFakeSubgraph, type FakeSubgraph } from './support/gateway-fakes.ts';
import { postJson } from './support/graphql.ts';

/**
 * Pass-through (gateway/passthrough.ts, GATEWAY_PASSTHROUGH_SUBGRAPHS): a query that one fetch of
 * a trusted subgraph answers exactly as asked gets that fetch's data as the response, not shaped
 * again. The answer must be byte for byte the one shaping gives (a second gateway with the
 * setting empty), and everything else must still be shaped: a fragment that repeats a field,
 * directives, a literal the planner rewrites, a second subgraph, an enum value the supergraph
 * hides, an untrusted subgraph, an error, introspection, a mutation.
 */
const FED2 = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@inaccessible"])';
const CRM_SDL = `${FED2}
enum Stage { OPEN WON }
enum Level { LOW HIGH SECRET @inaccessible }
type Query {
  deals(first: Int!): [Deal!]!
  deal(id: ID!): Deal
  levels: [Level!]!
  boom: String
}
type Mutation { touch: Int }
type Deal @key(fields: "id") { id: ID! title: String amount: Float stage: Stage! tags: [String!]! notes: String owner: Account }
type Account @key(fields: "id", resolvable: false) { id: ID! }
`;
const AUTH_SDL = `${FED2}
type Query { me: Account }
type Account @key(fields: "id") { id: ID! email: String! }
`;
const SALEOR_SDL = `${FED2}
type Query { products: [String!]! }
`;

const deals = [1, 2, 3].map((i) => ({
  id: `d${i}`,
  title: `Deal ${i}`,
  amount: i * 1.5,
  stage: i % 2 ? 'OPEN' : 'WON',
  tags: i === 2 ? [] : ['a', `t${i}`],
  notes: i === 3 ? `line\n"${i}"` : null,
  owner: { id: `acc-${i}` },
}));

let backends: TestBackends;
let subgraphs: FakeSubgraph[];
let passing: { gateway: Gateway; base: string };
let shaping: { gateway: Gateway; base: string };

/** The raw response text (what the client gets), and the counter of operations passed through. */
const ask = async (base: string, query: string, variables?: Record<string, unknown>) => (await postJson(`${base}/graphql`, { query, variables })).text();
const passedThrough = async (base: string, subgraph: string) => {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`gateway_operations_passed_through_total{subgraph="${subgraph}"} `));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

/** Asks both gateways; the answers must be the same text. Returns it, and how many were passed through. */
async function both(query: string, variables?: Record<string, unknown>, subgraph = 'crm') {
  const before = await passedThrough(passing.base, subgraph);
  const text = await ask(passing.base, query, variables);
  const passed = (await passedThrough(passing.base, subgraph)) - before;
  expect(text).toBe(await ask(shaping.base, query, variables));
  expect(await passedThrough(shaping.base, subgraph)).toBe(0);
  return { body: JSON.parse(text) as { data?: any; errors?: any[]; extensions?: any }, passed };
}

beforeAll(async () => {
  backends = await createTestBackends();
  subgraphs = [
    await startFakeSubgraph('crm', CRM_SDL, {
      Query: {
        deals: (_: unknown, { first }: { first: number }) => deals.slice(0, first),
        deal: (_: unknown, { id }: { id: string }) => deals.find((d) => d.id === id) ?? null,
        levels: () => ['LOW', 'SECRET'],
        boom: () => {
          throw new Error('boom');
        },
      },
      Mutation: { touch: () => 1 },
    }),
    await startFakeSubgraph('auth', AUTH_SDL, {
      Account: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, email: `${ref.id}@example.com` }) },
    }),
    await startFakeSubgraph('saleor', SALEOR_SDL, { Query: { products: () => ['p1', 'p2'] } }),
  ];
  passing = await startFakeGateway(backends, subgraphs);
  shaping = await startFakeGateway(backends, subgraphs, { config: { GATEWAY_PASSTHROUGH_SUBGRAPHS: [] } });
});

afterAll(async () => {
  await passing?.gateway.close();
  await shaping?.gateway.close();
  for (const subgraph of subgraphs ?? []) await subgraph.close();
  await backends?.close();
});

describe('pass-through of a trusted subgraph answering a whole query', () => {
  it('answers byte for byte as shaping does: fields, nulls, lists, enums, aliases, variables, __typename', async () => {
    const first = await both('{ deals(first: 3) { id title amount stage tags notes } }');
    expect(first.passed).toBe(1);
    expect(first.body.data.deals[2]).toEqual({ id: 'd3', title: 'Deal 3', amount: 4.5, stage: 'OPEN', tags: ['a', 't3'], notes: 'line\n"3"' });
    const aliased = await both('{ a: deals(first: 2) { key: id t: title } b: deal(id: "d2") { title stage } none: deal(id: "d9") { id } }');
    expect(aliased.passed).toBe(1);
    expect(aliased.body.data).toEqual({ a: [{ key: 'd1', t: 'Deal 1' }, { key: 'd2', t: 'Deal 2' }], b: { title: 'Deal 2', stage: 'WON' }, none: null });
    // (The planner writes a numeric-looking ID literal as a number: that fetch differs, and is shaped.)
    expect((await both('{ deal(id: "2") { title } }')).passed).toBe(0);
    const variables = await both('query Few($n: Int!) { deals(first: $n) { __typename id owner { __typename id } } }', { n: 1 });
    expect(variables.passed).toBe(1);
    // Fragments, written out in place, ask what the fetch does.
    for (const query of ['{ deals(first: 2) { ...F } } fragment F on Deal { id stage }', '{ deals(first: 2) { ... on Deal { id stage } } }']) {
      const fragments = await both(query);
      expect(fragments.passed, query).toBe(1);
      expect(fragments.body.data).toEqual({ deals: [{ id: 'd1', stage: 'OPEN' }, { id: 'd2', stage: 'WON' }] });
    }
    expect(variables.body.data).toEqual({ deals: [{ __typename: 'Deal', id: 'd1', owner: { __typename: 'Account', id: 'acc-1' } }] });
  });

  it('shapes as before what one fetch does not answer exactly as asked', async () => {
    const shaped: [string, Record<string, unknown>?][] = [
      // A field a fragment repeats: the fetch asks it once.
      ['{ deals(first: 2) { id ...F } } fragment F on Deal { id title }'],
      ['query($x: Boolean!) { deals(first: 2) { id title @include(if: $x) } }', { x: false }],
      ['query($x: Boolean!) { deals(first: 2) { id ... @include(if: $x) { title } } }', { x: true }],
      ['{ __schema { queryType { name } } deals(first: 1) { id } }'],
      ['mutation { touch }'],
    ];
    for (const [query, variables] of shaped) {
      const { body, passed } = await both(query, variables);
      expect(passed, query).toBe(0);
      expect(body.errors, query).toBeUndefined();
    }
    // A second subgraph: an entity fetch to auth after crm's.
    const joined = await both('{ deals(first: 2) { owner { email } } }');
    expect(joined.passed).toBe(0);
    expect(joined.body.data).toEqual({ deals: [{ owner: { email: 'acc-1@example.com' } }, { owner: { email: 'acc-2@example.com' } }] });
  });

  it('an enum value the supergraph hides, an error, an untrusted subgraph: shaped, as before', async () => {
    const hidden = await both('{ levels }');
    expect(hidden.passed).toBe(0);
    expect(hidden.body.data).toBeNull(); // (SECRET is not a Level of the API: nulled up to the nullable root)
    const error = await both('{ boom deals(first: 1) { id } }');
    expect(error.passed).toBe(0);
    expect(error.body.errors).toHaveLength(1);
    expect(error.body.data).toEqual({ boom: null, deals: [{ id: 'd1' }] });
    const untrusted = await both('{ products }', undefined, 'saleor');
    expect(untrusted.passed).toBe(0);
    expect(untrusted.body.data).toEqual({ products: ['p1', 'p2'] });
  });
});
