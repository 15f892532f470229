import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import { FORM_RATE_LIMITS } from '../subgraphs/crm/forms.ts';
import { DEMO_FORM_KEYS } from '../subgraphs/crm/seed.ts';
import { bearer, gql } from './support/graphql.ts';
import { startSupergraph, type RunningSupergraph } from './support/stack.ts';

// The public lead-capture mutation: anonymous through the gateway, the form key selects the
// tenant; bad input is refused without writing; the per-IP and per-key rate limits hold.

let stack: RunningSupergraph;
let url: string;
let owner: string;
const acme = DEMO_TENANTS[0].id;

const SUBMIT = `mutation($k: String!, $i: LeadFormSubmissionInput!) { submitLeadForm(formKey: $k, input: $i) { ok errors { field code message } } }`;
const visitor = (n: number | string) => ({ name: `Visitor ${n}`, email: `visitor${n}@example.org`, company: 'Web Co', message: 'Please call me back.' });
/** Anonymous, through the gateway (client IP 127.0.0.1). */
const submit = (formKey: string, input: Record<string, unknown>) => gql(url, SUBMIT, { k: formKey, i: input });
/** Straight to the CRM subgraph as the gateway would call it for a client at `ip`. */
const submitFrom = (ip: string, formKey: string, input: Record<string, unknown>) =>
  gql(stack.urls.crm!, SUBMIT, { k: formKey, i: input }, { 'x-forwarded-for': ip });

const acmeLeadCount = () =>
  stack.backends.db.withTenant({ tenantId: acme, accountId: null }, async (tx) => (await tx.query('SELECT count(*)::int AS n FROM crm.leads')).rows[0].n as number);

/** Forgets the per-IP and per-key counters (each test starts with a clean window). */
async function resetLimits() {
  const redis = stack.backends.deps('crm').redis;
  const keys = await redis.keys(`${stack.backends.config.REDIS_PREFIX}*crm-form`);
  if (keys.length) await redis.del(...keys);
}

async function createForm(name: string, extra: Record<string, unknown> = {}) {
  const result = await gql(
    url,
    'mutation($i: LeadFormCreateInput!) { createLeadForm(input: $i) { leadForm { id name keyPrefix source tags owner { email } } formKey errors { field code } } }',
    { i: { name, ...extra } },
    bearer(owner),
  );
  expect(result.data!.createLeadForm.errors).toEqual([]);
  return result.data!.createLeadForm as { leadForm: { id: string; keyPrefix: string; source: string; tags: string[] }; formKey: string };
}

beforeAll(async () => {
  stack = await startSupergraph();
  url = stack.graphql;
  owner = await stack.login('owner@acme.example');
});
afterAll(() => stack?.close());

describe('submitLeadForm', () => {
  it('works anonymously: the key selects the tenant, the lead gets the form source, owner and tags', async () => {
    await resetLimits();
    const { leadForm, formKey } = await createForm('Pricing page', { tags: ['pricing'], ownerId: '00000000-0000-4000-9000-000000000002' });
    expect(formKey).toMatch(/^lf_[A-Za-z0-9_-]{32}$/);
    expect(formKey.startsWith(leadForm.keyPrefix)).toBe(true);
    expect(leadForm).toMatchObject({ source: 'form:Pricing page', tags: ['pricing'] });
    // The owner reads (and caches) the list first: the anonymous write must still show up.
    const LATEST = '{ leads(first: 1) { totalCount edges { node { name email source tags notes status owner { email } } } } }';
    const before = (await gql(url, LATEST, {}, bearer(owner))).data!.leads;

    const result = await submit(formKey, visitor('pricing'));
    expect(result.status).toBe(200);
    expect(result.data!.submitLeadForm).toEqual({ ok: true, errors: [] });
    const after = (await gql(url, LATEST, {}, bearer(owner))).data!.leads;
    expect(after.totalCount).toBe(before.totalCount + 1);
    expect(after.edges[0].node).toEqual({
      name: 'Visitor pricing',
      email: 'visitorpricing@example.org',
      source: 'form:Pricing page',
      tags: ['pricing'],
      notes: 'Please call me back.',
      status: 'NEW',
      owner: { email: 'editor@acme.example' },
    });
    // The anonymous caller still reads nothing, and another tenant does not see the lead.
    expect((await gql(url, LATEST)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const globex = await stack.login('owner@globex.example');
    const search = await gql(url, '{ leads(filter: { search: "visitorpricing" }) { totalCount } }', {}, bearer(globex));
    expect(search.data!.leads.totalCount).toBe(0);
  });

  it('the demo forms post into their own tenants', async () => {
    await resetLimits();
    const globex = await stack.login('owner@globex.example');
    const COUNT = '{ leads { totalCount } }';
    const before = (await gql(url, COUNT, {}, bearer(globex))).data!.leads.totalCount;
    expect((await submit(DEMO_FORM_KEYS.globex!, visitor('globex'))).data!.submitLeadForm.ok).toBe(true);
    expect((await gql(url, COUNT, {}, bearer(globex))).data!.leads.totalCount).toBe(before + 1);
  });

  it('rejects unknown keys, malformed and oversized input, and writes nothing', async () => {
    await resetLimits();
    const before = await acmeLeadCount();
    const key = DEMO_FORM_KEYS.acme!;
    const cases: [string, Record<string, unknown>, { field: string | null; code: string }[]][] = [
      ['lf_' + 'x'.repeat(32), visitor(1), [{ field: 'formKey', code: 'INVALID_FORM_KEY' }]],
      ['not a key', visitor(1), [{ field: 'formKey', code: 'INVALID_FORM_KEY' }]],
      [key, { name: '', email: 'nope' }, [{ field: 'name', code: 'REQUIRED' }, { field: 'email', code: 'INVALID' }]],
      [key, { name: 'Bell\u0007', email: 'bell@example.org' }, [{ field: 'name', code: 'INVALID' }]],
      [key, { ...visitor(2), message: 'x'.repeat(5001) }, [{ field: 'message', code: 'TOO_LONG' }]],
      [key, { ...visitor(3), company: 'c'.repeat(300) }, [{ field: 'company', code: 'TOO_LONG' }]],
      [key, { ...visitor(4), message: 'y'.repeat(20_000) }, [{ field: null, code: 'TOO_LONG' }]],
    ];
    for (const [formKey, input, errors] of cases) {
      const result = await submit(formKey, input);
      expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
      expect(result.data!.submitLeadForm.ok).toBe(false);
      expect(result.data!.submitLeadForm.errors.map((e: any) => ({ field: e.field, code: e.code }))).toEqual(errors);
    }
    // Not even valid GraphQL input: a GraphQL validation error, no write either.
    const missing = await gql(url, SUBMIT, { k: key, i: { name: 'No email' } });
    expect(missing.errors?.[0]?.extensions?.code).toMatch(/BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED/);
    expect(await acmeLeadCount()).toBe(before);
  });

  it('a deleted form key stops working at once', async () => {
    await resetLimits();
    const { leadForm, formKey } = await createForm('Short-lived');
    expect((await submit(formKey, visitor('short'))).data!.submitLeadForm.ok).toBe(true);
    const deleted = await gql(url, 'mutation($id: ID!) { deleteLeadForm(id: $id) { deletedId errors { code } } }', { id: leadForm.id }, bearer(owner));
    expect(deleted.data!.deleteLeadForm).toEqual({ deletedId: leadForm.id, errors: [] });
    expect((await submit(formKey, visitor('short2'))).data!.submitLeadForm.errors[0].code).toBe('INVALID_FORM_KEY');
    const forms = await gql(url, '{ leadForms(first: 50) { edges { node { name } } } }', {}, bearer(owner));
    expect(forms.data!.leadForms.edges.map((e: any) => e.node.name)).not.toContain('Short-lived');
  });
});

describe('submitLeadForm rate limits', () => {
  it(`per client IP: ${FORM_RATE_LIMITS.perIp} posts a minute through the gateway, then RATE_LIMITED`, async () => {
    await resetLimits();
    const before = await acmeLeadCount();
    const key = DEMO_FORM_KEYS.acme!;
    for (let i = 0; i < FORM_RATE_LIMITS.perIp; i++) {
      const result = await submit(key, visitor(`ip${i}`));
      expect(result.data!.submitLeadForm.ok, JSON.stringify(result.errors)).toBe(true);
    }
    const limited = await submit(key, visitor('ip-over'));
    expect(limited.data?.submitLeadForm ?? null).toBeNull();
    expect(limited.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(limited.errors![0]!.extensions!.retryAfter).toBeGreaterThan(0);
    // Unknown keys from this IP are throttled too (no key guessing), and so are other forms.
    const { formKey } = await createForm('Other form');
    expect((await submit(formKey, visitor('other'))).errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect((await submit('lf_' + 'z'.repeat(32), visitor('guess'))).errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(await acmeLeadCount()).toBe(before + FORM_RATE_LIMITS.perIp);
    // Another client (another IP) is not affected.
    expect((await submitFrom('198.51.100.7', key, visitor('elsewhere'))).data!.submitLeadForm.ok).toBe(true);
  });

  it(`per form key: ${FORM_RATE_LIMITS.perKey} posts a minute from all IPs together`, async () => {
    await resetLimits();
    const { formKey } = await createForm('Busy form');
    const ip = (i: number) => `203.0.113.${Math.floor(i / FORM_RATE_LIMITS.perIp) + 1}`;
    for (let i = 0; i < FORM_RATE_LIMITS.perKey; i++) {
      const result = await submitFrom(ip(i), formKey, visitor(`key${i}`));
      expect(result.data!.submitLeadForm.ok, `post ${i}: ${JSON.stringify(result.errors)}`).toBe(true);
    }
    const fresh = '192.0.2.200';
    expect((await submitFrom(fresh, formKey, visitor('key-over'))).errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    // The same fresh IP may still post to another form.
    expect((await submitFrom(fresh, DEMO_FORM_KEYS.acme!, visitor('key-other'))).data!.submitLeadForm.ok).toBe(true);
  });
});
