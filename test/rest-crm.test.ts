import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../gateway/rest/routes.ts';
import { bearer, gql } from './support/graphql.ts';
import { rest } from './support/rest.ts';
import { startSupergraph, type RunningSupergraph } from './support/stack.ts';

// The Django CRM paths of the REST shim (/api/brain/django-crm/*) over the whole supergraph:
// DRF shapes, pagination links, errors, roles and tenant isolation.
let stack: RunningSupergraph;
let base: string;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  stack = await startSupergraph();
  base = stack.base;
  for (const who of ['owner@acme.example', 'editor@acme.example', 'viewer@acme.example', 'owner@globex.example']) {
    tokens[who.split('@')[0]! + (who.includes('globex') ? '@globex' : '')] = await stack.login(who);
  }
});
afterAll(() => stack?.close());

const OWNER = 'owner';
const EDITOR = 'editor';
const VIEWER = 'viewer';
const GLOBEX = 'owner@globex';

/** A request to a Django CRM path (or an absolute URL), with the token of `as`. */
const call = (method: string, path: string, options: { json?: unknown; as?: string } = {}) =>
  rest(path.startsWith('http') ? path : `${base}/api/brain/django-crm${path}`, { method, json: options.json, token: options.as && tokens[options.as] });

const tag = () => `t${randomUUID().slice(0, 8)}`;

describe('every CRM route needs a token', () => {
  it('401 {"detail"} without one, for each method and path', async () => {
    const id = randomUUID();
    const routes = ROUTES.filter((r) => r.tag === 'django-crm');
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) {
      const path = route.path.replace('/django-crm', '').replace('{id}', id);
      const response = await call(route.method, path, route.body ? { json: {} } : {});
      expect(response.status, `${route.method} ${route.path}`).toBe(401);
      expect(typeof response.body.detail).toBe('string');
    }
  });
});

describe('leads (DRF shapes)', () => {
  it('lists with count/next/previous/results and absolute links; following next costs no walk', async () => {
    const first = await call('GET', '/leads?page_size=25', { as: VIEWER });
    expect(first.status).toBe(200);
    expect(Object.keys(first.body)).toEqual(['count', 'next', 'previous', 'results']);
    const total = await gql(stack.graphql, '{ leads(first: 1) { totalCount } }', {}, bearer(tokens[VIEWER]!));
    expect(first.body.count).toBe(total.data!.leads.totalCount);
    expect(first.body.previous).toBeNull();
    expect(first.body.results).toHaveLength(25);
    const lead = first.body.results[0];
    for (const key of ['id', 'name', 'status', 'score', 'tags', 'owner', 'created_at', 'updated_at', 'last_activity_at']) expect(lead).toHaveProperty(key);
    expect(['new', 'contacted', 'qualified', 'unqualified', 'converted']).toContain(lead.status);

    const next = new URL(first.body.next);
    expect(next.origin).toBe(base);
    expect(next.pathname).toBe('/api/brain/django-crm/leads');
    expect(next.searchParams.get('page')).toBe('2');
    expect(next.searchParams.get('page_size')).toBe('25');
    expect(next.searchParams.get('cursor')).toBeTruthy();
    const second = await call('GET', first.body.next, { as: VIEWER });
    expect(second.body.previous).toBe(`${base}/api/brain/django-crm/leads?page_size=25`);
    const ids = new Set([...first.body.results, ...second.body.results].map((l: any) => l.id));
    expect(ids.size).toBe(50);

    // Page 3 by number (a walk) equals page 3 by following next.
    const third = await call('GET', second.body.next, { as: VIEWER });
    const byNumber = await call('GET', '/leads?page_size=25&page=3', { as: VIEWER });
    expect(byNumber.body.results).toEqual(third.body.results);
    expect(byNumber.body.previous).toBe(`${base}/api/brain/django-crm/leads?page_size=25&page=2`);
  });

  it('a page past the end is 404 Invalid page; page_size is capped at 100', async () => {
    expect(await call('GET', '/leads?page=999', { as: VIEWER })).toMatchObject({ status: 404, body: { detail: 'Invalid page.' } });
    expect(await call('GET', '/leads?page=abc', { as: VIEWER })).toMatchObject({ status: 404, body: { detail: 'Invalid page.' } });
    expect((await call('GET', '/leads?page_size=1000', { as: VIEWER })).body.results).toHaveLength(100);
  });

  it('create (201), retrieve, PATCH, PUT and DELETE (204), with search, status and ordering', async () => {
    const source = tag();
    const created = await call('POST', '/leads', {
      as: EDITOR,
      json: { name: 'Zed Rest', email: 'zed.rest@example.com', company: 'Shim Ltd', source, tags: ['rest'], score: 40, unknown_field: 1 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Zed Rest', email: 'zed.rest@example.com', status: 'new', score: 40, tags: ['rest'], owner: null, source });
    const id = created.body.id;

    expect((await call('GET', `/leads/${id}`, { as: VIEWER })).body).toEqual(created.body);
    const patched = await call('PATCH', `/leads/${id}`, { as: EDITOR, json: { status: 'qualified', owner: null } });
    expect(patched).toMatchObject({ status: 200, body: { id, status: 'qualified', name: 'Zed Rest' } });
    expect(await call('PUT', `/leads/${id}`, { as: EDITOR, json: { status: 'contacted' } })).toMatchObject({ status: 400, body: { name: ['This field is required.'] } });
    expect((await call('PUT', `/leads/${id}`, { as: EDITOR, json: { name: 'Zed Put', status: 'contacted' } })).body).toMatchObject({ name: 'Zed Put', status: 'contacted' });

    await call('POST', '/leads', { as: EDITOR, json: { name: 'Amy Rest', source } });
    const bySource = await call('GET', `/leads?source=${source}&ordering=name`, { as: VIEWER });
    expect(bySource.body.results.map((l: any) => l.name)).toEqual(['Amy Rest', 'Zed Put']);
    expect((await call('GET', `/leads?source=${source}&ordering=-name`, { as: VIEWER })).body.results.map((l: any) => l.name)).toEqual(['Zed Put', 'Amy Rest']);
    expect((await call('GET', `/leads?source=${source}&status=contacted`, { as: VIEWER })).body.count).toBe(1);
    expect((await call('GET', `/leads?search=Zed&source=${source}`, { as: VIEWER })).body.results.map((l: any) => l.id)).toEqual([id]);
    expect(await call('GET', '/leads?status=bogus', { as: VIEWER })).toMatchObject({ status: 400, body: { status: ['Select a valid choice. bogus is not one of the available choices.'] } });

    // Deleting is for admins; the owner may.
    expect((await call('DELETE', `/leads/${id}`, { as: EDITOR })).status).toBe(403);
    const deleted = await call('DELETE', `/leads/${id}`, { as: OWNER });
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeNull();
    expect(await call('GET', `/leads/${id}`, { as: VIEWER })).toMatchObject({ status: 404, body: { detail: 'Not found.' } });
    expect((await call('DELETE', `/leads/${id}`, { as: OWNER })).status).toBe(404);
  });

  it('bad input is 400 {"field": ["message"]}; unknown and malformed ids are 404; a viewer gets 403', async () => {
    expect(await call('POST', '/leads', { as: EDITOR, json: {} })).toMatchObject({ status: 400, body: { name: ['This field is required.'] } });
    expect(await call('POST', '/leads', { as: EDITOR, json: { name: 'X', status: 'bogus' } })).toMatchObject({ status: 400, body: { status: ['"bogus" is not a valid choice.'] } });
    expect(await call('POST', '/leads', { as: EDITOR, json: { name: 'X', email: 'not-an-email' } })).toMatchObject({ status: 400, body: { email: ['Enter a valid email address.'] } });
    expect(await call('POST', '/leads', { as: EDITOR, json: { name: 'X', owner: randomUUID() } })).toMatchObject({ status: 400, body: { owner: [expect.any(String)] } });
    expect(await call('POST', '/leads', { as: EDITOR, json: ['not', 'an', 'object'] })).toMatchObject({ status: 400, body: { non_field_errors: ['Invalid data. Expected a dictionary, but got list.'] } });
    expect(await call('GET', `/leads/${randomUUID()}`, { as: VIEWER })).toMatchObject({ status: 404, body: { detail: 'Not found.' } });
    expect(await call('GET', '/leads/not-a-uuid', { as: VIEWER })).toMatchObject({ status: 404, body: { detail: 'Not found.' } });
    expect(await call('PATCH', `/leads/${randomUUID()}`, { as: EDITOR, json: { name: 'Y' } })).toMatchObject({ status: 404, body: { detail: 'Not found.' } });
    const forbidden = await call('POST', '/leads', { as: VIEWER, json: { name: 'Nope' } });
    expect(forbidden.status).toBe(403);
    expect(typeof forbidden.body.detail).toBe('string');
  });

  it("a globex token never sees acme's leads through the shim", async () => {
    const acme = await call('POST', '/leads', { as: EDITOR, json: { name: 'Acme Secret', source: tag() } });
    const id = acme.body.id;
    const acmeIds = new Set<string>();
    for (let page = (await call('GET', '/leads?page_size=100', { as: OWNER })).body; ; ) {
      for (const lead of page.results) acmeIds.add(lead.id);
      if (!page.next) break;
      page = (await call('GET', page.next, { as: OWNER })).body;
    }
    expect(acmeIds.has(id)).toBe(true);

    const globexIds: string[] = [];
    for (let page = (await call('GET', '/leads?page_size=100', { as: GLOBEX })).body; ; ) {
      globexIds.push(...page.results.map((l: any) => l.id));
      if (!page.next) break;
      page = (await call('GET', page.next, { as: GLOBEX })).body;
    }
    expect(globexIds.length).toBeGreaterThan(0);
    expect(globexIds.filter((g) => acmeIds.has(g))).toEqual([]);
    expect((await call('GET', '/leads?search=Acme%20Secret', { as: GLOBEX })).body.count).toBe(0);
    // By id, and writes: as if it did not exist.
    expect((await call('GET', `/leads/${id}`, { as: GLOBEX })).status).toBe(404);
    expect((await call('PATCH', `/leads/${id}`, { as: GLOBEX, json: { name: 'Taken' } })).status).toBe(404);
    expect((await call('DELETE', `/leads/${id}`, { as: GLOBEX })).status).toBe(404);
    expect((await call('GET', `/leads/${id}`, { as: VIEWER })).body.name).toBe('Acme Secret');
    // A globex cursor in an acme next link selects nothing of acme's either.
    const globexPage = await call('GET', '/leads?page_size=5', { as: GLOBEX });
    const forged = await call('GET', globexPage.body.next, { as: OWNER });
    expect(forged.body.results.length).toBeGreaterThan(0);
    expect(forged.body.results.every((l: any) => acmeIds.has(l.id))).toBe(true);
  });
});

describe('contacts, deals and activities', () => {
  it('contacts: create, list with search, update, delete', async () => {
    const name = `Carla ${tag()}`;
    const created = await call('POST', '/contacts', { as: EDITOR, json: { name, email: 'carla@example.com', tags: ['rest'] } });
    expect(created).toMatchObject({ status: 201, body: { name, email: 'carla@example.com', owner: null, lead: null } });
    const found = await call('GET', `/contacts?search=${encodeURIComponent(name)}`, { as: VIEWER });
    expect(found.body.results.map((c: any) => c.id)).toContain(created.body.id);
    expect((await call('PATCH', `/contacts/${created.body.id}`, { as: EDITOR, json: { company: 'Shim Ltd' } })).body.company).toBe('Shim Ltd');
    expect((await call('DELETE', `/contacts/${created.body.id}`, { as: OWNER })).status).toBe(204);
  });

  it('deals: decimal amounts, related ids, status from the stage, a stage move through PATCH', async () => {
    const contact = await call('POST', '/contacts', { as: EDITOR, json: { name: 'Deal Contact' } });
    const created = await call('POST', '/deals', { as: EDITOR, json: { title: 'Shim deal', amount: '1500.5', currency: 'USD', contact: contact.body.id } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ title: 'Shim deal', amount: '1500.50', currency: 'USD', contact: contact.body.id, status: 'open', products: [] });
    const pipeline = await gql(stack.graphql, '{ pipeline { stages { stage { id kind } } } }', {}, bearer(tokens[VIEWER]!));
    const won = pipeline.data!.pipeline.stages.find((s: any) => s.stage.kind === 'WON').stage.id;
    const moved = await call('PATCH', `/deals/${created.body.id}`, { as: EDITOR, json: { stage: won, notes: 'signed' } });
    expect(moved).toMatchObject({ status: 200, body: { stage: won, status: 'won', notes: 'signed', closed_at: expect.any(String) } });
    expect((await call('GET', `/deals?status=won&contact=${contact.body.id}`, { as: VIEWER })).body.results.map((d: any) => d.id)).toEqual([created.body.id]);
    expect(await call('POST', '/deals', { as: EDITOR, json: { title: 'Bad', amount: 'lots' } })).toMatchObject({ status: 400, body: { amount: ['A valid number is required.'] } });
  });

  it('activities: logged on a lead, filtered by it, marked done through PATCH', async () => {
    const lead = await call('POST', '/leads', { as: EDITOR, json: { name: 'Activity Lead' } });
    const created = await call('POST', '/activities', { as: EDITOR, json: { type: 'task', subject: 'Send contract', lead: lead.body.id } });
    expect(created).toMatchObject({ status: 201, body: { type: 'task', subject: 'Send contract', done: false, lead: lead.body.id, contact: null, deal: null } });
    const listed = await call('GET', `/activities?lead=${lead.body.id}`, { as: VIEWER });
    expect(listed.body.results.map((a: any) => a.id)).toEqual([created.body.id]);
    const done = await call('PATCH', `/activities/${created.body.id}`, { as: EDITOR, json: { done: true, subject: 'Contract sent' } });
    expect(done).toMatchObject({ status: 200, body: { done: true, subject: 'Contract sent', completed_at: expect.any(String) } });
    expect((await call('GET', `/activities?lead=${lead.body.id}&status=open`, { as: VIEWER })).body.count).toBe(0);
    expect(await call('PATCH', `/activities/${created.body.id}`, { as: EDITOR, json: { lead: randomUUID() } })).toMatchObject({ status: 400, body: { lead: [expect.any(String)] } });
    expect((await call('GET', `/leads/${lead.body.id}`, { as: VIEWER })).body.last_activity_at).toEqual(expect.any(String));
  });
});
