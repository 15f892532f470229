import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import auth from '../subgraphs/auth/index.ts';
import { DEMO_ACCOUNTS, DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import crm from '../subgraphs/crm/index.ts';
import { createGateway, type Gateway } from '../gateway/server.ts';
import { parseEnv } from '../subgraphs/kit/config.ts';
import { delegationSecret } from '../subgraphs/kit/delegation-secret.ts';
import { runCredentials, type GatewayAccessDeps } from '../subgraphs/agents/credentials.ts';
import { createGatewayClient } from '../subgraphs/agents/gateway-client.ts';
import { gatewayAccessSettings } from '../subgraphs/agents/gateway-settings.ts';
import { agentsSettings } from '../subgraphs/agents/settings.ts';
import { RunError } from '../subgraphs/agents/run-error.ts';
import { bearer, gql, postJson } from './support/graphql.ts';
import { startSubgraphs, type RunningSubgraphs } from './support/stack.ts';
import { teardownStep } from './support/teardown.ts';

// Run credentials: the auth subgraph's POST /internal/delegate, the agents side's runCredentials,
// and the gateway client runs use (real auth, crm and gateway; a fake gateway for the failures).

const acme = DEMO_TENANTS[0].id;
const account = (email: string) => DEMO_ACCOUNTS.find((a) => a.email === email)!;
const editor = account('editor@acme.example');
const globexOwner = account('owner@globex.example');

let stack: RunningSubgraphs;
let gateway: Gateway;
let gatewayUrl: string;
let delegateUrl: string;
let secret: string;

/** The agents side's deps, with settings read like the agents subgraph reads them. */
const accessDeps = (overrides: Record<string, string> = {}): GatewayAccessDeps => {
  const env = { ...stack.backends.env, AGENTS_GATEWAY_URL: gatewayUrl, ...overrides };
  return { config: stack.backends.config, env, settings: parseEnv(gatewayAccessSettings, env), log: stack.backends.deps('agents').log };
};

const delegate = (body: unknown, token = secret) => postJson(delegateUrl, body, { headers: bearer(token) });

beforeAll(async () => {
  stack = await startSubgraphs([auth, crm]);
  gateway = await createGateway({ config: stack.backends.config, subgraphUrls: stack.urls, redis: stack.backends.deps('gateway').redis, verifyToken: stack.backends.verifyToken });
  gatewayUrl = `${await gateway.listen(0, '127.0.0.1')}/graphql`;
  delegateUrl = new URL('/internal/delegate', stack.urls.auth).toString();
  // Development: both sides read the secret auth generated into DATA_DIR/keys.
  secret = delegationSecret(stack.backends.config, undefined);
});
afterAll(async () => {
  if (gateway) await teardownStep('closing the gateway', () => gateway.close());
  await stack?.close();
});

describe('POST /internal/delegate', () => {
  it('refuses a missing or wrong secret with 401', async () => {
    const body = { tenantId: acme, accountId: editor.id };
    expect((await delegate(body, `${secret}x`)).status).toBe(401);
    expect((await delegate(body, 'short')).status).toBe(401);
    expect((await postJson(delegateUrl, body)).status).toBe(401);
  });

  it('refuses an account that is not a member of the tenant with 403, and bad ids with 400', async () => {
    const response = await delegate({ tenantId: acme, accountId: globexOwner.id });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ error: 'The account is not a member of the tenant.' });
    expect((await delegate({ tenantId: 'acme', accountId: editor.id })).status).toBe(400);
  });

  it("issues a token of at most 5 minutes with the member's roles and an act claim, accepted by the gateway", async () => {
    const response = await delegate({ tenantId: acme, accountId: editor.id });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { accessToken: string; expiresAt: string };
    const claims = decodeJwt(body.accessToken);
    expect(claims).toMatchObject({ sub: editor.id, tid: acme, roles: ['editor'], act: { sub: 'agents' } });
    expect(claims.platform_admin).toBeUndefined();
    expect(claims.exp! - Math.floor(claims.iat!)).toBeLessThanOrEqual(300);
    expect(Date.parse(body.expiresAt)).toBe(claims.exp! * 1000);
    const viewer = await gql(gatewayUrl, '{ viewer { account { email } roles } }', {}, bearer(body.accessToken));
    expect(viewer.data?.viewer).toEqual({ account: { email: editor.email }, roles: ['EDITOR'] });
  });
});

describe('AUTH_DELEGATION_SECRET', () => {
  it('is required in production by both processes, at least 32 characters', () => {
    const production = { ...stack.backends.config, NODE_ENV: 'production' as const };
    expect(() => parseEnv(agentsSettings, { NODE_ENV: 'production' })).toThrow('Invalid configuration: AUTH_DELEGATION_SECRET: required when NODE_ENV=production');
    expect(() => delegationSecret(production, undefined)).toThrow('Invalid configuration: AUTH_DELEGATION_SECRET: required when NODE_ENV=production');
    expect(() => parseEnv(agentsSettings, { AUTH_DELEGATION_SECRET: 'too short' })).toThrow(/^Invalid configuration: AUTH_DELEGATION_SECRET: /);
    const good = 'x'.repeat(32);
    expect(parseEnv(agentsSettings, { NODE_ENV: 'production', AUTH_DELEGATION_SECRET: good }).AUTH_DELEGATION_SECRET).toBe(good);
    expect(delegationSecret(production, good)).toBe(good);
  });
});

describe('runCredentials and the gateway client', () => {
  const CREATE_LEAD = 'mutation($name: String!) { createLead(input: { name: $name }) { lead { id } errors { code } } }';

  it('reuses a token until shortly before it expires; `fresh` asks again', async () => {
    const credentials = runCredentials(accessDeps(), { tenantId: acme, accountId: editor.id });
    const [first, second] = await Promise.all([credentials.token(), credentials.token()]);
    expect(first).toBe(second);
    expect(await credentials.token()).toBe(first);
    const fresh = await credentials.token({ fresh: true });
    expect(fresh).not.toBe(first);
    expect(await credentials.token()).toBe(fresh);
  });

  it("a demoted member's run loses the rights at once: the next token has the new role, and writes fail FORBIDDEN", async () => {
    const deps = accessDeps();
    const owner = await stack.token('owner@acme.example');
    const credentials = runCredentials(deps, { tenantId: acme, accountId: editor.id });
    const client = createGatewayClient(deps, credentials, new AbortController().signal);
    const created = await client.query<{ createLead: { lead: { id: string } | null } }>(CREATE_LEAD, { name: 'Written by a run' });
    expect(created.createLead.lead?.id).toBeTruthy();

    const demote = 'mutation($id: ID!, $role: Role!) { updateMemberRole(accountId: $id, role: $role) { errors { code } } }';
    expect((await gql(gatewayUrl, demote, { id: editor.id, role: 'VIEWER' }, bearer(owner))).data?.updateMemberRole.errors).toEqual([]);
    try {
      // The token the run holds was revoked with the role change: the client gets a new one (viewer).
      expect(decodeJwt(await credentials.token({ fresh: true })).roles).toEqual(['viewer']);
      const refused = await client.query(CREATE_LEAD, { name: 'Not any more' }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(RunError);
      expect(refused).toMatchObject({ code: 'FORBIDDEN', retryable: false });
      // Reading is still allowed to a viewer.
      expect(await client.query('{ viewer { roles } }')).toEqual({ viewer: { roles: ['VIEWER'] } });
    } finally {
      await gql(gatewayUrl, demote, { id: editor.id, role: 'EDITOR' }, bearer(owner));
    }
  });

  it('fails FORBIDDEN (not retried) for an account that is not a member', async () => {
    const deps = accessDeps();
    const client = createGatewayClient(deps, runCredentials(deps, { tenantId: acme, accountId: globexOwner.id }), new AbortController().signal);
    await expect(client.query('{ viewer { roles } }')).rejects.toMatchObject({ code: 'FORBIDDEN', retryable: false });
  });

  it('returns the data with the errors when asked for a partial result', async () => {
    const deps = accessDeps();
    const client = createGatewayClient(deps, runCredentials(deps, { tenantId: acme, accountId: editor.id }), new AbortController().signal);
    const result = await client.query<{ viewer: unknown; lead: unknown }>(
      'query($id: ID!) { viewer { roles } lead(id: $id) { id } }',
      { id: '00000000-0000-4000-8000-00000000dead' },
      { partial: true },
    );
    expect(result.data).toEqual({ viewer: { roles: ['EDITOR'] }, lead: null });
    expect(result.errors).toEqual([expect.objectContaining({ code: 'NOT_FOUND', path: ['lead'] })]);
  });
});

describe('the gateway client against a misbehaving gateway', () => {
  let fake: Server;
  let fakeUrl: string;
  let handler: (request: IncomingMessage, response: ServerResponse) => void = () => undefined;
  let calls = 0;
  const json = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
    response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

  beforeAll(async () => {
    fake = createServer((request, response) => {
      calls++;
      request.resume();
      handler(request, response);
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    fake.closeAllConnections();
    await new Promise((resolve) => fake.close(resolve));
  });

  // A call's timeout: 3 s, which a stall of this shared host does not reach; the timeout case 300 ms.
  const client = (signal = new AbortController().signal, timeoutMs = 3_000) => {
    const deps = accessDeps({ AGENTS_GATEWAY_URL: fakeUrl, AGENTS_GATEWAY_TIMEOUT_MS: String(timeoutMs), AGENTS_GATEWAY_RETRIES: '2' });
    calls = 0;
    return createGatewayClient(deps, runCredentials(deps, { tenantId: acme, accountId: editor.id }), signal);
  };

  it('retries 429 and 503 after their Retry-After, then gives up with a retryable UPSTREAM_ERROR', async () => {
    let answered = 0;
    handler = (_request, response) =>
      answered++ < 2 ? json(response, answered === 1 ? 429 : 503, { errors: [{ message: 'slow down' }] }, { 'retry-after': '0' }) : json(response, 200, { data: { ok: true } });
    expect(await client().query('{ ok }')).toEqual({ ok: true });
    expect(calls).toBe(3);

    handler = (_request, response) => json(response, 503, { errors: [{ message: 'overloaded' }] }, { 'retry-after': '0' });
    await expect(client().query('{ ok }')).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', retryable: true });
    expect(calls).toBe(3); // the call and two retries
  });

  it('maps GraphQL errors: FORBIDDEN not retryable, a refused operation INTERNAL, anything else UPSTREAM_ERROR', async () => {
    handler = (_request, response) => json(response, 200, { data: { lead: null }, errors: [{ message: 'Editors only.', extensions: { code: 'FORBIDDEN' } }] });
    await expect(client().query('{ lead }')).rejects.toMatchObject({ code: 'FORBIDDEN', retryable: false, message: expect.stringContaining('Editors only.') });
    handler = (_request, response) => json(response, 400, { errors: [{ message: 'Cannot query field', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] });
    await expect(client().query('{ nope }')).rejects.toMatchObject({ code: 'INTERNAL', retryable: false });
    handler = (_request, response) => json(response, 200, { data: null, errors: [{ message: 'crm is down', extensions: { code: 'SUBGRAPH_UNAVAILABLE' } }] });
    await expect(client().query('{ leads }')).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', retryable: true });
    handler = (_request, response) => response.writeHead(502).end('<html>bad gateway</html>');
    await expect(client().query('{ leads }')).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', retryable: true, message: expect.not.stringContaining('html') });
  });

  it('replaces a token the gateway no longer accepts once (the role changed), then fails FORBIDDEN', async () => {
    const seen: string[] = [];
    handler = (request, response) => {
      seen.push(String(request.headers.authorization));
      if (seen.length === 1) return json(response, 200, { data: null, errors: [{ message: 'Sign in first.', extensions: { code: 'UNAUTHENTICATED' } }] });
      return json(response, 200, { data: { ok: true } });
    };
    expect(await client().query('{ ok }')).toEqual({ ok: true });
    expect(seen).toHaveLength(2);
    expect(seen[1]).not.toBe(seen[0]);

    handler = (_request, response) => json(response, 200, { data: null, errors: [{ message: 'Sign in first.', extensions: { code: 'UNAUTHENTICATED' } }] });
    await expect(client().query('{ ok }')).rejects.toMatchObject({ code: 'FORBIDDEN', retryable: false });
    expect(calls).toBe(2);
  });

  it('times out a call that takes too long (TIMEOUT, retryable)', async () => {
    handler = () => undefined; // never answers
    await expect(client(undefined, 300).query('{ slow }')).rejects.toMatchObject({ code: 'TIMEOUT', retryable: true });
  });

  it('stops with CANCELLED when the run is cancelled, during a call and while waiting to retry', async () => {
    handler = () => undefined;
    const during = new AbortController();
    const call = client(during.signal).query('{ slow }');
    setTimeout(() => during.abort(), 20);
    await expect(call).rejects.toMatchObject({ code: 'CANCELLED' });

    handler = (_request, response) => json(response, 429, { errors: [] }, { 'retry-after': '20' });
    const waiting = new AbortController();
    const retrying = client(waiting.signal).query('{ ok }');
    while (calls === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    waiting.abort();
    await expect(retrying).rejects.toMatchObject({ code: 'CANCELLED' });

    const before = new AbortController();
    before.abort();
    await expect(client(before.signal).query('{ ok }')).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(calls).toBe(0);
  });

  it('fails UPSTREAM_ERROR (retryable) when the gateway cannot be reached', async () => {
    const deps = accessDeps({ AGENTS_GATEWAY_URL: 'http://127.0.0.1:1/graphql' });
    const unreachable = createGatewayClient(deps, runCredentials(deps, { tenantId: acme, accountId: editor.id }), new AbortController().signal);
    await expect(unreachable.query('{ ok }')).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', retryable: true });
  });
});
