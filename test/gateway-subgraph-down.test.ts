import { readFileSync } from 'node:fs';
import { buildASTSchema, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoPath } from '../subgraphs/kit/paths.ts';
import { bearer, gql } from './support/graphql.ts';
import { nullabilityProblems } from './support/nullability.ts';
import { rest } from './support/rest.ts';
import { startSupergraph, type RunningSupergraph } from './support/stack.ts';

/*
 * Issue 15: a subgraph that is down costs its own fields, never the other subgraphs' data
 * (ARCHITECTURE.md, "Nullability across subgraphs"). First the rule itself, checked on the
 * composed supergraph; then the real subgraphs behind gateways that have one of them at a dead
 * address.
 */

// --- The rule, on the composed supergraph ---------------------------------------------------------

describe('the nullability rule (ARCHITECTURE.md, Nullability across subgraphs)', () => {
  it('holds in the composed supergraph: nullable roots, and no non-null position holding another subgraph’s fields', () => {
    const supergraph = buildASTSchema(parse(readFileSync(repoPath('schema/supergraph.graphql'), 'utf8')));
    expect(Object.keys(supergraph.getQueryType()!.getFields()).length).toBeGreaterThan(20);
    expect(nullabilityProblems(supergraph)).toEqual([]);
  });

  it('catches a non-null root, a non-null extension field and a non-null reference (the checker itself works)', () => {
    const graphs = `
      directive @join__type(graph: join__Graph!, key: String, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE
      directive @join__field(graph: join__Graph, external: Boolean) repeatable on FIELD_DEFINITION
      enum join__Graph { A B }`;
    const broken = buildASTSchema(
      parse(`${graphs}
        type Query @join__type(graph: A) @join__type(graph: B) {
          people: [Person!]! @join__field(graph: A)
          person: Person @join__field(graph: A)
        }
        type Person @join__type(graph: A, key: "id") @join__type(graph: B, key: "id") {
          id: ID!
          name: String! @join__field(graph: A)
          orders: OrderList! @join__field(graph: B)
          best: Order @join__field(graph: A)
          first: Order! @join__field(graph: A)
          all: [Order!]! @join__field(graph: A)
          some: [Order]! @join__field(graph: A)
        }
        type Order @join__type(graph: A, key: "id", resolvable: false) @join__type(graph: B, key: "id") {
          id: ID!
          total: Int! @join__field(graph: B)
        }
        type OrderList @join__type(graph: B) { items: [Order!]! }`),
    );
    expect(nullabilityProblems(broken)).toEqual([
      'Person.all (A) (its items): non-null, but another subgraph resolves Order.total',
      'Person.first (A): non-null, but another subgraph resolves Order.total',
      'Query.people (A) (its items): non-null, but another subgraph resolves Person.orders',
      'Query.people: a root field must be nullable',
    ]);
  });
});

// --- The real subgraphs, one of them unreachable ----------------------------------------------------

/** Nothing listens on the discard port: connections are refused at once. */
const DEAD = 'http://127.0.0.1:9/graphql';
const OWNER = 'owner@acme.example';

/** One root field of each subgraph, each planned as one fetch of its own. */
const ACROSS = `{
  viewer { account { email } }
  leads(first: 5) { totalCount edges { node { id name } } }
  contentPages(first: 3) { totalCount edges { node { id title } } }
  products(first: 3, channel: "acme-channel") { totalCount edges { node { name } } }
  charts(first: 3) { totalCount edges { node { id name } } }
}`;
const ROOT_OF: Record<string, string> = { auth: 'viewer', crm: 'leads', cms: 'contentPages', saleor: 'products', bi: 'charts' };

let stack: RunningSupergraph;
let token: string;
let baseline: Record<string, any>;

beforeAll(async () => {
  stack = await startSupergraph();
  token = await stack.token(OWNER);
  const all = await gql(stack.graphql, ACROSS, {}, bearer(token));
  expect(all.errors).toBeUndefined();
  baseline = all.data!;
});
afterAll(() => stack?.close());

/** Runs `body` against a gateway over the same subgraphs, with `down` at a dead address. */
async function withDown<T>(down: string, body: (url: string, base: string) => Promise<T>): Promise<T> {
  const { gateway, base } = await stack.startGateway({ subgraphUrls: { ...stack.urls, [down]: DEAD } });
  try {
    return await body(`${base}/graphql`, base);
  } finally {
    await gateway.close();
  }
}

/** The one error a client gets for `service`: who is down, no address, no cause. */
const unavailable = (service: string) => ({
  message: `The ${service} service is unavailable.`,
  extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: service },
});
const withoutPath = (errors: { path?: unknown }[] | undefined) => errors?.map(({ path: _path, ...rest }) => rest);

describe('a subgraph down costs its own fields only', () => {
  it('the baseline: every subgraph answers the query across them', () => {
    expect(baseline.viewer.account.email).toBe(OWNER);
    for (const root of ['leads', 'contentPages', 'products', 'charts']) expect(baseline[root].edges.length, root).toBeGreaterThan(0);
  });

  it.each(Object.keys(ROOT_OF))('%s down: every other subgraph’s data, its own root null, exactly one error naming it', async (down) => {
    await withDown(down, async (url) => {
      const result = await gql(url, ACROSS, {}, bearer(token));
      expect(result.status).toBe(200);
      expect(result.data).toEqual({ ...baseline, [ROOT_OF[down]!]: null });
      expect(withoutPath(result.errors)).toEqual([unavailable(down)]);
      expect(JSON.stringify(result.errors)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
    });
  });

  it('the tester’s query: crm down, Saleor’s products still come back', async () => {
    await withDown('crm', async (url) => {
      const query = '{ leads(first: 5) { edges { node { id } } } products(first: 3, channel: "acme-channel") { edges { node { name } } } }';
      const result = await gql(url, query, {}, bearer(token));
      expect(result.data).toEqual({ leads: null, products: { edges: baseline.products.edges } });
      expect(withoutPath(result.errors)).toEqual([unavailable('crm')]);
    });
  });

  it('auth down: the leads come back, each owner null (Lead.owner), and one error', async () => {
    const query = '{ leads(first: 8) { edges { node { id owner { name } } } } }';
    const up = await gql(stack.graphql, query, {}, bearer(token));
    expect(up.errors).toBeUndefined();
    const leads = up.data!.leads.edges.map((e: any) => e.node);
    expect(leads.filter((l: any) => l.owner).length).toBeGreaterThan(0);
    await withDown('auth', async (url) => {
      const result = await gql(url, query, {}, bearer(token));
      expect(result.data!.leads.edges.map((e: any) => e.node)).toEqual(leads.map((l: any) => ({ id: l.id, owner: null })));
      expect(withoutPath(result.errors)).toEqual([unavailable('auth')]);
    });
  });

  it('auth down: owner and author emails still come back (crm and cms provide them)', async () => {
    const query = `{ leads(first: 8) { edges { node { id owner { email } } } }
      contentPages(first: 5) { edges { node { id author { email } } } } }`;
    const up = await gql(stack.graphql, query, {}, bearer(token));
    expect(up.errors).toBeUndefined();
    expect(up.data!.leads.edges.some((e: any) => e.node.owner?.email === OWNER)).toBe(true);
    expect(up.data!.contentPages.edges.some((e: any) => e.node.author?.email)).toBe(true);
    await withDown('auth', async (url) => {
      const result = await gql(url, query, {}, bearer(token));
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual(up.data);
    });
  });

  it('auth down: content pages come back with author null (ContentPage.author)', async () => {
    const query = '{ contentPages(first: 5) { edges { node { id title author { name } } } } }';
    const up = await gql(stack.graphql, query, {}, bearer(token));
    expect(up.errors).toBeUndefined();
    const pages = up.data!.contentPages.edges.map((e: any) => e.node);
    expect(pages.some((p: any) => p.author)).toBe(true);
    await withDown('auth', async (url) => {
      const result = await gql(url, query, {}, bearer(token));
      expect(result.data!.contentPages.edges.map((e: any) => e.node)).toEqual(pages.map((p: any) => ({ ...p, author: null })));
      expect(withoutPath(result.errors)).toEqual([unavailable('auth')]);
    });
  });

  it('crm down: the viewer’s account comes back, assignedLeads null (Account.assignedLeads)', async () => {
    const query = '{ viewer { account { email assignedLeads(first: 2) { totalCount } } } }';
    const up = await gql(stack.graphql, query, {}, bearer(token));
    expect(up.errors).toBeUndefined();
    expect(up.data!.viewer.account.assignedLeads.totalCount).toBeGreaterThan(0);
    await withDown('crm', async (url) => {
      const result = await gql(url, query, {}, bearer(token));
      expect(result.data).toEqual({ viewer: { account: { email: OWNER, assignedLeads: null } } });
      expect(withoutPath(result.errors)).toEqual([unavailable('crm')]);
    });
  });

  it('saleor down: deals and pages come back, each Saleor product null in its place (Deal.products, ContentPage.featuredProducts)', async () => {
    const deals = '{ deals(first: 5) { edges { node { id title products { name } } } } }';
    const pages = '{ contentPages(first: 20) { edges { node { id title featuredProducts { name } } } } }';
    const upDeals = await gql(stack.graphql, deals, {}, bearer(token));
    const upPages = await gql(stack.graphql, pages, {}, bearer(token));
    expect(upDeals.errors).toBeUndefined();
    expect(upPages.errors).toBeUndefined();
    const nullProducts = (node: any, field: string) => ({ ...node, [field]: node[field].map(() => null) });
    const dealNodes = upDeals.data!.deals.edges.map((e: any) => e.node);
    const pageNodes = upPages.data!.contentPages.edges.map((e: any) => e.node);
    expect(dealNodes.every((d: any) => d.products.length > 0 && d.products.every((p: any) => p?.name))).toBe(true);
    expect(pageNodes.some((p: any) => p.featuredProducts.length > 0)).toBe(true);
    await withDown('saleor', async (url) => {
      const dealsDown = await gql(url, deals, {}, bearer(token));
      expect(dealsDown.data!.deals.edges.map((e: any) => e.node)).toEqual(dealNodes.map((d: any) => nullProducts(d, 'products')));
      expect(withoutPath(dealsDown.errors)).toEqual([unavailable('saleor')]);
      const pagesDown = await gql(url, pages, {}, bearer(token));
      expect(pagesDown.data!.contentPages.edges.map((e: any) => e.node)).toEqual(pageNodes.map((p: any) => nullProducts(p, 'featuredProducts')));
      expect(withoutPath(pagesDown.errors)).toEqual([unavailable('saleor')]);
    });
  });

  it('the REST shim keeps its legacy answers: a 503 for the paths of the subgraph that is down, the others served', async () => {
    await withDown('crm', async (_url, base) => {
      const leads = await rest(`${base}/api/brain/django-crm/leads?page_size=2`, { token });
      expect(leads).toMatchObject({ status: 503, body: { detail: 'Service temporarily unavailable, try again later.' } });
      const products = await rest(`${base}/api/brain/saleor/products?page_size=2&channel=acme-channel`);
      expect(products.status).toBe(200);
      expect(products.body.results).toHaveLength(2);
    });
  });
});
