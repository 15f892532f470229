import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '../gateway/compose.ts';
import { viewerQuery } from '../gateway/ide.ts';
import { restrictedSaleorRootFields } from '../gateway/saleor-access.ts';
import { bearer, gql, login } from './support/graphql.ts';
import { readRealSaleorSdl } from './support/saleor-sdl.ts';
import { startSupergraph, type RunningSupergraph } from './support/stack.ts';

// The gateway sends Saleor its App token whoever calls, so it decides itself who may select
// Saleor's App-only root fields (orders, order, user): platform administrators only. Our
// Account.saleorUser links a member to their own Saleor customer only.

const LEAK = `{ orders(first: 3) { edges { node { id userEmail } } } user(email: "owner@globex.example") { email } }`;

describe("which of Saleor's root fields are closed", () => {
  it('in our supergraph: orders, order, user and the order mutations; the catalog stays open', () => {
    const sdl = readFileSync(new URL('../schema/supergraph.graphql', import.meta.url), 'utf8');
    const restricted = restrictedSaleorRootFields(sdl);
    expect([...restricted.keys()].sort()).toEqual(['Mutation', 'Query']);
    expect([...restricted.get('Query')!].sort()).toEqual(['order', 'orders', 'user']);
    expect([...restricted.get('Mutation')!].sort()).toEqual(['draftOrderComplete', 'draftOrderCreate', 'orderCancel', 'orderMarkAsPaid']);
  });

  it("with Saleor 3.23's real SDL: everything but the public catalog, its mutations included (deny by default)", () => {
    const { supergraphSdl, errors } = composeSupergraph({ replace: { saleor: readRealSaleorSdl() } });
    expect(errors).toEqual([]);
    const restricted = restrictedSaleorRootFields(supergraphSdl!);
    const query = restricted.get('Query')!;
    for (const name of ['orders', 'order', 'user', 'customers', 'staffUsers', 'checkouts', 'giftCards']) expect(query.has(name), name).toBe(true);
    for (const name of ['products', 'product', 'categories', 'collections', 'viewer', 'leads', 'contentPage']) expect(query.has(name), name).toBe(false);
    const mutation = restricted.get('Mutation')!;
    for (const name of ['orderCancel', 'customerCreate', 'tokenCreate']) expect(mutation.has(name), name).toBe(true);
    for (const name of ['login', 'createLead', 'inviteMember']) expect(mutation.has(name), name).toBe(false);
  });
});

describe("Saleor's App-only data through the gateway", () => {
  let stack: RunningSupergraph;
  let member: string;
  let admin: string;

  beforeAll(async () => {
    stack = await startSupergraph();
    member = await login(stack.graphql, 'editor@acme.example');
    admin = await login(stack.graphql, 'owner@acme.example'); // the demo's platform administrator
  });
  afterAll(() => stack?.close());

  it('access tokens carry platform_admin for platform administrators only', () => {
    const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    expect(claims(admin).platform_admin).toBe(true);
    expect(claims(member)).not.toHaveProperty('platform_admin');
  });

  /** Fetches the gateway has made to Saleor (its /metrics). */
  const saleorFetches = async () => {
    const text = await (await fetch(`${stack.base}/metrics`)).text();
    const lines = text.split('\n').filter((l) => l.startsWith('gateway_subgraph_fetch_duration_seconds_count') && l.includes('subgraph="saleor"'));
    return lines.reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
  };

  it('anonymous: refused whole with UNAUTHENTICATED (401), before any Saleor fetch', async () => {
    const fetchesBefore = await saleorFetches();
    const { status, data, errors } = await gql(stack.graphql, LEAK);
    expect(await saleorFetches()).toBe(fetchesBefore);
    expect(status).toBe(401);
    expect(data).toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect(errors![0]!.message).toContain('`orders`, `user`');
    // However selected: through a fragment, under an alias, in a named operation among others.
    const hidden = `query A { products(first: 1, channel: "acme-channel") { totalCount } }
      query B { ...F }
      fragment F on Query { ... on Query { recent: order(id: "T3JkZXI6MQ==") { id } } }`;
    const b = await fetch(stack.graphql, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: hidden, operationName: 'B' }),
    });
    expect(b.status).toBe(401);
    const a = await fetch(stack.graphql, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: hidden, operationName: 'A' }),
    });
    expect(((await a.json()) as { data: { products: { totalCount: number } } }).data.products.totalCount).toBeGreaterThan(0);
  });

  it("a member: refused with FORBIDDEN (403); their own Saleor orders through viewer still answer, other members' not", async () => {
    const refused = await gql(stack.graphql, LEAK, {}, bearer(member));
    expect(refused.status).toBe(403);
    expect(refused.data).toBeUndefined();
    expect(refused.errors![0]!.extensions!.code).toBe('FORBIDDEN');

    const own = await gql(stack.graphql, '{ viewer { account { saleorUser { email orders(first: 5) { edges { node { userEmail } } } } } } }', {}, bearer(member));
    expect(own.errors).toBeUndefined();
    const user = own.data!.viewer.account.saleorUser;
    expect(user.email).toBe('editor@acme.example');
    expect(user.orders.edges.length).toBeGreaterThan(0);
    for (const { node } of user.orders.edges) expect(node.userEmail).toBe('editor@acme.example');

    const members = await gql(stack.graphql, '{ members(first: 20) { edges { node { account { email saleorUser { email orders(first: 1) { totalCount } } } } } } }', {}, bearer(member));
    expect(members.errors).toBeUndefined();
    const links = members.data!.members.edges.map(({ node }: any) => [node.account.email, node.account.saleorUser?.email ?? null]);
    expect(links.length).toBeGreaterThan(1);
    for (const [email, linked] of links) expect(linked).toBe(email === 'editor@acme.example' ? email : null);
  });

  it("the IDE's example (the viewer's own account joined with Saleor orders, and products) works for a member", async () => {
    const { errors, data } = await gql(stack.graphql, viewerQuery, {}, bearer(member));
    expect(errors).toBeUndefined();
    expect(data!.viewer.account.saleorUser.orders.edges.length).toBeGreaterThan(0);
    expect(data!.products.totalCount).toBeGreaterThan(0);
  });

  it("a platform administrator: Saleor's orders and customers of every channel, and any member's link", async () => {
    const fetchesBefore = await saleorFetches();
    const { errors, data } = await gql(stack.graphql, LEAK, {}, bearer(admin));
    expect(errors).toBeUndefined();
    expect(await saleorFetches()).toBeGreaterThan(fetchesBefore); // (what the anonymous case counts)
    expect(data!.orders.edges.length).toBe(3);
    expect(data!.user).toEqual({ email: 'owner@globex.example' });
    const members = await gql(stack.graphql, '{ members(first: 20) { edges { node { account { email saleorUser { email } } } } } }', {}, bearer(admin));
    for (const { node } of members.data!.members.edges) expect(node.account.saleorUser).toEqual({ email: node.account.email });
  });

  it('the public catalog answers anyone', async () => {
    const { errors, data } = await gql(stack.graphql, '{ products(first: 2, channel: "globex-channel") { edges { node { name } } } }');
    expect(errors).toBeUndefined();
    expect(data!.products.edges).toHaveLength(2);
  });
});
