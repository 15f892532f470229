import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../subgraphs/kit/config.ts';
import { clusterConfigured, createRedis, isCluster } from '../subgraphs/kit/redis.ts';
import { addEach, hit } from '../subgraphs/kit/rate-limit.ts';
import { randomUUID } from 'node:crypto';
import { accountStampKey, revokeAccessTokens } from '../subgraphs/kit/revocation.ts';
import { bearer, DEMO_PASSWORD, gql } from './support/graphql.ts';
import { startRedisCluster, type LocalRedisCluster } from './support/redis-cluster.ts';
import { startSupergraph, type RunningSupergraph } from './support/stack.ts';

// Issue 18, 5: the gateway and every subgraph on a Redis Cluster (three masters started here,
// REDIS_CLUSTER_NODES), through the entry points users have: the response cache, the gateway's
// rate limits (an IP's counter and a tenant's live in different slots), bi's chart cache (one
// MGET of an entry and its generations), revocation stamps and the refresh-token paths.

let cluster: LocalRedisCluster;
let stack: RunningSupergraph;
let prefix: string;

const LOGIN = `mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken refreshToken }
}`;
const REFRESH = 'mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }';
const ME = '{ tenant { id slug } viewer { roles } }';

/** Three tenant ids whose hash tags fall on three different masters (one pipeline across them fails whole). */
async function tenantsOnEveryMaster(): Promise<string[]> {
  const ranges = await cluster.client.cluster('SLOTS');
  const nodeOf = (slot: number) => ranges.find(([from, to]) => slot >= from && slot <= to)![2]![1];
  const byNode = new Map<number, string>();
  while (byNode.size < 3) {
    const tenant = randomUUID();
    const slot = (await cluster.client.cluster('KEYSLOT', `{${tenant}}`)) as number;
    if (!byNode.has(nodeOf(slot))) byNode.set(nodeOf(slot), tenant);
  }
  return [...byNode.values()];
}

async function login(email: string) {
  const { data, errors } = await gql(stack.graphql, LOGIN, { email, password: DEMO_PASSWORD });
  expect(errors).toBeUndefined();
  return data!.login as { accessToken: string; refreshToken: string };
}

/** The token's tenant id when it works through the gateway, else the error code. */
async function answer(token: string): Promise<string> {
  const { data, errors } = await gql(stack.graphql, ME, {}, bearer(token));
  return errors ? String(errors[0]!.extensions!.code) : data!.tenant.id;
}

/**
 * Polls until the gateway refuses the token; fails when a request sent two seconds after the
 * call is still accepted (when it was sent, not answered: a stall of the host while a request is
 * in flight says nothing about the revocation).
 */
async function refused(token: string) {
  const since = Date.now();
  for (;;) {
    const sentAt = Date.now();
    if ((await answer(token)) === 'UNAUTHENTICATED') return;
    expect(sentAt - since, 'still accepted').toBeLessThan(2_000);
    await sleep(25);
  }
}

beforeAll(async () => {
  cluster = await startRedisCluster();
  stack = await startSupergraph({ REDIS_CLUSTER_NODES: cluster.nodes.join(','), GATEWAY_RATE_LIMIT_SYNC_MS: '0' });
  prefix = stack.backends.config.REDIS_PREFIX;
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await cluster?.stop();
});

describe('the supergraph on a Redis Cluster', () => {
  it('every process uses a cluster client', async () => {
    expect(isCluster(stack.backends.deps('crm').redis)).toBe(true);
    const info = await cluster.client.cluster('INFO');
    expect(info).toContain('cluster_known_nodes:3');
  });

  it('response cache: a cached answer, and a write makes the next read fresh', async () => {
    const { accessToken } = await login('owner@acme.example');
    const tenantId = await answer(accessToken);
    const query = '{ leads(first: 2) { totalCount } }';
    const first = await gql(stack.graphql, query, {}, bearer(accessToken));
    expect(first.errors).toBeUndefined();
    // (Apollo's response cache prefixes its keys with `fqc:`; the tenant's hash tag stays.)
    const cached = await cluster.keys(`fqc:${prefix}{${tenantId}}:rc:*`);
    expect(cached.length).toBeGreaterThan(0);
    expect((await gql(stack.graphql, query, {}, bearer(accessToken))).data).toEqual(first.data);
    // A write bumps the tenant's crm generation (INCR in the tenant's slot): the next read counts it.
    const created = await gql(
      stack.graphql,
      'mutation($input: LeadCreateInput!) { createLead(input: $input) { errors { code } } }',
      { input: { name: 'Cluster Test', email: `cluster-${Date.now()}@example.com` } },
      bearer(accessToken),
    );
    expect(created.errors).toBeUndefined();
    expect(await cluster.client.get(`${prefix}{${tenantId}}:gen:crm`)).not.toBeNull();
    const after = await gql(stack.graphql, query, {}, bearer(accessToken));
    expect(after.data!.leads.totalCount).toBe(first.data!.leads.totalCount + 1);
  });

  it("gateway rate limits: the IP's and the tenant's counters are both counted in Redis", async () => {
    // GATEWAY_RATE_LIMIT_SYNC_MS=0: every request adds to both counters in one call, in two slots
    // (a single pipeline across them fails whole, and the gateway would count in memory only).
    const { accessToken } = await login('viewer@acme.example');
    const tenantId = await answer(accessToken);
    const ipKey = (await cluster.keys(`${prefix}{ip:*}:gw-rate`))[0]!;
    const tenantKeyName = `${prefix}{${tenantId}}:gw-rate`;
    const before = await Promise.all([cluster.client.get(ipKey), cluster.client.get(tenantKeyName)]);
    for (let i = 0; i < 3; i++) expect((await gql(stack.graphql, ME, {}, bearer(accessToken))).status).toBe(200);
    const after = await Promise.all([cluster.client.get(ipKey), cluster.client.get(tenantKeyName)]);
    expect(after.map((value, i) => Number(value) - Number(before[i]))).toEqual([3, 3]);
  });

  it("the kit's counters (login throttling, lead forms): one key, or several on different masters in one call", async () => {
    const redis = stack.backends.deps('auth').redis;
    const key = `${prefix}{ip:192.0.2.1}:test-limit`;
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await hit(redis, key, 2, 60));
    expect(results.map((r) => r.allowed)).toEqual([true, true, false]);
    expect(await cluster.client.get(key)).toBe('3');
    const keys = (await tenantsOnEveryMaster()).map((tenant) => `${prefix}{${tenant}}:test-limit`);
    await addEach(redis, keys.map((k) => ({ key: k, hits: 2 })), 60);
    expect(await Promise.all(keys.map((k) => cluster.client.get(k)))).toEqual(['2', '2', '2']);
  });

  it("bi's chart cache: the entry and its generations in one MGET", async () => {
    const { accessToken } = await login('owner@acme.example');
    const query = '{ charts(first: 3) { edges { node { id data { rowCount computedAt } } } } }';
    const first = await gql(stack.graphql, query, {}, bearer(accessToken));
    expect(first.errors).toBeUndefined();
    const charts = first.data!.charts.edges.map((e: { node: unknown }) => e.node);
    expect(charts.length).toBeGreaterThan(0);
    expect((await cluster.keys(`${prefix}*:bi:chart:*`)).length).toBeGreaterThan(0);
    // Served from the cache: computed at the same instant (bi has no whole-response cache).
    const second = await gql(stack.graphql, query, {}, bearer(accessToken));
    expect(second.data!.charts.edges.map((e: { node: unknown }) => e.node)).toEqual(charts);
  });

  it('revocation: logout stamps the session and the gateway refuses the token', async () => {
    const session = await login('editor@acme.example');
    expect(await answer(session.accessToken)).not.toBe('UNAUTHENTICATED');
    const { data } = await gql(stack.graphql, 'mutation($t: String!) { logout(refreshToken: $t) { ok } }', { t: session.refreshToken });
    expect(data!.logout.ok).toBe(true);
    await refused(session.accessToken);
    expect((await cluster.keys(`${prefix}*:revoked:session:*`)).length).toBeGreaterThan(0);
  });

  it('revocation stamps of several tenants (a password change) are written in one call', async () => {
    // Tenants whose hash tags fall on different masters: one pipeline would fail whole.
    const redis = stack.backends.deps('auth').redis;
    const tenants = await tenantsOnEveryMaster();
    const account = randomUUID();
    const keys = tenants.map((tenantId) => accountStampKey(prefix, tenantId, account));
    const at = Date.now();
    await revokeAccessTokens(redis, { prefix, accessTokenTtlSeconds: 60 }, tenants.map((tenantId) => ({ tenantId, accountId: account })), at);
    expect(await Promise.all(keys.map((key) => cluster.client.get(key)))).toEqual(tenants.map(() => String(at)));
  });

  it('refresh tokens: rotation, and a rotated token presented again revokes the family', async () => {
    const first = await login('viewer@acme.example');
    const rotated = (await gql(stack.graphql, REFRESH, { t: first.refreshToken })).data!.refreshSession as { accessToken: string };
    expect(await answer(rotated.accessToken)).not.toBe('UNAUTHENTICATED');
    const reuse = await gql(stack.graphql, REFRESH, { t: first.refreshToken });
    expect(reuse.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    await refused(rotated.accessToken);
  });
});

describe('kit/redis on a cluster', () => {
  it('duplicate(options) gives a cluster connection for pub/sub', async () => {
    const redis = createRedis({ REDIS_URL: undefined, REDIS_CLUSTER_NODES: cluster.nodes });
    const subscriber = redis.duplicate({ enableOfflineQueue: true });
    try {
      expect(isCluster(subscriber)).toBe(true);
      const received = new Promise<string>((resolve) => subscriber.on('message', (_channel: string, text: string) => resolve(text)));
      await subscriber.subscribe(`${prefix}channel`);
      await new Promise((resolve) => (redis.status === 'ready' ? resolve(null) : redis.once('ready', resolve)));
      await redis.publish(`${prefix}channel`, 'hello');
      expect(await received).toBe('hello');
    } finally {
      subscriber.disconnect();
      redis.disconnect();
    }
  });
});

describe('configuration', () => {
  it('REDIS_CLUSTER_NODES or a redis+cluster:// URL selects the cluster client; a bad list stops with one line', () => {
    expect(parseConfig({ REDIS_CLUSTER_NODES: 'redis-0:6379, redis-1:6379' }).REDIS_CLUSTER_NODES).toEqual(['redis-0:6379', 'redis-1:6379']);
    expect(clusterConfigured(parseConfig({ REDIS_URL: 'rediss+cluster://user:secret@redis:6380' }))).toBe(true);
    expect(clusterConfigured(parseConfig({ REDIS_URL: 'redis://redis:6379' }))).toBe(false);
    expect(() => parseConfig({ REDIS_CLUSTER_NODES: 'redis-0' })).toThrow('Invalid configuration: REDIS_CLUSTER_NODES: expected a comma-separated list of host:port');
  });
});
