import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../gateway/server.ts';
import { signToken } from './support/deps.ts';
import { startFakeStack, type FakeStack } from './support/gateway-fakes.ts';
import { postJson } from './support/graphql.ts';

let fake: FakeStack;
let backends: FakeStack['backends'];
let graph: FakeStack['graph'];
let base: string;

const post = (body: unknown, headers: Record<string, string> = {}) => postJson(`${base}/graphql`, body, { headers });

beforeAll(async () => {
  // 1.5 s: every case here but the slow one must be answered within it, on a host that stalls
  // for a second at times. The slow subgraph holds its answer until the stack closes.
  fake = await startFakeStack({ SUBGRAPH_TIMEOUT_MS: '1500' }, 60_000);
  ({ backends, graph, base } = fake);
});
afterAll(() => fake?.close());

describe('gateway -> subgraphs', () => {
  it('answers a query across two subgraphs', async () => {
    const response = await post({ query: '{ echo products(first: 5, channel: "acme-channel") { totalCount edges { node { name } } } }' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      data: { echo: 'hello', products: { totalCount: 1, edges: [{ node: { name: 'Mug' } }] } },
    });
  });

  it('forwards only authorization and x-request-id (plus its own x-forwarded-for); Saleor gets the App token', async () => {
    const token = await signToken(backends.keys.privateJwk);
    graph.auth.headers.length = 0;
    graph.saleor.headers.length = 0;
    const response = await post(
      { query: '{ echo products(first: 1) { totalCount } }' },
      {
        authorization: `Bearer ${token}`,
        'x-request-id': 'req-123',
        cookie: 'session=secret',
        'x-custom': 'nope',
        'x-forwarded-for': '6.6.6.6',
        'x-real-ip': '6.6.6.6',
        'apollo-require-preflight': 'true',
      },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('req-123');
    const [toAuth] = graph.auth.headers;
    expect(toAuth!.authorization).toBe(`Bearer ${token}`);
    expect(toAuth!['x-request-id']).toBe('req-123');
    expect(toAuth!['x-forwarded-for']).toBe('127.0.0.1');
    for (const name of ['cookie', 'x-custom', 'x-real-ip', 'apollo-require-preflight']) expect(toAuth![name]).toBeUndefined();
    const [toSaleor] = graph.saleor.headers;
    expect(toSaleor!.authorization).toBe(`Bearer ${backends.config.SALEOR_APP_TOKEN}`);
    expect(JSON.stringify(toSaleor)).not.toContain(token);
    expect(toSaleor!.cookie).toBeUndefined();
  });

  it('generates a request id when the client sends none (or a bad one) and passes it on', async () => {
    graph.auth.headers.length = 0;
    const response = await post({ query: '{ echo }' }, { 'x-request-id': 'bad id with spaces' });
    const id = response.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(graph.auth.headers[0]!['x-request-id']).toBe(id);
  });

  it('a slow subgraph costs its own fields only: partial data and an error, and the next request is answered', async () => {
    // The slow subgraph does not answer before the stack closes, the timeout is 1.5 s: `slow: null`
    // with the timeout error shows the gateway did not wait for it.
    const response = await post({ query: '{ echo slow }' });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.data).toEqual({ echo: 'hello', slow: null });
    expect(body.errors).toEqual([
      expect.objectContaining({
        message: 'The slow service did not answer in time.',
        extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'slow' },
      }),
    ]);
    const next = await post({ query: '{ echo }' });
    expect(await next.json()).toEqual({ data: { echo: 'hello' } });
  });

  it('a stopped subgraph gives partial data and SUBGRAPH_UNAVAILABLE, without its URL', async () => {
    expect((await (await post({ query: '{ contacts }' })).json()).data).toEqual({ contacts: ['Ada'] });
    await graph.crm.close();
    const response = await post({ query: '{ echo contacts }' });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain('127.0.0.1');
    expect(text).not.toContain('ECONNREFUSED');
    const body = JSON.parse(text);
    expect(body.data).toEqual({ echo: 'hello', contacts: null });
    expect(body.errors).toEqual([
      expect.objectContaining({
        message: 'The crm service is unavailable.',
        extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'crm' },
      }),
    ]);
  });

  it('redacts a subgraph error: no SQL, stack or internal URL reaches the client', async () => {
    const response = await post({ query: '{ echo boom }' });
    const text = await response.text();
    for (const leak of ['insert into', 'postgres://', '10.0.0.5', 'stacktrace', 'at ', '.ts:']) expect(text).not.toContain(leak);
    const body = JSON.parse(text);
    expect(body.data).toEqual({ echo: 'hello', boom: null });
    expect(body.errors).toEqual([
      { message: 'Internal server error', path: ['boom'], extensions: { code: 'INTERNAL_SERVER_ERROR', serviceName: 'auth' } },
    ]);
  });

  it('with SALEOR_API_URL set, introspects and composes the subgraphs at start (a real Saleor in place of the stand-in)', async () => {
    graph.saleor.headers.length = 0;
    const introspecting = await createGateway({
      config: { ...backends.config, SALEOR_API_URL: graph.saleor.url },
      subgraphUrls: { auth: graph.auth.url, saleor: graph.saleor.url },
    });
    try {
      const url = await introspecting.listen(0, '127.0.0.1');
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ echo products(first: 1) { totalCount } }' }),
      });
      expect(await response.json()).toEqual({ data: { echo: 'hello', products: { totalCount: 1 } } });
      // The schema load (_service { sdl }) went to Saleor with the App token too.
      expect(graph.saleor.headers.length).toBeGreaterThanOrEqual(2);
      for (const headers of graph.saleor.headers) expect(headers.authorization).toBe(`Bearer ${backends.config.SALEOR_APP_TOKEN}`);
    } finally {
      await introspecting.close();
    }
  });
});
