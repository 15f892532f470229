import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUBGRAPHS_PROVIDING_EMAILS } from '../subgraphs/kit/accounts.ts';
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

  it('bi and agents hand out their owners\' emails too, without auth', async () => {
    const before = await authFetches();
    const { data, errors } = await gql(
      stack.graphql,
      '{ charts(first: 5) { edges { node { owner { id email } } } } dashboards(first: 5) { edges { node { owner { id email } } } } agents(first: 5) { edges { node { owner { id email } } } } }',
      {},
      bearer(token),
    );
    expect(errors).toBeUndefined();
    expect(await authFetches()).toBe(before);
    for (const list of ['charts', 'dashboards', 'agents'] as const) {
      const owners = nodes(data![list]).map((n) => n.owner).filter(Boolean);
      expect(owners.length, list).toBeGreaterThan(0);
      for (const owner of owners) expect(owner.email, list).toBe(emailOf.get(owner.id));
    }
  });

  it('the view shows emails to a signed-in caller only: a transaction with a tenant and no account (a share link\'s, a public site\'s) sees none', async () => {
    const count = (accountId: string | null) =>
      stack.backends.db.withTenant({ tenantId: acme, accountId }, async (tx) => Number((await tx.query<{ n: string }>('SELECT count(*) AS n FROM auth.account_emails')).rows[0]!.n));
    expect(await count(DEMO_ACCOUNTS[1]!.id)).toBe(DEMO_ACCOUNTS.filter((a) => a.tenant === 'acme').length);
    expect(await count(null)).toBe(0);
  });

  it('names in SUBGRAPHS_PROVIDING_EMAILS exactly the schemas that provide Account.email (their caches are flushed on removeMember)', () => {
    const providing = readdirSync(new URL('../schema/', import.meta.url))
      .filter((file) => file.endsWith('.graphql') && file !== 'supergraph.graphql')
      .filter((file) => readFileSync(new URL(`../schema/${file}`, import.meta.url), 'utf8').includes('@provides(fields: "email")'))
      .map((file) => file.replace(/\.graphql$/, ''));
    expect(providing.sort()).toEqual([...SUBGRAPHS_PROVIDING_EMAILS].sort());
  });

  it('a member removed from the tenant: cached pages stop showing their email at once', async () => {
    const invited = await gql(
      stack.graphql,
      'mutation($input: InviteMemberInput!) { inviteMember(input: $input) { membership { account { id } } errors { code } } }',
      { input: { email: 'leaving@acme.example', role: 'EDITOR', name: 'Lee Leaving', password: 'correct horse battery' } },
      bearer(token),
    );
    expect(invited.data!.inviteMember.errors).toEqual([]);
    const leaving = invited.data!.inviteMember.membership.account.id;
    const lead = (await gql(stack.graphql, '{ leads(first: 1) { edges { node { id } } } }', {}, bearer(token))).data!.leads.edges[0].node.id;
    const assigned = await gql(stack.graphql, 'mutation($id: ID!, $to: ID) { assignLead(id: $id, ownerId: $to) { errors { code } } }', { id: lead, to: leaving }, bearer(token));
    expect(assigned.data!.assignLead.errors).toEqual([]);
    const page = () => gql(stack.graphql, 'query($id: ID!) { lead(id: $id) { owner { email } } }', { id: lead }, bearer(token));
    expect((await page()).data!.lead.owner).toEqual({ email: 'leaving@acme.example' });
    expect((await page()).data!.lead.owner).toEqual({ email: 'leaving@acme.example' }); // now from crm's response cache
    const removed = await gql(stack.graphql, 'mutation($id: ID!) { removeMember(accountId: $id) { removedAccountId errors { code } } }', { id: leaving }, bearer(token));
    expect(removed.data!.removeMember).toEqual({ removedAccountId: leaving, errors: [] });
    const after = await page();
    expect(after.errors).toBeUndefined();
    expect(after.data!.lead.owner).toBeNull();
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
