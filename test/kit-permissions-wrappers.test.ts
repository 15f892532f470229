import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'graphql';
import auth from '../subgraphs/auth/index.ts';
import { defineSubgraph } from '../subgraphs/kit/server.ts';
import { allow, isAdmin, isMember } from '../subgraphs/kit/shield.ts';
import { bearer, gql } from './support/graphql.ts';
import { startSubgraphs, type RunningSubgraphs } from './support/stack.ts';

/*
 * The kit derives the rules of types that only wrap others (connections, edges, PageInfo,
 * mutation payloads and their errors), so a subgraph's permissions list root fields and the
 * types that carry data. Checked over HTTP with real tokens of a viewer and an owner.
 */

const things = [{ id: 't1' }, { id: 't2' }];
const connection = (nodes: { id: string }[]) => ({
  totalCount: nodes.length,
  pageInfo: { hasNextPage: false },
  edges: nodes.map((node) => ({ node, cursor: node.id })),
});

const wrappers = defineSubgraph({
  name: 'wrappers',
  port: 0,
  typeDefs: parse(`
    type Query { things: ThingConnection! secrets: SecretConnection! }
    type Mutation { makeThing: ThingPayload! makeWidget: Widget }
    type Thing { id: ID! }
    type ThingEdge { node: Thing! cursor: String! }
    type ThingConnection { edges: [ThingEdge!]! pageInfo: PageInfo! totalCount: Int! }
    type Secret { id: ID! }
    type SecretEdge { node: Secret! cursor: String! }
    type SecretConnection { edges: [SecretEdge!]! pageInfo: PageInfo! totalCount: Int! }
    type PageInfo { hasNextPage: Boolean! }
    type ThingPayload { thing: Thing errors: [ProbeError!]! }
    type ProbeError { field: String message: String! }
    type Widget { id: ID! }
  `),
  resolvers: {
    Query: { things: () => connection(things), secrets: () => connection(things) },
    Mutation: { makeThing: () => ({ thing: things[0], errors: [] }), makeWidget: () => ({ id: 'w1' }) },
  },
  permissions: {
    // `secrets` is open as a field: the connection's own rule (derived from Secret) still holds.
    Query: { things: isMember, secrets: allow },
    Mutation: { makeThing: isMember, makeWidget: isMember },
    Thing: isMember,
    Secret: isAdmin,
    // Widget is not listed: a mutation returning it directly is not a payload, so it stays denied.
  },
  createLoaders: () => ({}),
  responseCache: false,
});

let stack: RunningSubgraphs;
let url: string;

beforeAll(async () => {
  stack = await startSubgraphs([auth, wrappers]);
  url = stack.urls.wrappers!;
});
afterAll(() => stack?.close());

describe('rules derived for wrapper types', () => {
  it('a connection, its edges and PageInfo follow the node type: a member reads a list of members’ things', async () => {
    const viewer = await stack.token('viewer@acme.example');
    const result = await gql(url, '{ things { totalCount pageInfo { hasNextPage } edges { cursor node { id } } } }', {}, bearer(viewer));
    expect(result.errors).toBeUndefined();
    expect(result.data!.things).toEqual(connection(things));
  });

  it('the connection of an admin-only type is closed to a viewer, even through an open field', async () => {
    const viewer = await stack.token('viewer@acme.example');
    const denied = await gql(url, '{ secrets { totalCount } }', {}, bearer(viewer));
    expect(denied.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    const owner = await stack.token('owner@acme.example');
    const allowed = await gql(url, '{ secrets { totalCount edges { node { id } } } }', {}, bearer(owner));
    expect(allowed.errors).toBeUndefined();
    expect(allowed.data!.secrets.totalCount).toBe(2);
  });

  it('a mutation payload and its errors are open; the object inside keeps its rule', async () => {
    const viewer = await stack.token('viewer@acme.example');
    const result = await gql(url, 'mutation { makeThing { thing { id } errors { field message } } }', {}, bearer(viewer));
    expect(result.errors).toBeUndefined();
    expect(result.data!.makeThing).toEqual({ thing: { id: 't1' }, errors: [] });
    const anonymous = await gql(url, 'mutation { makeThing { errors { message } } }');
    expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });

  it('a type that is neither listed nor a wrapper stays denied', async () => {
    const owner = await stack.token('owner@acme.example');
    const result = await gql(url, 'mutation { makeWidget { id } }', {}, bearer(owner));
    expect(result.data!.makeWidget).toBeNull();
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  });
});
