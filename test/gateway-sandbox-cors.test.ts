import { runInNewContext } from 'node:vm';
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxLink, sandboxUrl } from '../gateway/ide.ts';
import type { Gateway } from '../gateway/server.ts';
import { createTestBackends, type TestBackends } from './support/deps.ts';
import { startFakeGateway, startFakeGraph } from './support/gateway-fakes.ts';

/*
 * Apollo Sandbox against the gateway (gateway/cors.ts, gateway/ide.ts): outside production its
 * origin may call the gateway, in production only CORS_ORIGINS may.
 */

const SANDBOX = 'https://studio.apollographql.com';
const EMBEDDED_SANDBOX = 'https://sandbox.embed.apollographql.com';
const APP = 'https://app.bizosaas.example';

let backends: TestBackends;
let graph: Awaited<ReturnType<typeof startFakeGraph>>;
const gateways: Gateway[] = [];
let dev: string;
let prod: string;

/** A browser's preflight before Sandbox's POST: its JSON body, client-awareness headers and the user's Authorization. */
const preflight = (base: string, origin: string) =>
  fetch(`${base}/graphql`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'apollographql-client-name,apollographql-client-version,authorization,content-type,x-apollo-operation-name',
    },
  });

/** Sandbox's schema load: the introspection query, POSTed as JSON from its origin. */
const introspect = (base: string, origin: string) =>
  fetch(`${base}/graphql`, {
    method: 'POST',
    headers: {
      origin,
      'content-type': 'application/json',
      'apollographql-client-name': 'Apollo Sandbox',
      'apollographql-client-version': '2.0.0',
      'x-apollo-operation-name': 'IntrospectionQuery',
    },
    body: JSON.stringify({ query: getIntrospectionQuery({ inputValueDeprecation: true }), operationName: 'IntrospectionQuery' }),
  });

beforeAll(async () => {
  backends = await createTestBackends();
  graph = await startFakeGraph(10);
  for (const NODE_ENV of ['development', 'production'] as const) {
    const { gateway, base } = await startFakeGateway(backends, graph.all, { config: { NODE_ENV, CORS_ORIGINS: [APP] } });
    gateways.push(gateway);
    if (NODE_ENV === 'development') dev = base;
    else prod = base;
  }
});

afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  await graph?.close();
  await backends?.close();
});

describe('Apollo Sandbox', () => {
  it('in development, Sandbox (hosted and embedded) passes the preflight and loads the schema', async () => {
    for (const origin of [SANDBOX, EMBEDDED_SANDBOX, APP]) {
      const allowed = await preflight(dev, origin);
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe(origin);
      expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
      const headers = allowed.headers.get('access-control-allow-headers')!.split(',').map((h) => h.trim());
      for (const header of ['apollographql-client-name', 'apollographql-client-version', 'authorization', 'content-type', 'x-apollo-operation-name']) {
        expect(headers).toContain(header);
      }
      expect(allowed.headers.get('access-control-allow-credentials')).toBeNull(); // bearer tokens, never cookies
    }
    const response = await introspect(dev, SANDBOX);
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(SANDBOX);
    const body = (await response.json()) as { data: { __schema: { queryType: { name: string }; types: { name: string }[] } } };
    expect(body.data.__schema.queryType.name).toBe('Query');
    expect(body.data.__schema.types.map((t) => t.name)).toContain('Viewer');
    // Any other origin gets no CORS header: the browser keeps the response from its page.
    expect((await preflight(dev, 'https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('in production, only CORS_ORIGINS: Sandbox is refused', async () => {
    for (const origin of [SANDBOX, EMBEDDED_SANDBOX]) {
      expect((await preflight(prod, origin)).headers.get('access-control-allow-origin')).toBeNull();
      const response = await introspect(prod, origin);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      await response.arrayBuffer();
    }
    expect((await preflight(prod, APP)).headers.get('access-control-allow-origin')).toBe(APP);
  });

  it('the IDE page links to Apollo Sandbox on this endpoint (development only)', async () => {
    expect(sandboxUrl('http://127.0.0.1:8001/graphql')).toBe('https://studio.apollographql.com/sandbox/explorer?endpoint=http%3A%2F%2F127.0.0.1%3A8001%2Fgraphql');
    const page = await (await fetch(`${dev}/graphql`, { headers: { accept: 'text/html' } })).text();
    expect(page).toContain(sandboxLink('/graphql'));
    // The link is completed in the browser from the address the page was reached at.
    const link = { href: '' };
    const script = /<script>(\(function \(\) \{\s*var link = document\.getElementById\('apollo-sandbox-link'\)[\s\S]*?)<\/script>/.exec(page)![1]!;
    runInNewContext(script, { document: { getElementById: () => link }, window: { location: { href: `${dev}/graphql` } }, URL, encodeURIComponent });
    expect(link.href).toBe(sandboxUrl(`${dev}/graphql`));
    // No IDE (so no link) in production.
    const production = await fetch(`${prod}/graphql`, { headers: { accept: 'text/html' } });
    expect(await production.text()).not.toContain('apollo-sandbox-link');
  });
});
