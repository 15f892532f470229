import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNTS, DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import { bearer, gql } from './support/graphql.ts';
import { startSupergraph, type RunningSupergraph } from './support/stack.ts';

// Tenant isolation of the CRM (GraphQL, response cache, `_entities`, assignedLeads), the
// atomicity of convertLead, and the cost of a page in SQL statements.

let stack: RunningSupergraph;
let url: string;
let acmeToken: string;
let globexToken: string;
let statements: string[] = [];
const acme = DEMO_TENANTS[0].id;
const accountId = (email: string) => DEMO_ACCOUNTS.find((a) => a.email === email)!.id;
const call = (token: string, query: string, variables: Record<string, unknown> = {}) => gql(url, query, variables, bearer(token));

/** Rows of the acme tenant, read directly (RLS as acme). */
const acmeRows = (sql: string, params: unknown[] = []) =>
  stack.backends.db.withTenant({ tenantId: acme, accountId: null }, async (tx) => (await tx.query(sql, params)).rows);

let acmeIds: { leads: string[]; contact: string; deal: string; activity: string; stage: string };

beforeAll(async () => {
  stack = await startSupergraph();
  url = stack.graphql;
  // Only the statements of the subgraphs a CRM request reaches (the CMS subgraph, in the same
  // process, runs a background scheduler whose statements would land in the count at random).
  stack.backends.db.onStatement((text) => {
    if (/\b(crm|auth)\./.test(text)) statements.push(text);
  });
  acmeToken = await stack.login('owner@acme.example');
  globexToken = await stack.login('owner@globex.example');
  const { data } = await call(
    acmeToken,
    `{ leads(first: 100) { edges { node { id } } } contacts(first: 1) { edges { node { id } } } deals(first: 1) { edges { node { id } } }
       activities(first: 1) { edges { node { id } } } pipeline { stages { stage { id } } } }`,
  );
  acmeIds = {
    leads: data!.leads.edges.map((e: any) => e.node.id),
    contact: data!.contacts.edges[0].node.id,
    deal: data!.deals.edges[0].node.id,
    activity: data!.activities.edges[0].node.id,
    stage: data!.pipeline.stages[0].stage.id,
  };
});
afterAll(() => stack?.close());

describe('a globex token never sees acme CRM data', () => {
  it('through GraphQL: lists, by-id reads and search', async () => {
    const { data } = await call(globexToken, '{ leads(first: 100) { totalCount edges { node { id email } } } contacts(first: 100) { totalCount } deals(first: 100) { totalCount edges { node { products { channel } } } } }');
    expect(data!.leads.totalCount).toBe(150);
    // Both tenants have rows, so the checks below separate something (an empty list would pass them).
    expect(acmeIds.leads.length).toBeGreaterThan(0);
    const globexLeads = data!.leads.edges.map((e: any) => e.node.id);
    expect(globexLeads).toHaveLength(100);
    expect(globexLeads.filter((id: string) => acmeIds.leads.includes(id))).toEqual([]);
    const channels = data!.deals.edges.flatMap((e: any) => e.node.products.map((p: any) => p.channel));
    expect(channels.length).toBeGreaterThan(0);
    expect(new Set(channels)).toEqual(new Set(['globex-channel']));
    for (const [field, id] of [['lead', acmeIds.leads[0]], ['contact', acmeIds.contact], ['deal', acmeIds.deal], ['activity', acmeIds.activity]] as const) {
      const result = await call(globexToken, `query($id: ID!) { ${field}(id: $id) { id } }`, { id });
      expect(result.data?.[field] ?? null, field).toBeNull();
      expect(result.errors?.[0]?.extensions?.code, field).toBe('NOT_FOUND');
    }
    await call(acmeToken, 'mutation { createLead(input: { name: "Ottoline Acmeonly", email: "ottoline@acme-secret.example" }) { errors { code } } }');
    const SEARCH = 'query($s: String) { leads(filter: { search: $s }) { totalCount } }';
    expect((await call(acmeToken, SEARCH, { s: 'ottoline' })).data!.leads.totalCount).toBe(1);
    expect((await call(globexToken, SEARCH, { s: 'ottoline' })).data!.leads.totalCount).toBe(0);
    expect((await call(globexToken, SEARCH, { s: 'acme-secret' })).data!.leads.totalCount).toBe(0);
  });

  it('through the response cache: the same query gives each tenant its own answer, repeats come from Redis', async () => {
    const QUERY = '{ leads(first: 5) { totalCount edges { node { id } } } pipeline { dealCount } }';
    const acmeFirst = await call(acmeToken, QUERY);
    const globexFirst = await call(globexToken, QUERY);
    expect(acmeFirst.data!.leads.totalCount).not.toBe(globexFirst.data!.leads.totalCount);
    expect(acmeFirst.data!.leads.edges).toHaveLength(5);
    expect(globexFirst.data!.leads.edges).toHaveLength(5);
    statements = [];
    const acmeAgain = await call(acmeToken, QUERY);
    const globexAgain = await call(globexToken, QUERY);
    expect(statements).toEqual([]); // both answered from the cache
    expect(acmeAgain.data).toEqual(acmeFirst.data);
    expect(globexAgain.data).toEqual(globexFirst.data);
    expect(globexAgain.data!.leads.edges.some((e: any) => acmeIds.leads.includes(e.node.id))).toBe(false);
    // A write is visible at once to its tenant (the generation bump), the other tenant unchanged.
    await call(acmeToken, 'mutation { createLead(input: { name: "Cache Buster" }) { errors { code } } }');
    expect((await call(acmeToken, QUERY)).data!.leads.totalCount).toBe(acmeFirst.data!.leads.totalCount + 1);
    expect((await call(globexToken, QUERY)).data!.leads.totalCount).toBe(globexFirst.data!.leads.totalCount);
  });

  it('through _entities on the CRM subgraph itself', async () => {
    const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) {
      ... on Lead { id name } ... on Contact { id name } ... on Deal { id title } ... on Activity { id subject }
      ... on PipelineStage { id name } ... on Account { id assignedLeads(first: 100) { totalCount edges { node { id } } } } } }`;
    const representations = [
      { __typename: 'Lead', id: acmeIds.leads[0] },
      { __typename: 'Contact', id: acmeIds.contact },
      { __typename: 'Deal', id: acmeIds.deal },
      { __typename: 'Activity', id: acmeIds.activity },
      { __typename: 'PipelineStage', id: acmeIds.stage },
      { __typename: 'Lead', id: 'not-a-uuid' },
    ];
    const crm = stack.urls.crm!;
    const asGlobex = await gql(crm, ENTITIES, { r: representations }, bearer(globexToken));
    expect(asGlobex.errors).toBeUndefined();
    expect(asGlobex.data!._entities).toEqual([null, null, null, null, null, null]);
    const asAcme = await gql(crm, ENTITIES, { r: representations }, bearer(acmeToken));
    expect(asAcme.data!._entities.slice(0, 5).map((e: any) => e?.id)).toEqual(representations.slice(0, 5).map((r) => r.id));
    // An acme account's leads, asked for with a globex token: none.
    const account = [{ __typename: 'Account', id: accountId('owner@acme.example') }];
    const foreignAccount = await gql(crm, ENTITIES, { r: account }, bearer(globexToken));
    expect(foreignAccount.data!._entities[0].assignedLeads).toEqual({ totalCount: 0, edges: [] });
    const ownAccount = await gql(crm, ENTITIES, { r: account }, bearer(acmeToken));
    expect(ownAccount.data!._entities[0].assignedLeads.totalCount).toBeGreaterThan(0);
    // No token: nothing at all.
    const anonymous = await gql(crm, ENTITIES, { r: representations.slice(0, 1) });
    expect(anonymous.data?._entities?.[0] ?? null).toBeNull();
  });

  it('through Account.assignedLeads: only the token tenant leads', async () => {
    const ASSIGNED = '{ viewer { account { id assignedLeads(first: 50) { totalCount edges { node { id owner { id } } } } } } }';
    const result = await call(globexToken, ASSIGNED);
    expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
    const globex = result.data!.viewer.account;
    expect(globex.id).toBe(accountId('owner@globex.example'));
    expect(globex.assignedLeads.totalCount).toBeGreaterThan(0);
    // Rows on both sides, so the checks below separate something (an empty list would pass them).
    expect(globex.assignedLeads.edges.length).toBeGreaterThan(0);
    expect(acmeIds.leads.length).toBeGreaterThan(0);
    expect(globex.assignedLeads.edges.every((e: any) => e.node.owner.id === globex.id)).toBe(true);
    expect(globex.assignedLeads.edges.some((e: any) => acmeIds.leads.includes(e.node.id))).toBe(false);
  });

  it('cannot write to acme rows or attach globex rows to acme ones', async () => {
    const update = await call(globexToken, 'mutation($id: ID!) { updateLead(id: $id, input: { name: "pwned" }) { lead { id } errors { field code } } }', { id: acmeIds.leads[0] });
    expect(update.data!.updateLead).toEqual({ lead: null, errors: [{ field: 'id', code: 'NOT_FOUND' }] });
    const move = await call(globexToken, 'mutation($id: ID!, $s: ID!) { moveDeal(id: $id, stageId: $s) { errors { field code } } }', { id: acmeIds.deal, s: acmeIds.stage });
    expect(move.data!.moveDeal.errors[0]).toEqual({ field: 'id', code: 'NOT_FOUND' });
    const activity = await call(globexToken, 'mutation($d: ID!) { logActivity(input: { type: NOTE, subject: "x", dealId: $d }) { errors { field code } } }', { d: acmeIds.deal });
    expect(activity.data!.logActivity.errors[0]).toEqual({ field: 'dealId', code: 'NOT_FOUND' });
    const [row] = await acmeRows('SELECT name FROM crm.leads WHERE id = $1', [acmeIds.leads[0]]);
    expect(row.name).not.toBe('pwned');
  });
});

describe('convertLead is atomic', () => {
  const CONVERT = `mutation($id: ID!, $i: ConvertLeadInput) { convertLead(id: $id, input: $i) { lead { status } contact { id } deal { id } errors { field code message } } }`;
  const counts = async (leadId: string) => {
    const [row] = await acmeRows(
      `SELECT (SELECT count(*)::int FROM crm.contacts) AS contacts, (SELECT count(*)::int FROM crm.deals) AS deals,
         (SELECT count(*)::int FROM crm.deal_products) AS products,
         (SELECT count(*)::int FROM crm.contacts WHERE lead_id = $1) AS lead_contacts,
         (SELECT status FROM crm.leads WHERE id = $1) AS status, (SELECT converted_at FROM crm.leads WHERE id = $1) AS converted_at`,
      [leadId],
    );
    return row;
  };

  it('a deal failing after the contact is written (stage of another tenant) leaves nothing behind', async () => {
    const leadId = (await call(acmeToken, 'mutation { createLead(input: { name: "Half Way", email: "half@way.example" }) { lead { id } } }')).data!.createLead.lead.id;
    const before = await counts(leadId);
    const globexStage = (await call(globexToken, '{ pipeline { stages { stage { id } } } }')).data!.pipeline.stages[0].stage.id;
    statements = [];
    const failed = await call(acmeToken, CONVERT, {
      id: leadId,
      i: { deal: { amount: 100, stageId: globexStage, products: [{ productId: Buffer.from('Product:1').toString('base64') }] } },
    });
    expect(failed.errors).toBeUndefined();
    expect(failed.data!.convertLead).toEqual({
      lead: null,
      contact: null,
      deal: null,
      errors: [{ field: 'deal.stageId', code: 'NOT_FOUND', message: 'No such pipeline stage.' }],
    });
    // The contact insert did run before the deal failed: the transaction rolled it back.
    expect(statements.some((s) => s.includes('INSERT INTO crm.contacts'))).toBe(true);
    expect(statements.some((s) => s.includes('INSERT INTO crm.deals'))).toBe(true);
    expect(await counts(leadId)).toEqual(before);
    expect(before).toMatchObject({ lead_contacts: 0, status: 'new', converted_at: null });

    // An unknown stage fails the same way; then a good one goes through, once.
    const unknown = await call(acmeToken, CONVERT, { id: leadId, i: { deal: { stageId: '00000000-0000-4000-8000-000000000009' } } });
    expect(unknown.data!.convertLead.errors[0]).toMatchObject({ field: 'deal.stageId', code: 'NOT_FOUND' });
    expect(await counts(leadId)).toEqual(before);
    const good = await call(acmeToken, CONVERT, { id: leadId, i: { deal: { amount: 100 } } });
    expect(good.data!.convertLead).toMatchObject({ lead: { status: 'CONVERTED' }, errors: [] });
    const after = await counts(leadId);
    expect(after).toMatchObject({ contacts: before.contacts + 1, deals: before.deals + 1, lead_contacts: 1, status: 'converted' });
  });

  it('an owner of another tenant fails the whole conversion too', async () => {
    const leadId = (await call(acmeToken, 'mutation { createLead(input: { name: "Wrong Owner" }) { lead { id } } }')).data!.createLead.lead.id;
    const before = await counts(leadId);
    const failed = await call(acmeToken, CONVERT, { id: leadId, i: { ownerId: accountId('owner@globex.example'), deal: {} } });
    expect(failed.data!.convertLead.errors[0]).toMatchObject({ field: 'ownerId', code: 'NOT_FOUND' });
    expect(await counts(leadId)).toEqual(before);
  });
});

describe('batching: a page costs a constant number of SQL statements', () => {
  const LEADS = `query($first: Int) { leads(first: $first) { edges { node { id name owner { email name }
    activities(first: 3) { totalCount edges { node { subject account { email } } } }
    convertedContact { name } convertedDeal { title stage { name } contact { name } products { id name } } } } } }`;
  const DEALS = `query($first: Int) { deals(first: $first) { edges { node { title owner { email } stage { name } contact { name lead { name } }
    products { name } activities(first: 2) { edges { node { subject } } } } } } }`;

  async function cost(query: string, first: number, field: 'leads' | 'deals') {
    // Fresh cache generations in every subgraph, so no part of the plan is answered from a cache.
    for (const server of Object.values(stack.servers)) await server.generations.bump(acme);
    statements = [];
    const result = await call(acmeToken, query, { first });
    expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
    const nodes = result.data![field].edges.map((e: any) => e.node);
    expect(nodes).toHaveLength(first);
    return { count: statements.length, nodes, statements: statements.map((t) => t.replace(/\s+/g, ' ').slice(0, 90)) };
  }

  it('10 or 100 leads with owners, activities, converted deals and their Saleor products', async () => {
    const small = await cost(LEADS, 10, 'leads');
    const large = await cost(LEADS, 100, 'leads');
    expect(large.count, JSON.stringify([small.statements, large.statements], null, 1)).toBe(small.count);
    // Every path is exercised already on the small page.
    expect(small.nodes.some((n: any) => n.owner?.email)).toBe(true);
    expect(small.nodes.some((n: any) => n.activities.edges.length > 0)).toBe(true);
    expect(small.nodes.some((n: any) => n.convertedDeal?.products.length > 0 && n.convertedDeal.products[0].name)).toBe(true);
    // leads, activities, contact of lead, deal of lead, stages, contacts, deal products (crm),
    // accounts (auth, one per entity fetch of Account).
    expect(small.count).toBeLessThanOrEqual(10);
  });

  it('10 or 100 deals with owners, stages, contacts, products and activities', async () => {
    const small = await cost(DEALS, 10, 'deals');
    const large = await cost(DEALS, 100, 'deals');
    expect(small.nodes.some((n: any) => n.products.length > 0)).toBe(true);
    expect(large.count, JSON.stringify([small.statements, large.statements], null, 1)).toBe(small.count);
    expect(small.count).toBeLessThanOrEqual(8);
  });

  it('N Lead and Account entity references cost the same, whatever N is', async () => {
    const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Lead { id owner { id } activities(first: 1) { totalCount } }
      ... on Account { assignedLeads(first: 2) { totalCount } } } }`;
    const counts: number[] = [];
    for (const n of [1, 20, 100]) {
      const representations = [
        ...acmeIds.leads.slice(0, n).map((id) => ({ __typename: 'Lead', id })),
        ...DEMO_ACCOUNTS.filter((a) => a.tenant === 'acme').map((a) => ({ __typename: 'Account', id: a.id })),
      ];
      statements = [];
      const result = await gql(stack.urls.crm!, ENTITIES, { r: representations }, bearer(acmeToken));
      expect(result.data!._entities.filter((e: any) => e?.id)).toHaveLength(n);
      counts.push(statements.length);
    }
    expect(counts).toEqual([3, 3, 3]);
  });
});
