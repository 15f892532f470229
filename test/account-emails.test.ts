import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNTS, DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import { bearer, gql } from './support/graphql.ts';
import { startSupergraph, type RunningSupergraph } from './support/stack.ts';

// crm and cms hand out the email of the accounts their rows refer to (`owner: Account
// @provides(fields: "email")`, kit/accounts.ts): `owner { email }` costs no request to auth, and
// auth.accounts' row-level security decides what they may show, as it does for auth.

let stack: RunningSupergraph;
let token: string;
const emailOf = new Map(DEMO_ACCOUNTS.map((a) => [a.id, a.email]));
const nameOf = new Map(DEMO_ACCOUNTS.map((a) => [a.id, a.name]));
const acme = DEMO_TENANTS[0].id;
const globexOwner = DEMO_ACCOUNTS.find((a) => a.email === 'owner@globex.example')!;

/** Fetches the gateway has sent to auth, by its /metrics. */
async function authFetches(): Promise<number> {
  const text = await (await fetch(`${stack.base}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('gateway_subgraph_fetch_duration_seconds_count{subgraph="auth"'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

const nodes = (connection: { edges: { node: any }[] }) => connection.edges.map((e) => e.node);

beforeAll(async () => {
  stack = await startSupergraph();
  token = await stack.login('owner@acme.example');
});
afterAll(() => stack?.close());

describe('owner and author emails (@provides)', () => {
  // Two operations: one would pass the gateway's query cost limit.
  const CRM_REFERENCES = `{
    leads(first: 50) { edges { node { owner { id email } } } }
    contacts(first: 20) { edges { node { owner { id email } } } }
    deals(first: 20) { edges { node { owner { id email } } } }
    activities(first: 20) { edges { node { account { id email } } } }
    leadForms(first: 5) { edges { node { owner { id email } } } }
  }`;
  const CMS_REFERENCES = '{ contentPages(first: 10) { edges { node { author { id email } revisions(first: 3) { edges { node { createdBy { id email } } } } } } } }';

  it('every owner, account, author and revision creator carries the email auth holds for it, and auth is not asked', async () => {
    const before = await authFetches();
    const crm = await gql(stack.graphql, CRM_REFERENCES, {}, bearer(token));
    const cms = await gql(stack.graphql, CMS_REFERENCES, {}, bearer(token));
    expect(crm.errors).toBeUndefined();
    expect(cms.errors).toBeUndefined();
    const data = { ...crm.data, ...cms.data };
    expect(await authFetches()).toBe(before);
    const references = [
      ...nodes(data!.leads).map((n) => n.owner),
      ...nodes(data!.contacts).map((n) => n.owner),
      ...nodes(data!.deals).map((n) => n.owner),
      ...nodes(data!.activities).map((n) => n.account),
      ...nodes(data!.leadForms).map((n) => n.owner),
      ...nodes(data!.contentPages).flatMap((n) => [n.author, ...nodes(n.revisions).map((r) => r.createdBy)]),
    ].filter(Boolean);
    // Each kind is present, so the check below covers every resolver (an empty list would pass it).
    for (const kind of ['leads', 'contacts', 'deals', 'activities', 'contentPages'] as const) {
      const field = kind === 'activities' ? 'account' : kind === 'contentPages' ? 'author' : 'owner';
      expect(nodes(data![kind]).some((n) => n[field]), kind).toBe(true);
    }
    expect(references.length).toBeGreaterThan(50);
    for (const account of references) expect(account.email).toBe(emailOf.get(account.id));
  });

  it('a leads page and a content page read their owners\' and author\'s emails in their own statement', async () => {
    // Fresh generations: nothing answered from a cache.
    for (const server of Object.values(stack.servers)) await server.generations.bump(acme);
    const statements: string[] = [];
    const stop = stack.backends.db.onStatement((text) => {
      if (/\b(crm|cms|auth)\./.test(text)) statements.push(text);
    });
    try {
      const leads = await gql(stack.graphql, '{ leads(first: 40) { edges { node { name owner { email } } } } }', {}, bearer(token));
      expect(leads.errors).toBeUndefined();
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatch(/crm\.leads/);
      expect(statements[0]).toMatch(/auth\.account_emails/);
      const owners = nodes(leads.data!.leads).map((n) => n.owner).filter(Boolean);
      expect(owners.length).toBeGreaterThan(0);
      for (const owner of owners) expect(DEMO_ACCOUNTS.map((a) => a.email)).toContain(owner.email);
      statements.length = 0;
      const page = await gql(stack.graphql, '{ contentPage(path: "/home") { author { id email } } }', {}, bearer(token));
      expect(page.errors).toBeUndefined();
      expect(statements).toHaveLength(1);
      expect(page.data!.contentPage.author.email).toBe(emailOf.get(page.data!.contentPage.author.id));
    } finally {
      stop();
    }
  });

  it('a field only auth has still comes from auth, next to the provided email', async () => {
    const before = await authFetches();
    const { data, errors } = await gql(stack.graphql, '{ leads(first: 30) { edges { node { owner { id email name } } } } }', {}, bearer(token));
    expect(errors).toBeUndefined();
    expect(await authFetches()).toBeGreaterThan(before);
    const owners = nodes(data!.leads).map((n) => n.owner).filter(Boolean);
    expect(owners.length).toBeGreaterThan(0);
    for (const owner of owners) expect(owner).toEqual({ id: owner.id, email: emailOf.get(owner.id), name: nameOf.get(owner.id) });
  });

  it('a row referring to an account outside the tenant shows no email: the author is null, as auth would answer', async () => {
    const cms = stack.backends.deps('cms');
    const page = await cms.db.withTenant({ tenantId: acme, accountId: null }, async (tx) => (await tx.query<{ id: string; author_id: string; url_path: string }>('SELECT id, author_id, url_path FROM cms.pages WHERE author_id IS NOT NULL LIMIT 1')).rows[0]!);
    const setAuthor = (authorId: string) =>
      cms.asOwner((tx) => tx.query('UPDATE cms.pages SET author_id = $1 WHERE tenant_id = $2 AND id = $3', [authorId, acme, page.id]));
    await setAuthor(globexOwner.id);
    try {
      // Selections not asked before in this file: no cached answer of the page can serve them.
      const { data, errors } = await gql(stack.graphql, 'query ($id: ID!) { contentPage(id: $id) { id author { email } } }', { id: page.id }, bearer(token));
      expect(errors).toBeUndefined();
      expect(data!.contentPage).toEqual({ id: page.id, author: null });
      const withName = await gql(stack.graphql, 'query ($id: ID!) { contentPage(id: $id) { author { email name } } }', { id: page.id }, bearer(token));
      expect(withName.data!.contentPage.author).toBeNull();
      expect(JSON.stringify(withName)).not.toContain(globexOwner.email);
      // The reference alone is the row's own data, as before: the id it holds.
      const reference = await gql(stack.graphql, 'query ($id: ID!) { contentPage(id: $id) { author { id } } }', { id: page.id }, bearer(token));
      expect(reference.data!.contentPage.author).toEqual({ id: globexOwner.id });
      // The same through the page's own read (by path: the email in its statement).
      const byPath = await gql(stack.graphql, 'query ($path: String!) { contentPage(path: $path) { urlPath author { email } } }', { path: page.url_path }, bearer(token));
      expect(byPath.errors).toBeUndefined();
      expect(byPath.data!.contentPage).toEqual({ urlPath: page.url_path, author: null });
    } finally {
      await setAuthor(page.author_id);
    }
  });
});
