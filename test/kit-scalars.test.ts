import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import auth from '../subgraphs/auth/index.ts';
import { isoString, withKitScalars } from '../subgraphs/kit/scalars.ts';
import { defineSubgraph } from '../subgraphs/kit/server.ts';
import { allow } from '../subgraphs/kit/shield.ts';
import { bearer, gql } from './support/graphql.ts';
import { startSubgraphs, type RunningSubgraphs } from './support/stack.ts';

/*
 * The kit serializes `scalar DateTime` for every subgraph that declares it (kit/scalars.ts): a
 * resolver's Date becomes the ISO 8601 string JSON.stringify used to write for it, a string
 * passes as it is, anything else is an error at that field, never a crash of the response. A
 * subgraph that resolves the scalar itself keeps its own. Checked over HTTP, against a real
 * PostgreSQL timestamptz as well.
 */

const INSTANT = new Date(Date.UTC(2026, 11, 7, 10, 3, 22, 45));

const dates = (name: string, ownScalar: boolean) =>
  defineSubgraph({
    name,
    port: 0,
    typeDefs: parse(`
      scalar DateTime
      type Query { date: DateTime! text: DateTime! invalid: DateTime number: DateTime fromDb: DateTime! list: [DateTime!]! }
    `),
    resolvers: {
      Query: {
        date: () => INSTANT,
        text: () => 'as stored',
        invalid: () => new Date(Number.NaN),
        number: () => 42,
        // (Microseconds: a Date keeps milliseconds, truncated.)
        fromDb: async (_: unknown, __: unknown, ctx: any) =>
          ctx.tx(async (tx: any) => (await tx.query("SELECT timestamptz '2026-12-07 11:03:22.045678+01' AS t")).rows[0].t),
        list: () => [INSTANT, '2026-01-01T00:00:00.000Z'],
      },
      ...(ownScalar ? { DateTime: { serialize: (value: unknown) => `own:${(value as Date).getTime?.() ?? value}` } } : {}),
    },
    permissions: { Query: Object.fromEntries(['date', 'text', 'invalid', 'number', 'fromDb', 'list'].map((field) => [field, allow])) },
    createLoaders: () => ({}),
    responseCache: false,
  });

let stack: RunningSubgraphs;
let token: string;

beforeAll(async () => {
  stack = await startSubgraphs([auth, dates('dates', false), dates('owndates', true)]);
  token = await stack.token('owner@acme.example');
});
afterAll(() => stack?.close());

describe('DateTime', () => {
  it('a Date is its ISO 8601 instant in UTC with milliseconds, a string passes unchanged, in lists too', async () => {
    const result = await gql(stack.urls.dates!, '{ date text list }', {}, bearer(token));
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ date: '2026-12-07T10:03:22.045Z', text: 'as stored', list: ['2026-12-07T10:03:22.045Z', '2026-01-01T00:00:00.000Z'] });
    // What JSON.stringify wrote for the Date before the kit serialized it.
    expect(result.data!.date).toBe(JSON.parse(JSON.stringify(INSTANT)));
  });

  it('a timestamptz read from PostgreSQL comes out as the instant PostgreSQL holds', async () => {
    const result = await gql(stack.urls.dates!, '{ fromDb }', {}, bearer(token));
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ fromDb: '2026-12-07T10:03:22.045Z' });
  });

  it('an invalid date or a value of another type is an error at its field; the rest of the answer stands', async () => {
    const result = await gql(stack.urls.dates!, '{ date invalid number }', {}, bearer(token));
    expect(result.data).toEqual({ date: '2026-12-07T10:03:22.045Z', invalid: null, number: null });
    expect(result.errors?.map((e) => e.path)).toEqual([['invalid'], ['number']]);
  });

  it('leaves graphql-js with the string, not the Date (JSON.stringify never meets a Date)', async () => {
    const typeDefs = parse('scalar DateTime type Query { date: DateTime! }');
    const schema = buildSubgraphSchema({ typeDefs, resolvers: withKitScalars(typeDefs, { Query: { date: () => INSTANT } }) as any });
    // (@apollo/subgraph builds with the CommonJS graphql: execute with that one.)
    const { execute } = createRequire(import.meta.url)('graphql') as typeof import('graphql');
    const result = (await execute({ schema, document: parse('{ date }') })) as { data: { date: unknown } };
    expect(result.data.date).toBe('2026-12-07T10:03:22.045Z');
  });

  it("a subgraph's own DateTime resolver wins over the kit's", async () => {
    const result = await gql(stack.urls.owndates!, '{ date text }', {}, bearer(token));
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ date: `own:${INSTANT.getTime()}`, text: 'own:as stored' });
  });
});

describe('isoString (the serializer\'s fast toISOString)', () => {
  it('is toISOString for instants across and at the edges of four-digit years, either side of the epoch and of midnight', () => {
    const edges = [-62_167_219_200_000, -62_167_219_200_001, 253_402_300_799_999, 253_402_300_800_000, 0, -1, 1, 86_399_999, 86_400_000, -86_400_000, -86_400_001, 8.64e15, -8.64e15];
    // A seeded spread (no Math.random: a failure must be reproducible), years -271821 to 275760.
    let seed = 42;
    const next = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const spread = Array.from({ length: 20_000 }, (_, i) => Math.round((next() * 2 - 1) * (i % 2 ? 1e13 : 8.64e15)));
    for (const ms of [...edges, ...spread]) expect(isoString(new Date(ms)), String(ms)).toBe(new Date(ms).toISOString());
  });
});
