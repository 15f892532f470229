import { Kind, parse, print, type ObjectTypeDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSubgraphServer, type SubgraphServer } from '../subgraphs/kit/server.ts';
import saleor from '../subgraphs/saleor/index.ts';
import { batchCounts } from '../subgraphs/saleor/loaders.ts';
import { toGlobalId } from '../subgraphs/saleor/ids.ts';
import { hasAppToken } from '../subgraphs/saleor/permissions.ts';
import { createTestBackends, type TestBackends } from './support/deps.ts';
import { gql as post } from './support/graphql.ts';

/* The Saleor stand-in over real HTTP, as the gateway calls it. */

const APP_TOKEN = 'test-saleor-app-token';
const APP = { authorization: `Bearer ${APP_TOKEN}` };


let backends: TestBackends;
let server: SubgraphServer;
let url: string;

/** A request to the stand-in, which answers every one with 200 (errors in the body). */
async function gql(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const result = await post(url, query, variables, headers);
  expect(result.status).toBe(200);
  return result;
}
type GraphQLResponse = Awaited<ReturnType<typeof gql>>;

/** The data of a request that must succeed. */
async function data(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const result = await gql(query, variables, headers);
  expect(result.errors).toBeUndefined();
  return result.data!;
}

const codes = (result: GraphQLResponse) => result.errors?.map((e) => e.extensions?.code) ?? [];

beforeAll(async () => {
  backends = await createTestBackends({ SALEOR_APP_TOKEN: APP_TOKEN });
  server = await createSubgraphServer(saleor, backends.deps('saleor'));
  url = await server.listen(0);
});

afterAll(async () => {
  await server?.close();
  await backends?.close();
});

const PRODUCT_PAGE = `
  query Page($channel: String, $first: Int, $after: String) {
    products(channel: $channel, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { id name channel pricing { priceRange { start { currency gross { amount currency } } } } } }
    }
  }`;

describe('catalog (public)', () => {
  it.each([
    ['acme-channel', 'USD', 64],
    ['globex-channel', 'EUR', 62],
  ])('pages through every product of %s priced in %s', async (channel, currency, expectedTotal) => {
    const ids: string[] = [];
    let after: string | null = null;
    for (let pageNo = 0; pageNo < 10; pageNo++) {
      const { products } = await data(PRODUCT_PAGE, { channel, first: 25, after });
      expect(products.totalCount).toBe(expectedTotal);
      expect(products.pageInfo.hasPreviousPage).toBe(pageNo > 0);
      for (const { node } of products.edges) {
        ids.push(node.id);
        expect(node.channel).toBe(channel);
        expect(node.pricing.priceRange.start.currency).toBe(currency);
        expect(node.pricing.priceRange.start.gross.currency).toBe(currency);
      }
      if (!products.pageInfo.hasNextPage) break;
      after = products.pageInfo.endCursor;
    }
    expect(ids).toHaveLength(expectedTotal);
    expect(new Set(ids).size).toBe(expectedTotal);
  });

  it('defaults to acme-channel when no channel is given', async () => {
    const { products } = await data(PRODUCT_PAGE, { first: 1 });
    expect(products.totalCount).toBe(64);
    expect(products.edges[0].node.channel).toBe('acme-channel');
  });

  it('searches every word in names, descriptions and SKUs', async () => {
    const { products } = await data(`{ products(first: 100, search: "ocean hoodie") { totalCount edges { node { name } } } }`);
    expect(products.edges.map((e: any) => e.node.name)).toEqual(['Ocean Hoodie']);
    const bySku = await data(`{ products(first: 5, search: "MUG-04") { edges { node { name } } } }`);
    expect(bySku.products.edges.length).toBeGreaterThan(0);
    for (const e of bySku.products.edges) expect(e.node.name).toMatch(/Mug$/);
  });

  it('filters by a category including its subcategories, and by price', async () => {
    const { category } = await data(`{ category(slug: "apparel") { id level children(first: 10) { edges { node { name } } } } }`);
    expect(category.level).toBe(0);
    expect(category.children.edges.map((e: any) => e.node.name).sort()).toEqual(['Hoodies', 'T-Shirts']);
    const { products } = await data(
      `query($c: [ID!]) { products(first: 100, filter: { categories: $c }) { totalCount edges { node { category { name } } } } }`,
      { c: [category.id] },
    );
    expect(products.totalCount).toBeGreaterThan(12);
    for (const e of products.edges) expect(['T-Shirts', 'Hoodies']).toContain(e.node.category.name);

    const cheap = await data(`{
      products(first: 100, channel: "acme-channel", where: { price: { range: { lte: 15 } } }) {
        edges { node { variants { pricing { priceUndiscounted { gross { amount } } } } } }
      }
    }`);
    expect(cheap.products.edges.length).toBeGreaterThan(0);
    for (const e of cheap.products.edges) {
      const amounts = e.node.variants.map((v: any) => v.pricing.priceUndiscounted.gross.amount);
      expect(Math.min(...amounts)).toBeLessThanOrEqual(15);
    }
  });

  it('sorts by price and by name in either direction', async () => {
    const byPrice = await data(`{
      products(first: 100, channel: "globex-channel", sortBy: { field: PRICE, direction: ASC }) {
        edges { node { pricing { priceRangeUndiscounted { start { gross { amount } } } } } }
      }
    }`);
    const prices = byPrice.products.edges.map((e: any) => e.node.pricing.priceRangeUndiscounted.start.gross.amount);
    expect(prices).toEqual([...prices].sort((a, b) => a - b));

    const byName = await data(`{ products(first: 100, sortBy: { field: NAME, direction: DESC }) { edges { node { name } } } }`);
    const names = byName.products.edges.map((e: any) => e.node.name.toLowerCase());
    expect(names).toEqual([...names].sort().reverse());
  });

  it('finds a product by id and by slug, priced in the channel asked for', async () => {
    const id = toGlobalId('Product', 1);
    const query = `query($id: ID, $slug: String, $channel: String) {
      product(id: $id, slug: $slug, channel: $channel) {
        id slug channel pricing { priceRange { start { gross { amount currency } net { amount } tax { amount } } } }
      }
    }`;
    const usd = (await data(query, { id, channel: 'acme-channel' })).product;
    const eur = (await data(query, { slug: usd.slug, channel: 'globex-channel' })).product;
    expect(usd.id).toBe(id);
    expect(eur.id).toBe(id);
    expect(usd.pricing.priceRange.start.gross.currency).toBe('USD');
    expect(eur.pricing.priceRange.start.gross.currency).toBe('EUR');
    const start = eur.pricing.priceRange.start;
    expect(start.net.amount + start.tax.amount).toBeCloseTo(start.gross.amount, 2);
    // Product 63 is listed in neither channel, 9 only in globex-channel.
    expect((await data(query, { id: toGlobalId('Product', 63) })).product).toBeNull();
    expect((await data(query, { id: toGlobalId('Product', 9), channel: 'acme-channel' })).product).toBeNull();
    expect((await data(query, { id: toGlobalId('Product', 9), channel: 'globex-channel' })).product.channel).toBe('globex-channel');
  });

  it('walks categories, variants and their product', async () => {
    const roots = await data(`{ categories(first: 20, level: 0) { totalCount edges { node { slug parent { id } } } } }`);
    expect(roots.categories.totalCount).toBe(5);
    for (const e of roots.categories.edges) expect(e.node.parent).toBeNull();
    const { category } = await data(`{ category(slug: "apparel") { products(first: 100, channel: "globex-channel") { totalCount } } }`);
    const hoodies = await data(`{ category(slug: "hoodies") { products(first: 100, channel: "globex-channel") { totalCount } } }`);
    expect(category.products.totalCount).toBeGreaterThan(hoodies.category.products.totalCount);
    const { productVariant } = await data(`{
      productVariant(sku: "MUG-038-1", channel: "globex-channel") {
        sku channel quantityAvailable product { name channel productVariants(first: 5) { totalCount } }
        pricing { price { gross { currency } } priceUndiscounted { gross { amount } } }
      }
    }`);
    expect(productVariant).toMatchObject({ sku: 'MUG-038-1', channel: 'globex-channel', product: { channel: 'globex-channel' } });
    expect(productVariant.pricing.price.gross.currency).toBe('EUR');
    expect(productVariant.product.productVariants.totalCount).toBeGreaterThanOrEqual(1);
  });

  it('rejects an ID of another type and garbage, like Saleor', async () => {
    const orderId = toGlobalId('Order', '7f0d4a52-7d4b-5c1e-8a5e-000000000000');
    const wrong = await gql(`query($id: ID) { product(id: $id) { id } }`, { id: orderId });
    expect(wrong.errors?.[0]?.message).toBe(`Invalid ID: ${orderId}. Expected: Product, received: Order.`);
    expect(codes(wrong)).toEqual(['BAD_USER_INPUT']);
    const garbage = await gql(`{ product(id: "not-an-id!") { id } }`);
    expect(garbage.errors?.[0]?.message).toBe('Invalid ID: not-an-id!.');
    expect(codes(garbage)).toEqual(['BAD_USER_INPUT']);
  });

  it('wants exactly one of id and slug', async () => {
    expect((await gql(`{ product(id: "UHJvZHVjdDox", slug: "x") { id } }`)).errors?.[0]?.message).toBe(
      "Argument 'id' cannot be combined with 'slug'",
    );
    expect((await gql(`{ product { id } }`)).errors?.[0]?.message).toBe("At least one of arguments is required: 'id', 'slug'.");
  });

  it('refuses more than 100 items, and a list without first or last', async () => {
    const tooMany = await gql(`{ products(first: 101) { totalCount } }`);
    expect(codes(tooMany)).toEqual(['BAD_USER_INPUT']);
    expect(tooMany.data?.products).toBeNull();
    const unbounded = await gql(`{ categories { totalCount } }`);
    expect(unbounded.errors?.[0]?.message).toBe(
      'You must provide a `first` or `last` value to properly paginate the `categories` connection.',
    );
  });

  it('lists collections per channel and their products in that channel', async () => {
    const acme = await data(`{ collections(first: 10, channel: "acme-channel") { edges { node { slug channel } } } }`);
    const globex = await data(`{ collections(first: 10, channel: "globex-channel") { edges { node { slug } } } }`);
    expect(acme.collections.edges.map((e: any) => e.node.slug)).toContain('summer-sale');
    expect(globex.collections.edges.map((e: any) => e.node.slug)).not.toContain('summer-sale');
    const { collection } = await data(`{
      collection(slug: "featured", channel: "globex-channel") {
        channel products(first: 100) { totalCount edges { node { channel collections { slug } } } }
      }
    }`);
    expect(collection.channel).toBe('globex-channel');
    expect(collection.products.totalCount).toBeGreaterThan(0);
    for (const e of collection.products.edges) {
      expect(e.node.channel).toBe('globex-channel');
      expect(e.node.collections.map((c: any) => c.slug)).toContain('featured');
    }
  });
});

const ENTITIES = `query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Product { id name channel pricing { priceRange { start { gross { currency } } } } }
    ... on User { id email firstName }
    ... on Order { id number userEmail }
    ... on Category { id slug }
  }
}`;

describe('entities', () => {
  it('resolves Product { id channel } priced per channel, in one loader batch', async () => {
    const representations = [
      { __typename: 'Product', id: toGlobalId('Product', 2), channel: 'acme-channel' },
      { __typename: 'Product', id: toGlobalId('Product', 2), channel: 'globex-channel' },
      { __typename: 'Product', id: toGlobalId('Product', 3), channel: 'globex-channel' },
      { __typename: 'Product', id: toGlobalId('Product', 4), channel: null },
      { __typename: 'Product', id: toGlobalId('Product', 63), channel: 'acme-channel' },
    ];
    const before = batchCounts.products;
    const { _entities } = await data(ENTITIES, { representations });
    expect(batchCounts.products - before).toBe(1);
    expect(_entities.map((e: any) => e?.channel ?? null)).toEqual(['acme-channel', 'globex-channel', 'globex-channel', 'acme-channel', null]);
    expect(_entities[0].pricing.priceRange.start.gross.currency).toBe('USD');
    expect(_entities[1].pricing.priceRange.start.gross.currency).toBe('EUR');
    expect(_entities[4]).toBeNull();
  });

  it('resolves Category by id, ProductVariant and Collection by { id channel }', async () => {
    const representations = [
      { __typename: 'Category', id: toGlobalId('Category', 2) },
      { __typename: 'ProductVariant', id: toGlobalId('ProductVariant', 1), channel: 'globex-channel' },
      { __typename: 'Collection', id: toGlobalId('Collection', 2), channel: 'acme-channel' },
      { __typename: 'Collection', id: toGlobalId('Collection', 2), channel: 'globex-channel' },
    ];
    const { _entities } = await data(
      `query($representations: [_Any!]!) {
        _entities(representations: $representations) {
          ... on Category { slug }
          ... on ProductVariant { sku channel pricing { price { gross { currency } } } }
          ... on Collection { slug channel }
        }
      }`,
      { representations },
    );
    expect(_entities[0]).toEqual({ slug: 't-shirts' });
    expect(_entities[1]).toMatchObject({ channel: 'globex-channel', pricing: { price: { gross: { currency: 'EUR' } } } });
    // "Summer Sale" is published in acme-channel only.
    expect(_entities[2]).toEqual({ slug: 'summer-sale', channel: 'acme-channel' });
    expect(_entities[3]).toBeNull();
  });

  it('rejects a representation whose ID is of another type', async () => {
    const result = await gql(ENTITIES, { representations: [{ __typename: 'Product', id: toGlobalId('Category', 1), channel: null }] });
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
  });

  it('resolves User by email and by id only with the App token', async () => {
    const representations = [
      { __typename: 'User', email: 'owner@acme.example' },
      { __typename: 'User', id: toGlobalId('User', 3) },
    ];
    const { _entities } = await data(ENTITIES, { representations }, APP);
    expect(_entities.map((u: any) => u.email)).toEqual(['owner@acme.example', 'owner@globex.example']);

    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-token' }, { authorization: APP_TOKEN }];
    for (const headers of attempts) {
      const denied = await gql(ENTITIES, { representations }, headers);
      expect(denied.data?._entities).toEqual([null, null]);
      expect(new Set(codes(denied))).toEqual(new Set(['FORBIDDEN']));
    }
  });

  it('resolves Order by id only with the App token', async () => {
    const { orders } = await data(`{ orders(first: 1) { edges { node { id number } } } }`, {}, APP);
    const representations = [{ __typename: 'Order', id: orders.edges[0].node.id }];
    expect((await data(ENTITIES, { representations }, APP))._entities[0].number).toBe(orders.edges[0].node.number);
    expect(codes(await gql(ENTITIES, { representations }))).toContain('FORBIDDEN');
  });
});

describe('orders and users (App token)', () => {
  const ORDERS = `{
    orders(first: 20) {
      totalCount
      edges { node { number userEmail user { email } channel { slug currencyCode } total { gross { amount currency } } lines { quantity } } }
    }
  }`;

  it('requires the App token', async () => {
    for (const query of [ORDERS, `{ user(email: "owner@acme.example") { id } }`, `{ order(id: "${toGlobalId('Order', '00000000-0000-0000-0000-000000000000')}") { id } }`]) {
      const denied = await gql(query);
      expect(codes(denied)).toEqual(['FORBIDDEN']);
    }
  });

  it('serves orders of the demo accounts in their channel currency', async () => {
    const { orders } = await data(ORDERS, {}, APP);
    expect(orders.totalCount).toBeGreaterThanOrEqual(8);
    const emails = new Set(orders.edges.map((e: any) => e.node.userEmail));
    for (const email of ['owner@acme.example', 'editor@acme.example', 'owner@globex.example']) expect(emails).toContain(email);
    const numbers = orders.edges.map((e: any) => Number(e.node.number));
    expect(numbers).toEqual([...numbers].sort((a, b) => b - a));
    for (const { node } of orders.edges) {
      expect(node.total.gross.currency).toBe(node.channel.currencyCode);
      expect(node.lines.length).toBeGreaterThan(0);
    }
    const { user } = await data(`{ user(email: "owner@acme.example") { email orders(first: 10) { totalCount edges { node { userEmail } } } } }`, {}, APP);
    expect(user.orders.totalCount).toBeGreaterThan(0);
    for (const e of user.orders.edges) expect(e.node.userEmail).toBe('owner@acme.example');
  });

  it('never answers a token-less request from the response cache', async () => {
    await data(ORDERS, {}, APP);
    await data(ORDERS, {}, APP);
    expect(codes(await gql(ORDERS))).toEqual(['FORBIDDEN']);
  });

  it('compares the token in constant time and only as a Bearer token', () => {
    expect(hasAppToken(`Bearer ${APP_TOKEN}`, APP_TOKEN)).toBe(true);
    expect(hasAppToken(`bearer ${APP_TOKEN}`, APP_TOKEN)).toBe(true);
    expect(hasAppToken(APP_TOKEN, APP_TOKEN)).toBe(false);
    expect(hasAppToken(`Bearer ${APP_TOKEN}x`, APP_TOKEN)).toBe(false);
    expect(hasAppToken('Bearer ', APP_TOKEN)).toBe(false);
    expect(hasAppToken(undefined, APP_TOKEN)).toBe(false);
  });
});

describe('federation', () => {
  it('serves its SDL with Saleor’s entity keys', async () => {
    const { _service } = await data(`{ _service { sdl } }`);
    const keys = (name: string) => {
      const type = parse(_service.sdl).definitions.find((d) => d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value === name);
      return (type as ObjectTypeDefinitionNode).directives!.filter((d) => d.name.value === 'key').map((d) => print(d));
    };
    expect(keys('Product')).toEqual(['@key(fields: "id channel")']);
    expect(keys('User')).toEqual(['@key(fields: "id")', '@key(fields: "email")']);
    expect(_service.sdl).not.toContain('@link');
  });

  it('answers /health', async () => {
    const response = await fetch(url.replace(/\/graphql$/, '/health'));
    expect(await response.json()).toEqual({ status: 'ok', subgraph: 'saleor' });
  });
});
