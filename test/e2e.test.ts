import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, gql, login, postJson } from './support/graphql.ts';
import { startSupergraph, type RunningSupergraph } from './support/stack.ts';

// The whole supergraph (auth + the Saleor stand-in + the gateway) over HTTP, as a frontend uses it.
let stack: RunningSupergraph;
let url: string;

beforeAll(async () => {
  stack = await startSupergraph();
  url = stack.graphql;
});
afterAll(() => stack?.close());

describe('through the gateway', () => {
  it('logs in and reads the viewer', async () => {
    const token = await login(url, 'editor@acme.example');
    const { data, errors } = await gql(url, '{ viewer { account { email name } tenant { slug saleorChannel } roles } }', {}, bearer(token));
    expect(errors).toBeUndefined();
    expect(data!.viewer).toEqual({ account: { email: 'editor@acme.example', name: 'Ed Editor' }, tenant: { slug: 'acme', saleorChannel: 'acme-channel' }, roles: ['EDITOR'] });
  });

  it("joins our account with the Saleor stand-in: the account's Saleor orders and their products", async () => {
    const token = await login(url, 'owner@acme.example');
    const { data, errors } = await gql(
      url,
      `query Joined($channel: String!) {
        viewer { account { email saleorUser { email orders(first: 3) { totalCount edges { node {
          number userEmail lines { productName quantity variant { name product { name slug channel } } }
        } } } } } }
        products(first: 5, channel: $channel) { totalCount edges { node { name pricing { priceRange { start { gross { amount currency } } } } } } }
      }`,
      { channel: 'acme-channel' },
      bearer(token),
    );
    expect(errors).toBeUndefined();
    const user = data!.viewer.account.saleorUser;
    expect(user.email).toBe('owner@acme.example');
    expect(user.orders.totalCount).toBeGreaterThan(0);
    for (const { node } of user.orders.edges) {
      expect(node.userEmail).toBe('owner@acme.example');
      for (const line of node.lines) expect(line.variant?.product?.name ?? line.productName).toBeTruthy();
    }
    expect(data!.products.edges).toHaveLength(5);
    expect(data!.products.edges[0].node.pricing.priceRange.start.gross.currency).toBe('USD');
  });

  it('a globex token cannot read acme members or accounts', async () => {
    const token = await login(url, 'owner@globex.example');
    const { data } = await gql(url, '{ viewer { tenant { slug } } members(first: 100) { totalCount edges { node { account { email } } } } }', {}, bearer(token));
    expect(data!.viewer.tenant.slug).toBe('globex');
    const emails = data!.members.edges.map((e: any) => e.node.account.email);
    expect(emails).toEqual(['owner@globex.example']);
    // The gateway exposes no _entities: entity fetches are for the gateway alone.
    const entities = await gql(url, '{ _entities(representations: [{ __typename: "Account", id: "x" }]) { __typename } }', {}, bearer(token));
    expect(entities.status).toBe(400);
    expect(entities.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('anonymous callers get UNAUTHENTICATED for member data, and the public catalog', async () => {
    const { data, errors } = await gql(url, '{ members(first: 1) { totalCount } }');
    expect(data).toEqual({ members: null }); // a root field is nullable: null, not the whole response
    expect(errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const catalog = await gql(url, '{ products(first: 2, channel: "globex-channel") { edges { node { name } } } }');
    expect(catalog.errors).toBeUndefined();
    expect(catalog.data!.products.edges).toHaveLength(2);
  });

  it('bad input: malformed JSON, an unknown field, a deep query and an alias bomb are 4xx, and the gateway stays up', async () => {
    const post = (body: string) => postJson(url, body);
    expect((await post('{"query": "{ viewer ')).status).toBe(400);
    expect((await post(JSON.stringify({ query: '{ viewer { nope } }' }))).status).toBe(400);
    const deep = `{ viewer { account { saleorUser { orders(first: 1) { edges { node { lines { variant { product { category { parent { parent { name } } } } } } } } } } } } }`;
    expect((await post(JSON.stringify({ query: deep }))).status).toBe(400);
    const aliases = `{ ${Array.from({ length: 50 }, (_, i) => `a${i}: products(first: 1, channel: "acme-channel") { totalCount }`).join(' ')} }`;
    expect((await post(JSON.stringify({ query: aliases }))).status).toBe(400);
    const ok = await gql(url, '{ products(first: 1, channel: "acme-channel") { totalCount } }');
    expect(ok.data!.products.totalCount).toBeGreaterThan(0);
  });

  it('a stopped subgraph yields partial data and an error; the gateway keeps serving', async () => {
    const token = await login(url, 'viewer@acme.example');
    await stack.servers.saleor!.close();
    const { data, errors } = await gql(
      url,
      '{ viewer { account { email } } products(first: 2, channel: "acme-channel") { totalCount } }',
      {},
      bearer(token),
    );
    expect(data!.viewer.account.email).toBe('viewer@acme.example');
    expect(data!.products ?? null).toBeNull();
    expect(errors?.[0]?.extensions?.code).toBe('SUBGRAPH_UNAVAILABLE');
    expect(JSON.stringify(errors)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
    const again = await gql(url, '{ viewer { account { email } } }', {}, bearer(token));
    expect(again.data!.viewer.account.email).toBe('viewer@acme.example');
  });
});
