import { Validator } from '@seriousme/openapi-schema-validator';
import { buildClientSchema, getIntrospectionQuery, parse, validate, type IntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../gateway/rest/routes.ts';
import { openApiPath } from '../gateway/rest/openapi.ts';
import { DEMO_PASSWORD, gql } from './support/graphql.ts';
import { expectDocumented, rest } from './support/rest.ts';
import { startSupergraph, type RunningSupergraph } from './support/stack.ts';

// The legacy REST shim (/api/brain/*) over the whole supergraph: auth and Saleor routes, the
// errors and the OpenAPI document. The CRM routes are in rest-crm.test.ts.
let stack: RunningSupergraph;
let base: string;

beforeAll(async () => {
  stack = await startSupergraph();
  base = stack.base;
});
afterAll(() => stack?.close());

const call = (method: string, path: string, options: Omit<Parameters<typeof rest>[1], 'method'> = {}) => rest(`${base}${path}`, { method, ...options });

const login = async (email: string) => {
  const { status, body } = await call('POST', '/api/brain/auth/login', { json: { email, password: DEMO_PASSWORD } });
  expect(status).toBe(200);
  return body as { access_token: string; refresh_token: string; token_type: string; expires_in: number };
};

/** The shim's OpenAPI document, which real answers are checked against. */
let openapi: any;

describe('auth routes (FastAPI-Users shapes)', () => {
  beforeAll(async () => {
    openapi = (await call('GET', '/api/brain/openapi.json')).body;
  });

  it('logs in with JSON and with the OAuth2 password form', async () => {
    const tokens = await login('editor@acme.example');
    expect(tokens).toEqual({ access_token: expect.any(String), refresh_token: expect.any(String), token_type: 'bearer', expires_in: 900 });
    expectDocumented(openapi, 'authLogin', tokens);
    const form = await call('POST', '/api/brain/auth/login', {
      form: { grant_type: 'password', username: 'viewer@acme.example', password: DEMO_PASSWORD, scope: '' },
    });
    expect(form.status).toBe(200);
    expect(form.body.token_type).toBe('bearer');
    const me = await call('GET', '/api/brain/auth/me', { token: form.body.access_token });
    expect(me.body.email).toBe('viewer@acme.example');
  });

  it('bad credentials are 400 LOGIN_BAD_CREDENTIALS, missing fields a 422 detail list', async () => {
    const wrong = await call('POST', '/api/brain/auth/login', { json: { email: 'owner@acme.example', password: 'nope-nope-nope' } });
    expect(wrong).toMatchObject({ status: 400, body: { detail: 'LOGIN_BAD_CREDENTIALS' } });
    const missing = await call('POST', '/api/brain/auth/login', { form: { username: 'owner@acme.example' } });
    expect(missing.status).toBe(422);
    expect(missing.body).toEqual({ detail: [{ type: 'missing', loc: ['body', 'password'], msg: 'Field required' }] });
    const noUser = await call('POST', '/api/brain/auth/login', { json: { password: 'x' } });
    expect(noUser.body.detail[0].loc).toEqual(['body', 'username']);
  });

  it('/graphql still refuses form posts (CSRF): the form parser is scoped to the shim', async () => {
    const response = await fetch(stack.graphql, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'query=%7B__typename%7D',
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });

  it('GET /auth/me: 401 without a token, the account with one', async () => {
    const anonymous = await call('GET', '/api/brain/auth/me');
    expect(anonymous).toMatchObject({ status: 401, body: { detail: 'Unauthorized' } });
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    const forged = await call('GET', '/api/brain/auth/me', { token: 'not.a.jwt' });
    expect(forged.status).toBe(401);
    const { access_token } = await login('owner@acme.example');
    const me = await call('GET', '/api/brain/auth/me', { token: access_token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      email: 'owner@acme.example',
      is_active: true,
      tenant: { slug: 'acme', saleor_channel: 'acme-channel' },
      roles: ['owner'],
    });
    expectDocumented(openapi, 'authMe', me.body);
  });

  it('refresh rotates; a rotated token is refused; logout revokes; logout without anything is still 204', async () => {
    const first = await login('editor@acme.example');
    const refreshed = await call('POST', '/api/brain/auth/refresh', { json: { refresh_token: first.refresh_token } });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(first.refresh_token);
    const reused = await call('POST', '/api/brain/auth/refresh', { json: { refresh_token: first.refresh_token } });
    expect(reused).toMatchObject({ status: 401, body: { detail: 'Invalid or expired refresh token.' } });
    expect((await call('POST', '/api/brain/auth/refresh', { json: {} })).status).toBe(422);

    const second = await login('editor@acme.example');
    const out = await call('POST', '/api/brain/auth/logout', { json: { refresh_token: second.refresh_token }, token: second.access_token });
    expect(out.status).toBe(204);
    expect(out.body).toBeNull();
    expect((await call('POST', '/api/brain/auth/refresh', { json: { refresh_token: second.refresh_token } })).status).toBe(401);
    // Form-encoded and anonymous (the refresh token is the credential), and the empty call.
    const third = await login('editor@acme.example');
    expect((await call('POST', '/api/brain/auth/logout', { form: { refresh_token: third.refresh_token } })).status).toBe(204);
    expect((await call('POST', '/api/brain/auth/refresh', { form: { refresh_token: third.refresh_token } })).status).toBe(401);
    expect((await call('POST', '/api/brain/auth/logout', { headers: { 'content-type': 'application/json' }, body: '' })).status).toBe(204);
  });

  it('GET /auth/health reflects the auth subgraph', async () => {
    const health = await call('GET', '/api/brain/auth/health');
    expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
  });
});

describe('saleor routes', () => {
  it('lists products with count, an absolute next link carrying the cursor, and the documented fields', async () => {
    const page = await call('GET', '/api/brain/saleor/products?page_size=3&channel=acme-channel');
    expect(page.status).toBe(200);
    expect(page.body.results).toHaveLength(3);
    expectDocumented(openapi, 'saleorProductsList', page.body);
    const expected = await gql(stack.graphql, '{ products(first: 1, channel: "acme-channel") { totalCount } }');
    expect(page.body.count).toBe(expected.data!.products.totalCount);
    const product = page.body.results[0];
    expect(product).toMatchObject({ id: expect.any(String), name: expect.any(String), slug: expect.any(String), price: { amount: expect.any(Number), currency: 'USD' } });
    expect(product.description).not.toMatch(/^\{/); // plain text, not EditorJS JSON
    const next = new URL(page.body.next);
    expect(`${next.protocol}//${next.host}`).toBe(base);
    expect(next.searchParams.get('page_size')).toBe('3');
    expect(next.searchParams.get('channel')).toBe('acme-channel');
    const second = await call('GET', `${next.pathname}${next.search}`);
    expect(second.body.results).toHaveLength(3);
    expect(second.body.results.map((p: any) => p.id)).not.toContain(product.id);
  });

  it("without ?channel= a logged-in caller gets its tenant's channel; with and without a token", async () => {
    const { access_token } = await login('owner@globex.example');
    const mine = await call('GET', '/api/brain/saleor/products?page_size=100', { token: access_token });
    const globex = await call('GET', '/api/brain/saleor/products?page_size=100&channel=globex-channel');
    expect(mine.status).toBe(200);
    expect(mine.body.results.map((p: any) => p.id)).toEqual(globex.body.results.map((p: any) => p.id));
    const anonymous = await call('GET', '/api/brain/saleor/products?page_size=1');
    expect(anonymous.status).toBe(200);
  });

  it('one product by id or slug; unknown and malformed ids are 404', async () => {
    const list = await call('GET', '/api/brain/saleor/products?page_size=1&channel=acme-channel');
    const { id, slug } = list.body.results[0];
    const byId = await call('GET', `/api/brain/saleor/products/${encodeURIComponent(id)}?channel=acme-channel`);
    expect(byId.status).toBe(200);
    expect(byId.body).toEqual(list.body.results[0]);
    expectDocumented(openapi, 'saleorProductsRetrieve', byId.body);
    const bySlug = await call('GET', `/api/brain/saleor/products/${slug}?channel=acme-channel`);
    expect(bySlug.body.id).toBe(id);
    const unknown = Buffer.from('Product:999999').toString('base64');
    expect(await call('GET', `/api/brain/saleor/products/${unknown}`)).toMatchObject({ status: 404, body: { detail: 'Not found.' } });
    expect(await call('GET', '/api/brain/saleor/products/no-such-slug')).toMatchObject({ status: 404, body: { detail: 'Not found.' } });
  });

  it('a bad query parameter is a DRF 400', async () => {
    const bad = await call('GET', '/api/brain/saleor/products?page_size=abc');
    expect(bad).toMatchObject({ status: 400, body: { page_size: ['A valid integer is required.'] } });
  });

  it('links honour the request host', async () => {
    const response = await stack.gateway.app.inject({ method: 'GET', url: '/api/brain/saleor/products?page_size=1', headers: { host: 'legacy.example:8443' } });
    expect(response.json().next).toMatch(/^http:\/\/legacy\.example:8443\/api\/brain\/saleor\/products\?page_size=1&after=/);
  });
});

describe('the shim as a whole', () => {
  it('unknown paths are a JSON 404, a wrong method a 405 with Allow, bad JSON a 400 with a message', async () => {
    expect(await call('GET', '/api/brain/nope')).toMatchObject({ status: 404, body: { detail: 'Not found.' } });
    expect(await call('GET', '/api/brain/saleor/products/x/y')).toMatchObject({ status: 404, body: { detail: 'Not found.' } });
    const wrong = await call('DELETE', '/api/brain/auth/login');
    expect(wrong).toMatchObject({ status: 405, body: { detail: 'Method "DELETE" not allowed.' } });
    expect(wrong.headers.get('allow')).toBe('POST');
    const broken = await call('POST', '/api/brain/auth/login', { headers: { 'content-type': 'application/json' }, body: '{"email": ' });
    expect(broken.status).toBe(400);
    expect(broken.body.detail).toMatch(/^JSON parse error - /);
    const notAnObject = await call('POST', '/api/brain/auth/login', { json: ['x'] });
    expect(notAnObject.status).toBe(422);
    const text = await call('POST', '/api/brain/auth/login', { headers: { 'content-type': 'text/plain' }, body: 'hi' });
    expect(text).toMatchObject({ status: 415, body: { detail: 'Unsupported media type "text/plain" in request.' } });
    // A trailing slash (Django's style) reaches the same route.
    expect((await call('GET', '/api/brain/auth/health/')).body).toEqual({ status: 'ok' });
    // Every answer carries the request id, like /graphql.
    expect(wrong.headers.get('x-request-id')).toBeTruthy();
  });

  it('REST calls are logged and counted under their GraphQL operation, like /graphql calls', async () => {
    await call('GET', '/api/brain/saleor/products?page_size=1');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/gateway_requests_total\{operation="RestProducts",status="200"\} \d+/);
  });

  it('rate limits apply to REST calls, answered in the DRF shape with Retry-After', async () => {
    const { gateway: limited, base: limitedBase } = await stack.startGateway({ config: { RATE_LIMIT_PER_MINUTE_IP: 2 } });
    try {
      const url = `${limitedBase}/api/brain/saleor/products?page_size=1`;
      const statuses = [];
      let last: Response | undefined;
      for (let i = 0; i < 3; i++) {
        last = await fetch(url);
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 429]);
      expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await last!.json()).detail).toMatch(/^Request was throttled\. Expected available in \d+ seconds?\.$/);
    } finally {
      await limited.close();
    }
  });

  it('CRM answers match their documented schemas', async () => {
    const token = await stack.login('owner@acme.example');
    for (const resource of ['leads', 'contacts', 'deals', 'activities']) {
      const list = await call('GET', `/api/brain/django-crm/${resource}?page_size=50`, { token });
      expect(list.status).toBe(200);
      expect(list.body.results.length).toBeGreaterThan(0);
      expectDocumented(openapi, `${resource}List`, list.body);
      const one = await call('GET', `/api/brain/django-crm/${resource}/${list.body.results[0].id}`, { token });
      expectDocumented(openapi, `${resource}Retrieve`, one.body);
    }
  });

  it('GET /api/brain/openapi.json is a valid OpenAPI 3.1 document listing every route of the table', async () => {
    const { status, body } = await call('GET', '/api/brain/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    const result = await new Validator().validate(body);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    for (const route of ROUTES) {
      const operation = body.paths[`/api/brain${openApiPath(route.path)}`]?.[route.method.toLowerCase()];
      expect(operation?.operationId, `${route.method} ${route.path}`).toBe(route.id);
    }
  });

  it("every route's operation is valid against the gateway's schema", async () => {
    const introspection = await gql<IntrospectionQuery>(stack.graphql, getIntrospectionQuery());
    const schema = buildClientSchema(introspection.data!);
    const withOperations = ROUTES.filter((route) => route.operation);
    expect(withOperations.length).toBeGreaterThan(0);
    for (const route of withOperations) {
      expect(validate(schema, parse(route.operation!)).map((e) => e.message), `${route.method} ${route.path}`).toEqual([]);
    }
  });

  it('the auth health turns 503 when the auth subgraph is down (last: stops it)', async () => {
    const { access_token } = await login('viewer@acme.example');
    await stack.servers.auth!.close();
    const health = await call('GET', '/api/brain/auth/health');
    expect(health).toMatchObject({ status: 503, body: { status: 'unavailable' } });
    const me = await call('GET', '/api/brain/auth/me', { token: access_token });
    expect(me.status).toBe(503);
    expect(JSON.stringify(me.body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
  });
});
