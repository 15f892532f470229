import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../gateway/server.ts';
import type { GatewayConfig as Config } from '../gateway/config.ts';
import { createTestBackends, signToken, type TestBackends } from './support/deps.ts';
import { composeFakes, deadUrl, startFakeGateway, startFakeGraph } from './support/gateway-fakes.ts';
import { postJson } from './support/graphql.ts';

let backends: TestBackends;
let graph: Awaited<ReturnType<typeof startFakeGraph>>;
let supergraphSdl: string;
const gateways: Gateway[] = [];

/** A gateway over the fake graph (or `urls`), closed after the file. */
async function startGateway(config: Partial<Config> = {}, urls?: Record<string, string>) {
  const started = await startFakeGateway(backends, graph.all, { config, supergraphSdl, subgraphUrls: urls });
  gateways.push(started.gateway);
  return started;
}

const postTo = (base: string, body: unknown, headers: Record<string, string> = {}) => postJson(`${base}/graphql`, body, { headers });

let dev: string;
let prod: string;

beforeAll(async () => {
  backends = await createTestBackends({ MAX_DEPTH: '5', MAX_ALIASES: '10', MAX_TOKENS: '200', MAX_DIRECTIVES: '20', BODY_LIMIT_BYTES: '4096' });
  graph = await startFakeGraph(10);
  supergraphSdl = await composeFakes(graph.all);
  dev = (await startGateway({ NODE_ENV: 'development' })).base;
  prod = (await startGateway({ NODE_ENV: 'production' })).base;
});

afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  await graph?.close();
  await backends?.close();
});

describe('gateway HTTP: bad requests never crash it', () => {
  it('malformed JSON is a 400 JSON error and the process keeps answering', async () => {
    const response = await postTo(prod, '{"query": "{ echo }"');
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      errors: [{ message: 'The request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } }],
    });
    const ok = await postTo(prod, { query: '{ echo }' });
    expect(await ok.json()).toEqual({ data: { echo: 'hello' } });
  });

  it('a body over BODY_LIMIT_BYTES is a 413 JSON error', async () => {
    const response = await postTo(prod, { query: `{ echo } # ${'x'.repeat(5_000)}` });
    expect(response.status).toBe(413);
    expect((await response.json()).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('a syntax error is a 400 GRAPHQL_PARSE_FAILED, not a 500', async () => {
    const response = await postTo(prod, { query: '{ echo' });
    expect(response.status).toBe(400);
    expect((await response.json()).errors[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('batched requests are refused', async () => {
    const response = await postTo(prod, [{ query: '{ echo }' }, { query: '{ echo }' }]);
    expect(response.status).toBe(400);
    expect((await response.json()).errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('a GET without a preflight header is blocked (CSRF prevention)', async () => {
    const blocked = await fetch(`${prod}/graphql?query=%7Becho%7D`);
    expect(blocked.status).toBe(400);
    const allowed = await fetch(`${prod}/graphql?query=%7Becho%7D`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(await allowed.json()).toEqual({ data: { echo: 'hello' } });
  });

  it('an unknown route is a 404 JSON error', async () => {
    const response = await fetch(`${prod}/nope`);
    expect(response.status).toBe(404);
    expect((await response.json()).errors[0].extensions.code).toBe('NOT_FOUND');
  });
});

describe('gateway HTTP: query limits', () => {
  it('an unknown field is a 400 GRAPHQL_VALIDATION_FAILED; production gives no suggestion', async () => {
    const response = await postTo(prod, { query: '{ ech }' });
    expect(response.status).toBe(400);
    const [error] = (await response.json()).errors;
    expect(error.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(error.message).toBe('Cannot query field "ech" on type "Query".');
    const inDev = await (await postTo(dev, { query: '{ ech }' })).json();
    expect(inDev.errors[0].message).toContain('Did you mean "echo"?');
  });

  it('a query deeper than MAX_DEPTH is refused before any subgraph is called', async () => {
    graph.auth.headers.length = 0;
    const deep = '{ tree { child { child { child { child { child { name } } } } } } }';
    const response = await postTo(prod, { query: deep });
    expect(response.status).toBe(400);
    expect((await response.json()).errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(graph.auth.headers).toHaveLength(0);
    const inDev = await (await postTo(dev, { query: deep })).json();
    expect(inDev.errors[0].message).toMatch(/depth/i);
    const shallow = await postTo(prod, { query: '{ tree { child { child { name } } } }' });
    expect(shallow.status).toBe(200);
  });

  it('an alias bomb is refused', async () => {
    const query = `{ ${Array.from({ length: 50 }, (_, i) => `a${i}: echo`).join(' ')} }`;
    const response = await postTo(prod, { query });
    expect(response.status).toBe(400);
    expect((await response.json()).errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const inDev = await (await postTo(dev, { query })).json();
    expect(inDev.errors[0].message).toMatch(/alias/i);
  });

  it('a token flood is refused by the parser', async () => {
    const response = await postTo(prod, { query: `{ ${'echo '.repeat(300)} }` });
    expect(response.status).toBe(400);
    const [error] = (await response.json()).errors;
    expect(error.extensions.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(error.message).toContain('tokens');
  });

  it('too many directives are refused', async () => {
    const response = await postTo(dev, { query: `{ echo ${'@include(if: true) '.repeat(25)} }` });
    expect(response.status).toBe(400);
    expect((await response.json()).errors[0].message).toMatch(/directive/i);
  });
});

describe('gateway ops endpoints', () => {
  it('/health is 200 while the process lives', async () => {
    const response = await fetch(`${prod}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('/ready is 200 when every subgraph answers, 503 naming the ones that do not', async () => {
    const ready = await fetch(`${prod}/ready`);
    expect(ready.status).toBe(200);
    expect((await ready.json()).status).toBe('ready');
    const { base } = await startGateway({ NODE_ENV: 'production' }, { ...graph.urls, crm: await deadUrl() });
    const notReady = await fetch(`${base}/ready`);
    expect(notReady.status).toBe(503);
    const body = await notReady.json();
    expect(body.down).toEqual(['crm']);
    expect(JSON.stringify(body)).not.toContain('127.0.0.1');
  });

  it('/metrics exposes request counts by operation and status, and process metrics', async () => {
    await postTo(prod, { query: 'query MetricsProbe { echo }' });
    const text = await (await fetch(`${prod}/metrics`)).text();
    expect(text).toMatch(/gateway_requests_total\{operation="MetricsProbe",status="200"\} 1/);
    expect(text).toContain('gateway_request_duration_seconds_bucket');
    expect(text).toMatch(/gateway_subgraph_fetch_duration_seconds_count\{subgraph="auth",outcome="ok"\} \d+/);
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });
});

describe('GraphQL IDE', () => {
  it('is served at GET /graphql to browsers in development, offline, with the demo login preloaded', async () => {
    const response = await fetch(`${dev}/graphql`, { headers: { accept: 'text/html', 'accept-encoding': 'gzip' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(response.headers.get('content-encoding')).toBe('gzip');
    const html = await response.text();
    expect(html).toContain('login(email: \\"owner@acme.example\\"');
    expect(html).toContain(JSON.stringify(backends.config.DEMO_PASSWORD).slice(1, -1));
    expect(html).toContain('products(first: 5, channel: \\"acme-channel\\")');
    expect(html).not.toMatch(/<script[^>]+src="https?:/);
    const plain = await fetch(`${dev}/graphql`, { headers: { accept: 'text/html', 'accept-encoding': 'identity' } });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect((await plain.text()).length).toBe(html.length);
  });

  it('is not served in production', async () => {
    const response = await fetch(`${prod}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.headers.get('content-type')).not.toContain('text/html');
    expect(await response.text()).not.toContain('GraphiQL');
  });
});

describe('rate limits', () => {
  it('per IP: over RATE_LIMIT_PER_MINUTE_IP is a 429 RATE_LIMITED with retry-after', async () => {
    const { base } = await startGateway({ NODE_ENV: 'production', RATE_LIMIT_PER_MINUTE_IP: 3 });
    for (let i = 0; i < 3; i++) expect((await postTo(base, { query: '{ echo }' })).status).toBe(200);
    const limited = await postTo(base, { query: '{ echo }' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = await limited.json();
    expect(body.errors[0].extensions.code).toBe('RATE_LIMITED');
    // Ops endpoints stay reachable for probes.
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });

  it('per tenant: over RATE_LIMIT_PER_MINUTE_TENANT is a 429 for that tenant only', async () => {
    const { base } = await startGateway({ NODE_ENV: 'production', RATE_LIMIT_PER_MINUTE_TENANT: 2 });
    const noisy = await signToken(backends.keys.privateJwk);
    const quiet = await signToken(backends.keys.privateJwk);
    const as = (token: string) => postTo(base, { query: '{ echo }' }, { authorization: `Bearer ${token}` });
    expect((await as(noisy)).status).toBe(200);
    expect((await as(noisy)).status).toBe(200);
    expect((await as(noisy)).status).toBe(429);
    expect((await as(quiet)).status).toBe(200);
    expect((await postTo(base, { query: '{ echo }' })).status).toBe(200);
  });
});

describe('proxies and browsers', () => {
  it('ignores a client-sent X-Forwarded-For unless GATEWAY_TRUST_PROXY says so', async () => {
    const ipOf = async (base: string, forwarded: string) => {
      const limited = await postTo(base, { query: '{ __typename }' }, { 'x-forwarded-for': forwarded });
      return limited.status;
    };
    // One request allowed per IP: with trust, each forged address gets its own budget.
    const strict = (await startGateway({ RATE_LIMIT_PER_MINUTE_IP: 1 })).base;
    expect(await ipOf(strict, '203.0.113.1')).toBe(200);
    expect(await ipOf(strict, '203.0.113.2')).toBe(429);
    const behindProxy = (await startGateway({ RATE_LIMIT_PER_MINUTE_IP: 1, GATEWAY_TRUST_PROXY: 1 })).base;
    expect(await ipOf(behindProxy, '203.0.113.1')).toBe(200);
    expect(await ipOf(behindProxy, '203.0.113.2')).toBe(200);
    expect(await ipOf(behindProxy, '203.0.113.1')).toBe(429);
  });

  it('answers CORS preflights for CORS_ORIGINS only', async () => {
    const base = (await startGateway({ CORS_ORIGINS: ['https://app.bizosaas.example'] })).base;
    const preflight = (origin: string) =>
      fetch(`${base}/graphql`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
      });
    const allowed = await preflight('https://app.bizosaas.example');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.bizosaas.example');
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    // Without CORS_ORIGINS no CORS header is ever sent.
    const none = await fetch(`${dev}/graphql`, { method: 'OPTIONS', headers: { origin: 'https://app.bizosaas.example', 'access-control-request-method': 'POST' } });
    expect(none.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('introspection', () => {
  it('is on in development and off in production', async () => {
    const query = { query: '{ __schema { queryType { name } } }' };
    const devResult = await (await postTo(dev, query)).json();
    expect(devResult.data.__schema.queryType.name).toBe('Query');
    const prodResponse = await postTo(prod, query);
    expect(prodResponse.status).toBe(400);
    expect((await prodResponse.json()).errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
