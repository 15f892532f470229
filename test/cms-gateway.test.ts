import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchCounts } from '../subgraphs/saleor/loaders.ts';
import { bearer, gql, login } from './support/graphql.ts';
import { startSupergraph, type RunningSupergraph } from './support/stack.ts';

// The CMS through the gateway, joined with the Saleor stand-in (products) and auth (authors), as a
// storefront and the admin use it.

let stack: RunningSupergraph;
let url: string;

beforeAll(async () => {
  stack = await startSupergraph();
  url = stack.graphql;
});
afterAll(() => stack?.close());

describe('CMS pages joined with Saleor products through the gateway', () => {
  it('an anonymous storefront reads a published page with its featured products and product blocks from Saleor', async () => {
    const { data, errors } = await gql(
      url,
      `query Storefront($site: String!, $path: String!) { publishedContentPage(site: $site, path: $path) {
        title seoDescription
        featuredProducts { id channel name slug pricing { priceRange { start { gross { amount currency } } } } }
        body { __typename ... on ProductBlock { caption product { name channel } } ... on SnippetBlock { snippet { key } } }
      } }`,
      { site: 'acme', path: '/home' },
    );
    expect(errors).toBeUndefined();
    const page = data!.publishedContentPage;
    expect(page.title).toBe('Welcome to Acme');
    expect(page.featuredProducts.map((p: any) => p.slug)).toEqual(['classic-t-shirt', 'vintage-t-shirt', 'organic-t-shirt']);
    for (const product of page.featuredProducts) {
      expect(product.channel).toBe('acme-channel');
      expect(product.pricing.priceRange.start.gross.currency).toBe('USD');
    }
    expect(page.body.find((b: any) => b.__typename === 'ProductBlock')).toEqual({
      __typename: 'ProductBlock',
      caption: 'Our best seller',
      product: { name: 'Classic T-Shirt', channel: 'acme-channel' },
    });

    const globex = await gql(url, '{ publishedContentPage(site: "globex", path: "/home") { featuredProducts { name channel pricing { priceRange { start { gross { currency } } } } } } }');
    expect(globex.errors).toBeUndefined();
    expect(globex.data!.publishedContentPage.featuredProducts[0]).toMatchObject({ channel: 'globex-channel', pricing: { priceRange: { start: { gross: { currency: 'EUR' } } } } });
  });

  it('products of many pages are fetched from Saleor in batches, not one request per product', async () => {
    const token = await login(url, 'editor@acme.example');
    const before = batchCounts.products;
    const { data, errors } = await gql(
      url,
      `{ contentPages(first: 20) { edges { node { urlPath featuredProducts { name } body { ... on ProductBlock { product { name } } } } } } }`,
      {},
      bearer(token),
    );
    expect(errors).toBeUndefined();
    const nodes = data!.contentPages.edges.map((e: any) => e.node);
    const featured = nodes.flatMap((n: any) => n.featuredProducts);
    const inBlocks = nodes.flatMap((n: any) => n.body.filter((b: any) => b.product));
    expect(featured.length).toBeGreaterThanOrEqual(5);
    expect(inBlocks.length).toBeGreaterThanOrEqual(1);
    for (const product of [...featured, ...inBlocks.map((b: any) => b.product)]) expect(product.name).toBeTruthy();
    // One Saleor entity fetch per place products appear in the query (featured, blocks).
    expect(batchCounts.products - before).toBeLessThanOrEqual(2);
  });

  it('the admin sees drafts, revisions and authors (resolved by the auth subgraph)', async () => {
    const token = await login(url, 'viewer@acme.example');
    const { data, errors } = await gql(
      url,
      `{ contentPage(path: "/blog/hello-world") { title status hasUnpublishedChanges author { email name }
         revisions(first: 5) { edges { node { number isLive createdBy { email } } } } } }`,
      {},
      bearer(token),
    );
    expect(errors).toBeUndefined();
    expect(data!.contentPage).toMatchObject({
      title: 'Hello, world (draft edit)',
      status: 'PUBLISHED',
      hasUnpublishedChanges: true,
      author: { email: 'owner@acme.example', name: 'Ada Owner' },
    });
    expect(data!.contentPage.revisions.edges.map((e: any) => [e.node.number, e.node.isLive, e.node.createdBy.email])).toEqual([
      [2, false, 'owner@acme.example'],
      [1, true, 'owner@acme.example'],
    ]);
  });

  it('anonymous callers get UNAUTHENTICATED for drafts through the gateway, and a globex token sees only globex pages', async () => {
    const anonymous = await gql(url, '{ contentPages(first: 5) { totalCount } }');
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const token = await login(url, 'owner@globex.example');
    const { data } = await gql(url, '{ contentPages(first: 50) { edges { node { urlPath title } } } }', {}, bearer(token));
    expect(data!.contentPages.edges.map((e: any) => e.node.title).sort()).toEqual(['Careers at Globex', 'Globex Corporation']);
  });
});
