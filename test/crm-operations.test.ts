import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse, type ObjectTypeDefinitionNode, type TypeNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNTS, DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import { DEMO_FORM_KEYS } from '../subgraphs/crm/seed.ts';
import { APP_ROLE } from '../subgraphs/kit/db/roles.ts';
import { signToken } from './support/deps.ts';
import { bearer, gql } from './support/graphql.ts';
import { startSupergraph, type RunningSupergraph } from './support/stack.ts';

// Every CRM operation through the gateway over HTTP: anonymous, too low a role, and the role it
// needs; then the behaviour of each (validation, foreign ids, pipeline, filters, pagination).

let stack: RunningSupergraph;
let url: string;
const tokens: Record<'owner' | 'admin' | 'editor' | 'viewer' | 'globex', string> = {} as never;
const acme = DEMO_TENANTS[0].id;
const accountId = (email: string) => DEMO_ACCOUNTS.find((a) => a.email === email)!.id;

type Result = Awaited<ReturnType<typeof gql<Record<string, any>>>>;
const call = (token: string | null, query: string, variables: Record<string, unknown> = {}) =>
  gql(url, query, variables, token ? bearer(token) : {});

/** Runs a mutation as the owner and returns its payload, failing on any error. */
async function ok(query: string, variables: Record<string, unknown> = {}, token = tokens.owner) {
  const result = await call(token, query, variables);
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  const payload = Object.values(result.data!)[0] as Record<string, any>;
  if (payload && 'errors' in payload) expect(payload.errors, JSON.stringify(payload.errors)).toEqual([]);
  return payload;
}

const newLead = async (input: Record<string, unknown> = {}) =>
  (await ok('mutation($i: LeadCreateInput!) { createLead(input: $i) { lead { id } errors { code } } }', { i: { name: 'Fixture Lead', ...input } })).lead.id as string;
const newContact = async () =>
  (await ok('mutation { createContact(input: { name: "Fixture Contact" }) { contact { id } errors { code } } }')).contact.id as string;
const newDeal = async (input: Record<string, unknown> = {}) =>
  (await ok('mutation($i: DealCreateInput!) { createDeal(input: $i) { deal { id } errors { code } } }', { i: { title: 'Fixture Deal', ...input } })).deal.id as string;
const newActivity = async (leadId: string) =>
  (await ok('mutation($l: ID!) { logActivity(input: { type: CALL, subject: "Fixture call", leadId: $l }) { activity { id } errors { code } } }', { l: leadId })).activity.id as string;
let stageCounter = 0;
const newStage = async () =>
  (await ok('mutation($n: String!) { createPipelineStage(input: { name: $n }) { stage { id } errors { code } } }', { n: `Fixture stage ${++stageCounter}` })).stage.id as string;
let formCounter = 0;
const newForm = async () =>
  (await ok('mutation($n: String!) { createLeadForm(input: { name: $n }) { leadForm { id } formKey errors { code } } }', { n: `Fixture form ${++formCounter}` })).leadForm.id as string;

let fixture: { leadId: string; contactId: string; dealId: string; activityId: string; stageId: string };

beforeAll(async () => {
  stack = await startSupergraph();
  url = stack.graphql;
  tokens.owner = await stack.login('owner@acme.example');
  tokens.editor = await stack.login('editor@acme.example');
  tokens.viewer = await stack.login('viewer@acme.example');
  tokens.globex = await stack.login('owner@globex.example');
  // An admin (not owner) of acme: the role is what the rules look at.
  tokens.admin = await signToken(stack.backends.keys.privateJwk, { sub: accountId('owner@acme.example'), tid: acme, roles: ['admin'] });
  const leadId = await newLead();
  fixture = { leadId, contactId: await newContact(), dealId: await newDeal(), activityId: await newActivity(leadId), stageId: await newStage() };
});
afterAll(() => stack?.close());

type Level = 'member' | 'editor' | 'admin' | 'public';
interface Operation {
  name: string;
  level: Level;
  query: string;
  variables?: () => Promise<Record<string, unknown>> | Record<string, unknown>;
}

const E = 'errors { field code message }';
const OPERATIONS: Operation[] = [
  { name: 'leads', level: 'member', query: '{ leads(first: 2) { totalCount edges { node { id } } } }' },
  { name: 'lead', level: 'member', query: 'query($id: ID!) { lead(id: $id) { id } }', variables: () => ({ id: fixture.leadId }) },
  { name: 'contacts', level: 'member', query: '{ contacts(first: 2) { totalCount } }' },
  { name: 'contact', level: 'member', query: 'query($id: ID!) { contact(id: $id) { id } }', variables: () => ({ id: fixture.contactId }) },
  { name: 'deals', level: 'member', query: '{ deals(first: 2) { totalCount } }' },
  { name: 'deal', level: 'member', query: 'query($id: ID!) { deal(id: $id) { id } }', variables: () => ({ id: fixture.dealId }) },
  { name: 'activities', level: 'member', query: '{ activities(first: 2) { totalCount } }' },
  { name: 'activity', level: 'member', query: 'query($id: ID!) { activity(id: $id) { id } }', variables: () => ({ id: fixture.activityId }) },
  { name: 'pipeline', level: 'member', query: '{ pipeline { dealCount stages { stage { name } dealCount } } }' },
  { name: 'leadForms', level: 'admin', query: '{ leadForms(first: 5) { totalCount } }' },

  { name: 'createLead', level: 'editor', query: `mutation { createLead(input: { name: "Op Lead" }) { lead { id } ${E} } }` },
  { name: 'updateLead', level: 'editor', query: `mutation($id: ID!) { updateLead(id: $id, input: { score: 42 }) { lead { id } ${E} } }`, variables: () => ({ id: fixture.leadId }) },
  { name: 'assignLead', level: 'editor', query: `mutation($id: ID!, $o: ID) { assignLead(id: $id, ownerId: $o) { lead { id } ${E} } }`, variables: () => ({ id: fixture.leadId, o: accountId('editor@acme.example') }) },
  { name: 'convertLead', level: 'editor', query: `mutation($id: ID!) { convertLead(id: $id) { lead { id } contact { id } ${E} } }`, variables: async () => ({ id: await newLead() }) },
  { name: 'createContact', level: 'editor', query: `mutation { createContact(input: { name: "Op Contact" }) { contact { id } ${E} } }` },
  { name: 'updateContact', level: 'editor', query: `mutation($id: ID!) { updateContact(id: $id, input: { phone: "+1 555 0100" }) { contact { id } ${E} } }`, variables: () => ({ id: fixture.contactId }) },
  { name: 'createDeal', level: 'editor', query: `mutation { createDeal(input: { title: "Op Deal" }) { deal { id } ${E} } }` },
  { name: 'updateDeal', level: 'editor', query: `mutation($id: ID!) { updateDeal(id: $id, input: { amount: 10 }) { deal { id } ${E} } }`, variables: () => ({ id: fixture.dealId }) },
  { name: 'moveDeal', level: 'editor', query: `mutation($id: ID!, $s: ID!) { moveDeal(id: $id, stageId: $s) { deal { id } ${E} } }`, variables: () => ({ id: fixture.dealId, s: fixture.stageId }) },
  { name: 'logActivity', level: 'editor', query: `mutation($l: ID!) { logActivity(input: { type: NOTE, subject: "Op note", leadId: $l }) { activity { id } ${E} } }`, variables: () => ({ l: fixture.leadId }) },
  { name: 'updateActivity', level: 'editor', query: `mutation($id: ID!) { updateActivity(id: $id, input: { body: "more" }) { activity { id } ${E} } }`, variables: () => ({ id: fixture.activityId }) },
  { name: 'completeActivity', level: 'editor', query: `mutation($id: ID!) { completeActivity(id: $id) { activity { id done } ${E} } }`, variables: () => ({ id: fixture.activityId }) },

  { name: 'deleteLead', level: 'admin', query: `mutation($id: ID!) { deleteLead(id: $id) { deletedId ${E} } }`, variables: async () => ({ id: await newLead() }) },
  { name: 'deleteContact', level: 'admin', query: `mutation($id: ID!) { deleteContact(id: $id) { deletedId ${E} } }`, variables: async () => ({ id: await newContact() }) },
  { name: 'deleteDeal', level: 'admin', query: `mutation($id: ID!) { deleteDeal(id: $id) { deletedId ${E} } }`, variables: async () => ({ id: await newDeal() }) },
  { name: 'deleteActivity', level: 'admin', query: `mutation($id: ID!) { deleteActivity(id: $id) { deletedId ${E} } }`, variables: async () => ({ id: await newActivity(fixture.leadId) }) },
  { name: 'createPipelineStage', level: 'admin', query: `mutation($n: String!) { createPipelineStage(input: { name: $n }) { stage { id } ${E} } }`, variables: () => ({ n: `Op stage ${++stageCounter}` }) },
  { name: 'updatePipelineStage', level: 'admin', query: `mutation($id: ID!) { updatePipelineStage(id: $id, input: { probability: 33 }) { stage { id } ${E} } }`, variables: () => ({ id: fixture.stageId }) },
  { name: 'deletePipelineStage', level: 'admin', query: `mutation($id: ID!) { deletePipelineStage(id: $id) { deletedId ${E} } }`, variables: async () => ({ id: await newStage() }) },
  { name: 'createLeadForm', level: 'admin', query: `mutation($n: String!) { createLeadForm(input: { name: $n }) { leadForm { id } formKey ${E} } }`, variables: () => ({ n: `Op form ${++formCounter}` }) },
  { name: 'deleteLeadForm', level: 'admin', query: `mutation($id: ID!) { deleteLeadForm(id: $id) { deletedId ${E} } }`, variables: async () => ({ id: await newForm() }) },

  { name: 'submitLeadForm', level: 'public', query: `mutation($k: String!) { submitLeadForm(formKey: $k, input: { name: "Op Visitor", email: "op@visitor.example" }) { ok ${E} } }`, variables: () => ({ k: DEMO_FORM_KEYS.acme }) },
];

function expectSuccess(result: Result, name: string) {
  expect(result.errors, `${name}: ${JSON.stringify(result.errors)}`).toBeUndefined();
  const value = result.data![name];
  expect(value, name).toBeTruthy();
  if (value && typeof value === 'object' && 'errors' in value) expect(value.errors, name).toEqual([]);
}

function expectDenied(result: Result, name: string, code: 'UNAUTHENTICATED' | 'FORBIDDEN') {
  expect(result.errors?.[0]?.extensions?.code, `${name}: ${JSON.stringify(result.errors)}`).toBe(code);
  expect(result.data?.[name] ?? null, name).toBeNull();
}

describe('each CRM operation, with and without a token', () => {
  it('covers every root field of schema/crm.graphql', () => {
    const document = parse(readFileSync(new URL('../schema/crm.graphql', import.meta.url), 'utf8'));
    const fields = document.definitions
      .filter((d): d is ObjectTypeDefinitionNode => d.kind === 'ObjectTypeDefinition' && (d.name.value === 'Query' || d.name.value === 'Mutation'))
      .flatMap((d) => d.fields!.map((f) => f.name.value));
    expect(OPERATIONS.map((o) => o.name).sort()).toEqual([...fields].sort());
  });

  const allowed: Record<Level, (keyof typeof tokens)[]> = {
    public: ['viewer', 'editor', 'owner'],
    member: ['viewer', 'editor', 'admin', 'owner'],
    editor: ['editor', 'admin', 'owner'],
    admin: ['admin', 'owner'],
  };
  const denied: Record<Level, (keyof typeof tokens)[]> = { public: [], member: [], editor: ['viewer'], admin: ['viewer', 'editor'] };

  it.each(OPERATIONS.map((o) => [o.name, o] as const))('%s', async (name, operation) => {
    const variables = async () => (await operation.variables?.()) ?? {};
    const anonymous = await call(null, operation.query, await variables());
    if (operation.level === 'public') expectSuccess(anonymous, name);
    else expectDenied(anonymous, name, 'UNAUTHENTICATED');
    for (const role of denied[operation.level]) expectDenied(await call(tokens[role], operation.query, await variables()), name, 'FORBIDDEN');
    for (const role of allowed[operation.level]) expectSuccess(await call(tokens[role], operation.query, await variables()), name);
  });
});

describe('leads', () => {
  const CREATE = `mutation($i: LeadCreateInput!) { createLead(input: $i) { lead { id name email status score tags owner { email } } ${E} } }`;
  const UPDATE = `mutation($id: ID!, $i: LeadUpdateInput!) { updateLead(id: $id, input: $i) { lead { id name email phone status score tags } ${E} } }`;

  it('creates with the owner resolved by auth, and updates only the fields sent', async () => {
    const created = await ok(CREATE, { i: { name: ' Zelda Quux ', email: 'Zelda@Quux.example', score: 80, tags: ['vip', 'VIP', 'web'], ownerId: accountId('editor@acme.example') } }, tokens.editor);
    expect(created.lead).toMatchObject({ name: 'Zelda Quux', email: 'zelda@quux.example', status: 'NEW', score: 80, tags: ['vip', 'web'], owner: { email: 'editor@acme.example' } });
    const updated = await ok(UPDATE, { id: created.lead.id, i: { phone: '+1 555 0199', status: 'QUALIFIED', email: null } }, tokens.editor);
    expect(updated.lead).toMatchObject({ name: 'Zelda Quux', email: null, phone: '+1 555 0199', status: 'QUALIFIED', score: 80 });
  });

  it('bad input comes back in errors and writes nothing', async () => {
    const before = (await call(tokens.owner, '{ leads { totalCount } }')).data!.leads.totalCount;
    const bad = await call(tokens.owner, CREATE, { i: { name: '', email: 'not-an-email', score: 101, status: 'CONVERTED', tags: ['x'.repeat(51)] } });
    expect(bad.data!.createLead.lead).toBeNull();
    expect(bad.data!.createLead.errors.map((e: any) => [e.field, e.code])).toEqual([
      ['name', 'REQUIRED'],
      ['email', 'INVALID'],
      ['tags', 'INVALID'],
      ['score', 'OUT_OF_RANGE'],
      ['status', 'NOT_ALLOWED'],
    ]);
    const tooLong = await call(tokens.owner, CREATE, { i: { name: 'x'.repeat(201) } });
    expect(tooLong.data!.createLead.errors).toEqual([expect.objectContaining({ field: 'name', code: 'TOO_LONG' })]);
    const clear = await call(tokens.owner, UPDATE, { id: fixture.leadId, i: { name: null, score: null } });
    expect(clear.data!.updateLead.errors.map((e: any) => e.code)).toEqual(['REQUIRED', 'REQUIRED']);
    expect((await call(tokens.owner, '{ leads { totalCount } }')).data!.leads.totalCount).toBe(before);
  });

  it('rejects an owner of another tenant, an unknown lead and a malformed id in errors', async () => {
    const globexOwner = accountId('owner@globex.example');
    const foreign = await call(tokens.owner, CREATE, { i: { name: 'Foreign owner', ownerId: globexOwner } });
    expect(foreign.data!.createLead).toEqual({ lead: null, errors: [expect.objectContaining({ field: 'ownerId', code: 'NOT_FOUND' })] });
    const assign = await call(tokens.owner, `mutation($id: ID!, $o: ID) { assignLead(id: $id, ownerId: $o) { lead { id } ${E} } }`, { id: fixture.leadId, o: globexOwner });
    expect(assign.data!.assignLead.errors[0]).toMatchObject({ field: 'ownerId', code: 'NOT_FOUND' });
    const unknown = await call(tokens.owner, UPDATE, { id: '00000000-0000-4000-8000-000000000000', i: { score: 1 } });
    expect(unknown.data!.updateLead.errors[0]).toMatchObject({ field: 'id', code: 'NOT_FOUND' });
    const malformed = await call(tokens.owner, UPDATE, { id: 'garbage', i: { score: 1 } });
    expect(malformed.data!.updateLead.errors[0]).toMatchObject({ field: 'id', code: 'NOT_FOUND' });
    const missing = await call(tokens.owner, 'query($id: ID!) { lead(id: $id) { id } }', { id: 'garbage' });
    expect(missing.data?.lead ?? null).toBeNull();
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('assignLead moves a lead between owners (and Account.assignedLeads follows)', async () => {
    const id = await newLead({ name: 'Assign Me' });
    const ASSIGNED = '{ viewer { account { assignedLeads(first: 100) { totalCount edges { node { id } } } } } }';
    const before = (await call(tokens.editor, ASSIGNED)).data!.viewer.account.assignedLeads.totalCount;
    const result = await ok(`mutation($id: ID!, $o: ID) { assignLead(id: $id, ownerId: $o) { lead { owner { email } } ${E} } }`, { id, o: accountId('editor@acme.example') }, tokens.editor);
    expect(result.lead.owner.email).toBe('editor@acme.example');
    const after = (await call(tokens.editor, ASSIGNED)).data!.viewer.account.assignedLeads;
    expect(after.totalCount).toBe(before + 1);
    expect(after.edges[0].node.id).toBe(id);
    const unassigned = await ok(`mutation($id: ID!) { assignLead(id: $id, ownerId: null) { lead { owner { email } } ${E} } }`, { id });
    expect(unassigned.lead.owner).toBeNull();
  });

  it('deleteLead removes the lead and its activities', async () => {
    const id = await newLead();
    const activityId = await newActivity(id);
    await ok(`mutation($id: ID!) { deleteLead(id: $id) { deletedId ${E} } }`, { id });
    expect((await call(tokens.owner, 'query($id: ID!) { activity(id: $id) { id } }', { id: activityId })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const again = await call(tokens.owner, `mutation($id: ID!) { deleteLead(id: $id) { deletedId ${E} } }`, { id });
    expect(again.data!.deleteLead).toEqual({ deletedId: null, errors: [expect.objectContaining({ field: 'id', code: 'NOT_FOUND' })] });
  });
});

describe('lists: filters, search, sort and pagination', () => {
  it('filters leads by status, owner, tag and created range', async () => {
    const byStatus = await call(tokens.viewer, '{ leads(first: 100, filter: { status: [QUALIFIED] }) { totalCount edges { node { status } } } }');
    expect(byStatus.data!.leads.totalCount).toBeGreaterThan(0);
    expect(new Set(byStatus.data!.leads.edges.map((e: any) => e.node.status))).toEqual(new Set(['QUALIFIED']));
    const owner = accountId('viewer@acme.example');
    const byOwner = await call(tokens.viewer, 'query($o: ID) { leads(first: 100, filter: { ownerId: $o }) { totalCount edges { node { owner { id } } } } }', { o: owner });
    // (Each filter's list is non-empty first: an empty one would pass its `every`.)
    expect(byOwner.data!.leads.edges.length).toBeGreaterThan(0);
    expect(byOwner.data!.leads.edges.every((e: any) => e.node.owner.id === owner)).toBe(true);
    const unassigned = await call(tokens.viewer, '{ leads(first: 100, filter: { unassigned: true }) { edges { node { owner { id } } } } }');
    expect(unassigned.data!.leads.edges.length).toBeGreaterThan(0);
    expect(unassigned.data!.leads.edges.every((e: any) => e.node.owner === null)).toBe(true);
    const byTag = await call(tokens.viewer, '{ leads(first: 100, filter: { tags: ["vip"] }) { totalCount edges { node { tags } } } }');
    expect(byTag.data!.leads.totalCount).toBeGreaterThan(0);
    expect(byTag.data!.leads.edges.every((e: any) => e.node.tags.includes('vip'))).toBe(true);
    const range = { createdAfter: '2025-12-01T00:00:00Z', createdBefore: '2026-01-01T00:00:00Z' };
    const inRange = await call(tokens.viewer, 'query($a: DateTime, $b: DateTime) { leads(first: 100, filter: { createdAfter: $a, createdBefore: $b }) { totalCount edges { node { createdAt } } } }', { a: range.createdAfter, b: range.createdBefore });
    expect(inRange.data!.leads.totalCount).toBeGreaterThan(0);
    for (const { node } of inRange.data!.leads.edges) {
      expect(node.createdAt >= range.createdAfter && node.createdAt < range.createdBefore.replace('Z', '.000Z')).toBe(true);
    }
    const bad = await call(tokens.viewer, '{ leads(filter: { ownerId: "nope" }) { totalCount } }');
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('full-text search matches word prefixes in names, emails, companies and notes, best first', async () => {
    const id = await newLead({ name: 'Xanthippe Marmalade', company: 'Quizzical Widgets', notes: 'Loves the zeppelin storefront.' });
    for (const search of ['xanth', 'marmal xant', 'quizzical', 'zeppelin', 'XANTHIPPE']) {
      const result = await call(tokens.viewer, 'query($s: String) { leads(first: 5, filter: { search: $s }) { totalCount edges { node { id } } } }', { s: search });
      expect(result.data!.leads.edges[0]?.node.id, search).toBe(id);
    }
    const none = await call(tokens.viewer, '{ leads(filter: { search: "xanthippe nobody" }) { totalCount } }');
    expect(none.data!.leads.totalCount).toBe(0);
    const punctuation = await call(tokens.viewer, `{ leads(filter: { search: "':*&|!()" }) { totalCount } }`);
    expect(punctuation.errors).toBeUndefined();
    const contacts = await call(tokens.viewer, '{ contacts(first: 3, filter: { search: "ava" }) { totalCount edges { node { name } } } }');
    expect(contacts.data!.contacts.edges.length).toBeGreaterThan(0);
    expect(contacts.data!.contacts.edges.every((e: any) => /ava/i.test(e.node.name))).toBe(true);
    const deals = await call(tokens.viewer, '{ deals(first: 3, filter: { search: "storefront" }) { totalCount edges { node { title } } } }');
    expect(deals.data!.deals.totalCount).toBeGreaterThan(0);
    const activities = await call(tokens.viewer, '{ activities(first: 3, filter: { search: "discovery" }) { totalCount edges { node { subject } } } }');
    expect(activities.data!.activities.edges.length).toBeGreaterThan(0);
    expect(activities.data!.activities.edges.every((e: any) => /discovery/i.test(e.node.subject))).toBe(true);
  });

  it('sorts and pages through a connection with cursors, 100 at most', async () => {
    const sorted = await call(tokens.viewer, '{ leads(first: 20, sortBy: { field: SCORE, direction: ASC }) { edges { node { score } } } }');
    const scores = sorted.data!.leads.edges.map((e: any) => e.node.score);
    expect(scores).toHaveLength(20);
    expect(scores).toEqual([...scores].sort((a, b) => a - b));
    const first = (await call(tokens.viewer, '{ leads(first: 3) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }')).data!.leads;
    expect(first.pageInfo.hasNextPage).toBe(true);
    const next = (await call(tokens.viewer, 'query($a: String) { leads(first: 3, after: $a) { pageInfo { hasPreviousPage } edges { node { id } } } }', { a: first.pageInfo.endCursor })).data!.leads;
    expect(next.pageInfo.hasPreviousPage).toBe(true);
    expect(next.edges.map((e: any) => e.node.id)).not.toContain(first.edges[0].node.id);
    const tooMany = await call(tokens.viewer, '{ leads(first: 101) { totalCount } }');
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const byStage = await call(tokens.viewer, '{ deals(first: 50, sortBy: { field: STAGE, direction: ASC }) { edges { node { stage { position } } } } }');
    const positions = byStage.data!.deals.edges.map((e: any) => e.node.stage.position);
    expect(positions).toHaveLength(50);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    const deals = await call(tokens.viewer, '{ deals(first: 10, sortBy: { field: AMOUNT, direction: DESC }, filter: { stageKinds: [OPEN] }) { edges { node { amount stage { kind } } } } }');
    const amounts = deals.data!.deals.edges.map((e: any) => e.node.amount);
    expect(amounts).toHaveLength(10);
    expect(amounts).toEqual([...amounts].sort((a, b) => b - a));
    expect(deals.data!.deals.edges.every((e: any) => e.node.stage.kind === 'OPEN')).toBe(true);
  });

  it('counts a list only when totalCount is asked for; hasNextPage is right either way', async () => {
    const total = (await call(tokens.viewer, '{ leads(first: 1) { totalCount } }')).data!.leads.totalCount as number;
    expect(total).toBeGreaterThan(20);
    const cursorAt = (offset: number) => Buffer.from(`offset:${offset - 1}`).toString('base64url'); // the page after it starts at `offset`
    const statements: string[] = [];
    const stop = stack.backends.db.onStatement((text) => statements.push(text));
    const counts = () => statements.filter((text) => /count\(\*\)/.test(text)).length;
    try {
      const page = (await call(tokens.viewer, '{ leads(first: 7) { pageInfo { hasNextPage } edges { node { id } } } }')).data!.leads;
      expect(page.edges).toHaveLength(7);
      expect(page.pageInfo.hasNextPage).toBe(true);
      expect(counts()).toBe(0);

      const viaFragment = await call(tokens.viewer, '{ leads(first: 8) { ...Total edges { node { id } } } } fragment Total on LeadConnection { totalCount }');
      expect(viaFragment.data!.leads.totalCount).toBe(total);
      expect(counts()).toBe(1);
      const inline = await call(tokens.viewer, '{ leads(first: 9) { ... on LeadConnection { totalCount } } }');
      expect(inline.data!.leads.totalCount).toBe(total);
      expect(counts()).toBe(2);

      // The last page knows the total without counting; a page that ends exactly at the end has no next.
      const last = (await call(tokens.viewer, 'query($a: String) { leads(first: 10, after: $a) { totalCount pageInfo { hasNextPage } edges { node { id } } } }', { a: cursorAt(total - 3) })).data!.leads;
      expect(last.edges).toHaveLength(3);
      expect(last).toMatchObject({ totalCount: total, pageInfo: { hasNextPage: false } });
      const exact = (await call(tokens.viewer, 'query($a: String) { leads(first: 5, after: $a) { pageInfo { hasNextPage } edges { node { id } } } }', { a: cursorAt(total - 5) })).data!.leads;
      expect(exact.edges).toHaveLength(5);
      expect(exact.pageInfo.hasNextPage).toBe(false);
      expect(counts()).toBe(2);

      // Past the end: no rows, so only a count can tell the total.
      const beyond = (await call(tokens.viewer, 'query($a: String) { leads(first: 4, after: $a) { totalCount edges { node { id } } } }', { a: cursorAt(total + 10) })).data!.leads;
      expect(beyond).toEqual({ totalCount: total, edges: [] });
      expect(counts()).toBe(3);

      // A first page reads its total in its own statement; a later page that is not the last
      // counts in a second one. `first: 0` still counts.
      const leadStatements = () => statements.filter((text) => /crm\.leads/.test(text)).length;
      statements.length = 0;
      const first = (await call(tokens.viewer, '{ leads(first: 6) { totalCount pageInfo { hasNextPage } edges { node { id } } } }')).data!.leads;
      expect(first).toMatchObject({ totalCount: total, pageInfo: { hasNextPage: true } });
      expect(first.edges).toHaveLength(6);
      expect(leadStatements()).toBe(1);
      const second = (await call(tokens.viewer, 'query($a: String) { leads(first: 6, after: $a) { totalCount edges { node { id } } } }', { a: cursorAt(6) })).data!.leads;
      expect(second.totalCount).toBe(total);
      expect(leadStatements()).toBe(3);
      const twelve = (await call(tokens.viewer, '{ leads(first: 12) { edges { node { id } } } }')).data!.leads;
      expect(second.edges.map((e: any) => e.node.id)).toEqual(twelve.edges.slice(6).map((e: any) => e.node.id));
      statements.length = 0;
      const none = (await call(tokens.viewer, '{ leads(first: 0) { totalCount pageInfo { hasNextPage } edges { node { id } } } }')).data!.leads;
      expect(none).toEqual({ totalCount: total, pageInfo: { hasNextPage: true }, edges: [] });
      expect(leadStatements()).toBe(1);
    } finally {
      stop();
    }
  });

  it("keeps a first page's plan: PostgreSQL plans its prepared statement once, not on every execution", async () => {
    // Planner statistics as a seeded or running database has them (autovacuum's analyze).
    await stack.backends.deps('crm').asOwner((tx) => tx.query('ANALYZE crm.leads'));
    const seen: { text: string; values: readonly unknown[] }[] = [];
    const stop = stack.backends.db.onStatement((text, values) => void (/FROM crm\.leads/.test(text) && values && seen.push({ text, values })));
    try {
      const page = (await call(tokens.viewer, '{ leads(first: 20) { totalCount edges { node { id name email status score createdAt } } } }')).data!.leads;
      expect(page.edges).toHaveLength(20);
      expect(page.totalCount).toBeGreaterThan(20);
    } finally {
      stop();
    }
    expect(seen.length).toBeGreaterThan(0);
    const { text, values } = seen.at(-1)!;
    // The statement as the subgraph sends it, on a connection of its pool, as the app role and the
    // viewer: after PostgreSQL's five custom plans, a generic one (an OFFSET parameter made it
    // plan every time). On embedded PGlite that connection is the pool's only session, so the
    // probe's statement is deallocated and the connection goes back as it came.
    const client = await stack.backends.db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL ROLE ${APP_ROLE}`);
      await client.query("SELECT set_config('app.tenant_id', $1, true), set_config('app.account_id', $2, true)", [acme, accountId('viewer@acme.example')]);
      for (let i = 0; i < 8; i++) expect((await client.query({ name: 'first_page_probe', text, values: [...values] })).rows).toHaveLength(21);
      const { rows } = await client.query("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'first_page_probe'");
      expect(Number(rows[0].generic_plans)).toBeGreaterThan(0);
    } finally {
      await client.query('ROLLBACK');
      await client.query('DEALLOCATE first_page_probe').catch(() => undefined); // (not there if the first execution failed)
      client.release();
    }
  });

  it('reads only the columns a leads page asks for, through fragments and aliases, with the same answers', async () => {
    const FULL = `{ leads(first: 30, sortBy: { field: NAME, direction: ASC }) { edges { node {
      id name email phone company title source status score tags owner { id } notes createdAt updatedAt lastActivityAt convertedAt
      convertedContact { id } convertedDeal { id } } } } }`;
    const statements: string[] = [];
    const stop = stack.backends.db.onStatement((text) => statements.push(text));
    const selectList = () => /^SELECT (.*?) FROM crm\.leads/s.exec(statements.filter((text) => /FROM crm\.leads/.test(text)).at(-1)!)![1];
    try {
      const full = await call(tokens.viewer, FULL);
      expect(full.errors).toBeUndefined();
      // 16 columns, and the converted contact's and deal's ids (asked for alone) in the same statement.
      expect(selectList().split(', ')).toHaveLength(18);
      expect(selectList()).toMatch(/AS converted_contact_id, .* AS converted_deal_id$/);
      const rows = full.data!.leads.edges.map((e: any) => e.node);
      expect(rows.some((row: any) => row.convertedContact)).toBe(true); // a converted demo lead is on the page

      const narrow = await call(tokens.viewer, '{ leads(first: 30, sortBy: { field: NAME, direction: ASC }) { edges { node { name owner { id } } } } }');
      expect(selectList()).toBe('id, name, owner_id');
      expect(narrow.data!.leads.edges.map((e: any) => e.node)).toEqual(rows.map((row: any) => ({ name: row.name, owner: row.owner })));

      const fragments = await call(
        tokens.viewer,
        `{ leads(first: 30, sortBy: { field: NAME, direction: ASC }) { edges { ...Edge } } }
         fragment Edge on LeadEdge { node { ...Lead when: createdAt } }
         fragment Lead on Lead { ... on Lead { state: status } convertedContact { id } tags @include(if: false) }`,
      );
      expect(selectList()).toMatch(/^id, status, tags, created_at, CASE WHEN .* FROM crm\.contacts o .* END AS converted_contact_id$/);
      expect(fragments.data!.leads.edges.map((e: any) => e.node)).toEqual(
        rows.map((row: any) => ({ state: row.status, convertedContact: row.convertedContact, when: row.createdAt })),
      );

      const none = await call(tokens.viewer, '{ leads(first: 3) { pageInfo { hasNextPage } } }');
      expect(none.data!.leads.pageInfo.hasNextPage).toBe(true);
      expect(selectList()).toBe('id');
    } finally {
      stop();
    }
  });

  it('answers each Lead field of schema/crm.graphql asked alone on a page as lead(id) does from a whole row (the columns map misses none)', async () => {
    const document = parse(readFileSync(new URL('../schema/crm.graphql', import.meta.url), 'utf8'));
    const objects = new Set(document.definitions.filter((d) => d.kind === 'ObjectTypeDefinition').map((d) => (d as ObjectTypeDefinitionNode).name.value));
    const lead = document.definitions.find((d): d is ObjectTypeDefinitionNode => d.kind === 'ObjectTypeDefinition' && d.name.value === 'Lead')!;
    const named = (type: TypeNode): string => (type.kind === 'NamedType' ? type.name.value : named(type.type));
    const selections = lead.fields!.map((field) => {
      const type = named(field.type);
      const name = field.name.value;
      if (!objects.has(type)) return { name, selection: name };
      return { name, selection: type.endsWith('Connection') ? `${name}(first: 1) { totalCount }` : `${name} { id }` };
    });
    expect(selections.length).toBeGreaterThan(15);
    const page = (selection: string) => `{ leads(first: 15, sortBy: { field: NAME, direction: ASC }) { edges { node { ${selection} } } } }`;
    // The baseline reads whole rows: `lead(id)` goes through the lead loader, not the list's columns.
    const ids = (await call(tokens.owner, page('id'))).data!.leads.edges.map((e: any) => e.node.id as string);
    expect(ids).toHaveLength(15);
    const all = selections.map((s) => s.selection).join(' ');
    const byId = await call(tokens.owner, `{ ${ids.map((id: string, i: number) => `l${i}: lead(id: "${id}") { ${all} }`).join(' ')} }`);
    expect(byId.errors).toBeUndefined();
    const rows = ids.map((_: string, i: number) => byId.data![`l${i}`]);
    expect(rows.filter((row: any) => row.email).length).toBeGreaterThan(0);
    for (const { name, selection } of selections) {
      const alone = await call(tokens.owner, page(selection));
      expect(alone.errors, name).toBeUndefined();
      expect(alone.data!.leads.edges.map((e: any) => e.node[name]), name).toEqual(rows.map((row: any) => row[name]));
    }
  });
});

describe('contacts, deals and activities', () => {
  it('contacts: create, update, a contact of another tenant is not found', async () => {
    const created = await ok(`mutation { createContact(input: { name: "Carla Contact", email: "carla@contact.example", tags: ["partner"] }) { contact { id name email tags deals(first: 5) { totalCount } } ${E} } }`, {}, tokens.editor);
    expect(created.contact).toMatchObject({ name: 'Carla Contact', tags: ['partner'], deals: { totalCount: 0 } });
    const bad = await call(tokens.editor, `mutation($id: ID!) { updateContact(id: $id, input: { email: "nope" }) { contact { id } ${E} } }`, { id: created.contact.id });
    expect(bad.data!.updateContact.errors[0]).toMatchObject({ field: 'email', code: 'INVALID' });
    const globexContact = (await call(tokens.globex, '{ contacts(first: 1) { edges { node { id } } } }')).data!.contacts.edges[0].node.id;
    const foreign = await call(tokens.editor, `mutation($id: ID!) { updateContact(id: $id, input: { name: "Stolen" }) { contact { id } ${E} } }`, { id: globexContact });
    expect(foreign.data!.updateContact.errors[0]).toMatchObject({ field: 'id', code: 'NOT_FOUND' });
  });

  it('deals: Saleor products of the tenant channel resolve across subgraphs; foreign ids and bad values are errors', async () => {
    const contactId = await newContact();
    const product = Buffer.from('Product:2').toString('base64');
    const created = await ok(
      `mutation($i: DealCreateInput!) { createDeal(input: $i) { deal { id title amount currency probability expectedCloseDate stage { name } contact { id }
        products { id channel name } } ${E} } }`,
      { i: { title: 'Big order', amount: 1234.5, currency: 'eur', expectedCloseDate: '2026-03-31', contactId, products: [{ productId: product }, { productId: product, channel: 'globex-channel' }] } },
      tokens.editor,
    );
    expect(created.deal).toMatchObject({ title: 'Big order', amount: 1234.5, currency: 'EUR', probability: 10, expectedCloseDate: '2026-03-31', stage: { name: 'Prospecting' }, contact: { id: contactId } });
    expect(created.deal.products).toEqual([
      { id: product, channel: 'acme-channel', name: 'Vintage T-Shirt' },
      { id: product, channel: 'globex-channel', name: 'Vintage T-Shirt' },
    ]);
    const globexStage = (await call(tokens.globex, '{ pipeline { stages { stage { id } } } }')).data!.pipeline.stages[0].stage.id;
    const globexContact = (await call(tokens.globex, '{ contacts(first: 1) { edges { node { id } } } }')).data!.contacts.edges[0].node.id;
    const CREATE = `mutation($i: DealCreateInput!) { createDeal(input: $i) { deal { id } ${E} } }`;
    const before = (await call(tokens.owner, '{ deals { totalCount } }')).data!.deals.totalCount;
    expect((await call(tokens.editor, CREATE, { i: { title: 'x', stageId: globexStage } })).data!.createDeal.errors[0]).toMatchObject({ field: 'stageId', code: 'NOT_FOUND' });
    expect((await call(tokens.editor, CREATE, { i: { title: 'x', contactId: globexContact } })).data!.createDeal.errors[0]).toMatchObject({ field: 'contactId', code: 'NOT_FOUND' });
    const invalid = await call(tokens.editor, CREATE, { i: { title: 'x', amount: -1, currency: 'EURO', probability: 101, expectedCloseDate: '2026-02-30', products: [{ productId: 'T3JkZXI6MQ==' }] } });
    expect(invalid.data!.createDeal.errors.map((e: any) => [e.field, e.code])).toEqual([
      ['amount', 'OUT_OF_RANGE'],
      ['currency', 'INVALID'],
      ['probability', 'OUT_OF_RANGE'],
      ['expectedCloseDate', 'INVALID'],
      ['products', 'INVALID'],
    ]);
    expect((await call(tokens.owner, '{ deals { totalCount } }')).data!.deals.totalCount).toBe(before);
    const replaced = await ok(`mutation($id: ID!) { updateDeal(id: $id, input: { products: [], amount: null }) { deal { amount products { id } } ${E} } }`, { id: created.deal.id }, tokens.editor);
    expect(replaced.deal).toEqual({ amount: null, products: [] });
  });

  it('moveDeal changes the stage, its probability and closedAt, and records the move as an activity', async () => {
    const dealId = await newDeal();
    const stages = (await call(tokens.viewer, '{ pipeline { stages { stage { id name kind probability } } } }')).data!.pipeline.stages.map((s: any) => s.stage);
    const won = stages.find((s: any) => s.kind === 'WON');
    const MOVE = `mutation($id: ID!, $s: ID!, $n: String) { moveDeal(id: $id, stageId: $s, note: $n) { deal { stage { name } probability closedAt
      activities(first: 5) { totalCount edges { node { type subject body done account { email } } } } } ${E} } }`;
    const moved = await ok(MOVE, { id: dealId, s: won.id, n: 'Signed today' }, tokens.editor);
    expect(moved.deal).toMatchObject({ stage: { name: 'Won' }, probability: 100 });
    expect(moved.deal.closedAt).toBeTruthy();
    expect(moved.deal.activities.edges[0].node).toEqual({ type: 'NOTE', subject: 'Stage: Prospecting → Won', body: 'Signed today', done: true, account: { email: 'editor@acme.example' } });
    const reopened = await ok(MOVE, { id: dealId, s: stages[1].id }, tokens.editor);
    expect(reopened.deal).toMatchObject({ stage: { name: stages[1].name }, closedAt: null });
    expect(reopened.deal.activities.totalCount).toBe(2);
    const unknown = await call(tokens.editor, MOVE, { id: dealId, s: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.data!.moveDeal.errors[0]).toMatchObject({ field: 'stageId', code: 'NOT_FOUND' });
  });

  it("a lead's activities page with cursors, newest first", async () => {
    const leadId = await newLead();
    for (const subject of ['one', 'two', 'three']) {
      await ok(`mutation($l: ID!, $s: String!) { logActivity(input: { type: EMAIL, subject: $s, leadId: $l }) { ${E} } }`, { l: leadId, s: subject });
    }
    const PAGE = 'query($id: ID!, $a: String) { lead(id: $id) { activities(first: 2, after: $a) { totalCount pageInfo { hasNextPage endCursor } edges { node { subject } } } } }';
    const first = (await call(tokens.viewer, PAGE, { id: leadId })).data!.lead.activities;
    expect(first.totalCount).toBe(3);
    expect(first.edges.map((e: any) => e.node.subject)).toEqual(['three', 'two']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = (await call(tokens.viewer, PAGE, { id: leadId, a: first.pageInfo.endCursor })).data!.lead.activities;
    expect(second).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: false }, edges: [{ node: { subject: 'one' } }] });
    const beyond = (await call(tokens.viewer, PAGE, { id: leadId, a: second.pageInfo.endCursor })).data!.lead.activities;
    expect(beyond).toMatchObject({ totalCount: 3, edges: [] });
  });

  it('logActivity on exactly one lead, contact or deal; completeActivity; lastActivityAt moves', async () => {
    const leadId = await newLead();
    const LOG = `mutation($i: LogActivityInput!) { logActivity(input: $i) { activity { id type done dueAt lead { id lastActivityAt } account { email } } ${E} } }`;
    const logged = await ok(LOG, { i: { type: 'TASK', subject: 'Send the quote', dueAt: '2026-12-01T09:00:00Z', leadId } }, tokens.editor);
    expect(logged.activity).toMatchObject({ type: 'TASK', done: false, dueAt: '2026-12-01T09:00:00.000Z', lead: { id: leadId }, account: { email: 'editor@acme.example' } });
    expect(logged.activity.lead.lastActivityAt).toBeTruthy();
    const done = await ok(`mutation($id: ID!) { completeActivity(id: $id) { activity { done completedAt } ${E} } }`, { id: logged.activity.id }, tokens.editor);
    expect(done.activity.done).toBe(true);
    expect(done.activity.completedAt).toBeTruthy();
    const reopened = await ok(`mutation($id: ID!) { completeActivity(id: $id, done: false) { activity { done completedAt } ${E} } }`, { id: logged.activity.id }, tokens.editor);
    expect(reopened.activity).toEqual({ done: false, completedAt: null });
    const none = await call(tokens.editor, LOG, { i: { type: 'CALL', subject: 'x' } });
    const two = await call(tokens.editor, LOG, { i: { type: 'CALL', subject: 'x', leadId, dealId: fixture.dealId } });
    for (const result of [none, two]) expect(result.data!.logActivity.errors[0]).toMatchObject({ field: null, code: 'INVALID' });
    const globexLead = (await call(tokens.globex, '{ leads(first: 1) { edges { node { id } } } }')).data!.leads.edges[0].node.id;
    const foreign = await call(tokens.editor, LOG, { i: { type: 'CALL', subject: 'x', leadId: globexLead } });
    expect(foreign.data!.logActivity.errors[0]).toMatchObject({ field: 'leadId', code: 'NOT_FOUND' });
    const open = await call(tokens.viewer, '{ activities(first: 100, filter: { types: [TASK], done: false }) { edges { node { type done } } } }');
    expect(open.data!.activities.edges.length).toBeGreaterThan(0);
    expect(open.data!.activities.edges.every((e: any) => e.node.type === 'TASK' && !e.node.done)).toBe(true);
  });
});

describe('pipeline', () => {
  it('has the default stages with deal counts and amounts per currency', async () => {
    const { data } = await call(tokens.viewer, '{ pipeline { dealCount amounts { currency amount } stages { stage { name kind position } dealCount amounts { currency amount } weightedAmounts { amount } } } }');
    const names = data!.pipeline.stages.map((s: any) => s.stage.name);
    expect(names.slice(0, 6)).toEqual(['Prospecting', 'Qualification', 'Proposal', 'Negotiation', 'Won', 'Lost']);
    const sum = data!.pipeline.stages.reduce((n: number, s: any) => n + s.dealCount, 0);
    expect(sum).toBe(data!.pipeline.dealCount);
    expect(data!.pipeline.dealCount).toBeGreaterThanOrEqual(100);
    expect(data!.pipeline.amounts.map((a: any) => a.currency)).toContain('USD');
  });

  it('stages are managed by admins: duplicates refused, a stage with deals needs moveDealsTo', async () => {
    const CREATE = `mutation($i: PipelineStageInput!) { createPipelineStage(input: $i) { stage { id name kind probability position } ${E} } }`;
    const created = await ok(CREATE, { i: { name: 'Contract sent', position: 45, probability: 80 } });
    expect(created.stage).toMatchObject({ name: 'Contract sent', kind: 'OPEN', probability: 80, position: 45 });
    const names = (await call(tokens.viewer, '{ pipeline { stages { stage { name } } } }')).data!.pipeline.stages.map((s: any) => s.stage.name);
    expect(names.indexOf('Contract sent')).toBe(names.indexOf('Negotiation') + 1);
    const duplicate = await call(tokens.owner, CREATE, { i: { name: 'contract SENT' } });
    expect(duplicate.data!.createPipelineStage.errors[0]).toMatchObject({ field: 'name', code: 'DUPLICATE' });
    const dealId = await newDeal({ stageId: created.stage.id });
    const DELETE = `mutation($id: ID!, $to: ID) { deletePipelineStage(id: $id, moveDealsTo: $to) { deletedId ${E} } }`;
    const inUse = await call(tokens.owner, DELETE, { id: created.stage.id });
    expect(inUse.data!.deletePipelineStage.errors[0]).toMatchObject({ field: 'id', code: 'IN_USE' });
    const prospecting = (await call(tokens.viewer, '{ pipeline { stages { stage { id name } } } }')).data!.pipeline.stages[0].stage;
    await ok(DELETE, { id: created.stage.id, to: prospecting.id });
    expect((await call(tokens.viewer, 'query($id: ID!) { deal(id: $id) { stage { name } } }', { id: dealId })).data!.deal.stage.name).toBe('Prospecting');
  });
});

describe('a new tenant', () => {
  it('starts with the default stages, written on first use, and an empty CRM', async () => {
    const token = await signToken(stack.backends.keys.privateJwk, { sub: accountId('owner@acme.example'), tid: randomUUID(), roles: ['owner'] });
    const { data } = await call(token, '{ leads { totalCount } pipeline { dealCount stages { stage { name probability kind } dealCount } } }');
    expect(data!.leads.totalCount).toBe(0);
    expect(data!.pipeline.dealCount).toBe(0);
    expect(data!.pipeline.stages.map((s: any) => [s.stage.name, s.stage.probability, s.stage.kind])).toEqual([
      ['Prospecting', 10, 'OPEN'],
      ['Qualification', 25, 'OPEN'],
      ['Proposal', 50, 'OPEN'],
      ['Negotiation', 75, 'OPEN'],
      ['Won', 100, 'WON'],
      ['Lost', 0, 'LOST'],
    ]);
    const deal = await ok(`mutation { createDeal(input: { title: "First deal" }) { deal { stage { name } probability } ${E} } }`, {}, token);
    expect(deal.deal).toEqual({ stage: { name: 'Prospecting' }, probability: 10 });
  });
});

describe('convertLead', () => {
  it('makes a contact and a deal with products, and marks the lead CONVERTED', async () => {
    const leadId = await newLead({ name: 'Convert Me', email: 'convert@me.example', company: 'Converts Inc', tags: ['hot'], ownerId: accountId('editor@acme.example') });
    const product = Buffer.from('Product:3').toString('base64');
    const result = await ok(
      `mutation($id: ID!, $i: ConvertLeadInput) { convertLead(id: $id, input: $i) {
        lead { status convertedAt convertedContact { id } convertedDeal { id } }
        contact { id name email tags owner { email } lead { id } }
        deal { id title amount contact { id } owner { email } products { name } lead { id } } ${E} } }`,
      { id: leadId, i: { deal: { amount: 5000, products: [{ productId: product }] } } },
      tokens.editor,
    );
    expect(result.lead.status).toBe('CONVERTED');
    expect(result.lead.convertedContact.id).toBe(result.contact.id);
    expect(result.lead.convertedDeal.id).toBe(result.deal.id);
    expect(result.contact).toMatchObject({ name: 'Convert Me', email: 'convert@me.example', tags: ['hot'], owner: { email: 'editor@acme.example' }, lead: { id: leadId } });
    expect(result.deal).toMatchObject({ title: 'Converts Inc', amount: 5000, contact: { id: result.contact.id }, owner: { email: 'editor@acme.example' }, products: [{ name: 'Organic T-Shirt' }], lead: { id: leadId } });
    const again = await call(tokens.editor, `mutation($id: ID!) { convertLead(id: $id) { lead { id } ${E} } }`, { id: leadId });
    expect(again.data!.convertLead.errors[0]).toMatchObject({ code: 'ALREADY_CONVERTED' });
    const status = await call(tokens.editor, `mutation($id: ID!) { updateLead(id: $id, input: { status: NEW }) { lead { id } ${E} } }`, { id: leadId });
    expect(status.data!.updateLead.errors[0]).toMatchObject({ field: 'status', code: 'ALREADY_CONVERTED' });
  });

  it('looks up the converted contact and deal only for converted leads; their ids alone come with the page', async () => {
    const statements: string[] = [];
    const stop = stack.backends.db.onStatement((text) => statements.push(text));
    const byLead = () => statements.filter((text) => /FROM crm\.(contacts|deals) WHERE lead_id/.test(text)).length;
    const PAGE = '{ leads(first: 30, filter: { status: [$S] }) { edges { node { status convertedContact { id name } convertedDeal { id title } } } } }';
    const IDS = '{ leads(first: 30, filter: { status: [$S] }) { edges { node { status convertedContact { id } convertedDeal { __typename id } } } } }';
    try {
      const open = (await call(tokens.viewer, PAGE.replace('$S', 'NEW'))).data!.leads.edges.map((e: any) => e.node);
      expect(open.length).toBeGreaterThan(0);
      expect(open.every((n: any) => n.status === 'NEW' && n.convertedContact === null && n.convertedDeal === null)).toBe(true);
      expect(byLead()).toBe(0);
      const converted = (await call(tokens.viewer, PAGE.replace('$S', 'CONVERTED'))).data!.leads.edges.map((e: any) => e.node);
      expect(converted.length).toBeGreaterThan(0);
      expect(converted.every((n: any) => n.convertedContact?.id && n.convertedContact.name)).toBe(true);
      expect(byLead()).toBe(2); // one batch each for contacts and deals

      // Asked for by id alone: read in the page's statement (no batch), the same ids, null for open leads.
      statements.length = 0;
      const ids = (await call(tokens.viewer, IDS.replace('$S', 'CONVERTED'))).data!.leads.edges.map((e: any) => e.node);
      expect(byLead()).toBe(0);
      expect(statements.filter((text) => /FROM crm\.leads/.test(text))).toHaveLength(1);
      expect(ids).toEqual(
        converted.map((n: any) => ({
          status: n.status,
          convertedContact: { id: n.convertedContact.id },
          convertedDeal: n.convertedDeal && { __typename: 'Deal', id: n.convertedDeal.id },
        })),
      );
      const openIds = (await call(tokens.viewer, IDS.replace('$S', 'NEW'))).data!.leads.edges.map((e: any) => e.node);
      expect(openIds.every((n: any) => n.convertedContact === null && n.convertedDeal === null)).toBe(true);
    } finally {
      stop();
    }
  });
});
