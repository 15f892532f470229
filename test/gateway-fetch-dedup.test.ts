import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../gateway/server.ts';
import { createTestBackends, signToken, type TestBackends } from './support/deps.ts';
import { startFakeGateway, startFakeSubgraph, type FakeSubgraph } from './support/gateway-fakes.ts';
import { postJson } from './support/graphql.ts';

/**
 * In-flight deduplication of subgraph fetches (GATEWAY_FETCH_DEDUP): identical query fetches to
 * one subgraph in flight at the same moment send one request and share its answer; the key
 * holds the caller's credentials, so two tenants never share one; a mutation is never shared; a
 * failure or a timeout reaches every fetch that waited. The fake subgraph holds each field's
 * answer until the test releases it, so the concurrency is certain, not hoped for.
 */
const FED2 = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';
const SDL = `${FED2}
type Query { held(key: String!): String broken(key: String!): String stuck(key: String!): String }
type Mutation { bump(key: String!): Int }
`;

/** Resolver calls per key, and the gates holding them. */
const calls = new Map<string, number>();
const gates = new Map<string, { open: Promise<void>; release(): void }>();
const gate = (key: string) => {
  let entry = gates.get(key);
  if (!entry) {
    let release!: () => void;
    const open = new Promise<void>((resolve) => (release = resolve));
    entry = { open, release };
    gates.set(key, entry);
  }
  return entry;
};
const called = (key: string) => {
  calls.set(key, (calls.get(key) ?? 0) + 1);
  return gate(key).open;
};

let backends: TestBackends;
let subgraph: FakeSubgraph;
let gateway: Gateway;
let base: string;
let ownToken: string;
let otherTenantToken: string;

const ask = async (url: string, query: string, token: string) =>
  (await postJson(`${url}/graphql`, { query }, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<{ data?: any; errors?: any[] }>;

async function until(check: () => boolean | Promise<boolean>, what: string) {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const metric = async (url: string, series: string) => {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ').at(-1)) : 0;
};
const deduplicatedCount = (url: string) => metric(url, 'gateway_subgraph_fetches_deduplicated_total{subgraph="echo"}');
const sharedCount = (url: string) => metric(url, 'gateway_operations_deduplicated_total');

// Enough slots that every concurrent operation runs at once (admission would otherwise queue
// some, and a queued operation is not in flight). A held fetch waits on its gate: a subgraph
// timeout far longer than any stall of a busy host, but for the stuck case, which has its own
// gateway with a short one. (Whole-operation sharing off here: these identical requests are to
// reach the fetch layer.)
const CONFIG = { GATEWAY_CONCURRENCY_MIN: 32, SUBGRAPH_TIMEOUT_MS: 30_000, GATEWAY_OPERATION_DEDUP: false };
const STUCK_TIMEOUT_MS = 1_500;

beforeAll(async () => {
  backends = await createTestBackends();
  subgraph = await startFakeSubgraph('echo', SDL, {
    Query: {
      held: async (_: unknown, { key }: { key: string }, ctx: unknown) => {
        await called(key);
        return `${key} for ${(ctx as { headers: Record<string, string> }).headers.authorization?.slice(-12)}`;
      },
      broken: async (_: unknown, { key }: { key: string }) => {
        await called(key);
        throw new Error(`${key} failed`);
      },
      stuck: async (_: unknown, { key }: { key: string }) => {
        await called(key);
        return key;
      },
    },
    Mutation: {
      bump: async (_: unknown, { key }: { key: string }) => {
        await called(key);
        return calls.get(key);
      },
    },
  });
  ({ gateway, base } = await startFakeGateway(backends, [subgraph], { config: CONFIG }));
  ownToken = await signToken(backends.keys.privateJwk);
  otherTenantToken = await signToken(backends.keys.privateJwk);
});

afterAll(async () => {
  for (const { release } of gates.values()) release();
  await gateway?.close();
  await subgraph?.close();
  await backends?.close();
});

describe('in-flight deduplication of subgraph fetches', () => {
  it('concurrent identical queries of one caller send one subgraph request and all get its answer', async () => {
    const before = await deduplicatedCount(base);
    const answers = Array.from({ length: 5 }, () => ask(base, '{ held(key: "same") }', ownToken));
    // Every fetch after the first waits on it (counted as it joins): then the subgraph answers.
    await until(async () => (await deduplicatedCount(base)) - before === 4, 'four fetches to join the first');
    gate('same').release();
    const bodies = await Promise.all(answers);
    expect(calls.get('same')).toBe(1);
    expect(new Set(bodies.map((b) => JSON.stringify(b)))).toEqual(new Set([JSON.stringify({ data: { held: `same for ${ownToken.slice(-12)}` } })]));
  });

  it('two tenants asking the same query at the same moment get a request each, each its own answer', async () => {
    const own = ask(base, '{ held(key: "tenants") }', ownToken);
    const other = ask(base, '{ held(key: "tenants") }', otherTenantToken);
    await until(() => calls.get('tenants') === 2, 'both requests at the subgraph');
    gate('tenants').release();
    expect((await own).data!.held).toBe(`tenants for ${ownToken.slice(-12)}`);
    expect((await other).data!.held).toBe(`tenants for ${otherTenantToken.slice(-12)}`);
  });

  it('never shares a mutation', async () => {
    const bumps = Array.from({ length: 3 }, () => ask(base, 'mutation { bump(key: "mutation") }', ownToken));
    await until(() => calls.get('mutation') === 3, 'three mutation requests at the subgraph');
    gate('mutation').release();
    expect((await Promise.all(bumps)).map((b) => b.data!.bump)).toEqual([3, 3, 3]);
  });

  it("a failure reaches every waiter: the subgraph's error, and a timeout", async () => {
    const before = await deduplicatedCount(base);
    const failing = Array.from({ length: 3 }, () => ask(base, '{ broken(key: "broken") }', ownToken));
    await until(async () => (await deduplicatedCount(base)) - before === 2, 'two fetches to join the failing one');
    gate('broken').release();
    for (const body of await Promise.all(failing)) {
      expect(body.data).toEqual({ broken: null });
      expect(body.errors?.length).toBe(1);
    }
    expect(calls.get('broken')).toBe(1);

    // Never released: the one request times out (SUBGRAPH_TIMEOUT_MS), and so does every waiter.
    const short = await startFakeGateway(backends, [subgraph], { config: { ...CONFIG, SUBGRAPH_TIMEOUT_MS: STUCK_TIMEOUT_MS } });
    try {
      const stuck = await Promise.all(Array.from({ length: 3 }, () => ask(short.base, '{ stuck(key: "stuck") }', ownToken)));
      expect(calls.get('stuck')).toBe(1);
      for (const body of stuck) {
        expect(body.data).toEqual({ stuck: null });
        expect(body.errors?.[0]?.extensions?.code).toBe('SUBGRAPH_UNAVAILABLE');
      }
    } finally {
      await short.gateway.close();
    }
  });

  it('GATEWAY_FETCH_DEDUP=false sends every fetch', async () => {
    const plain = await startFakeGateway(backends, [subgraph], { config: { ...CONFIG, GATEWAY_FETCH_DEDUP: false } });
    try {
      const answers = Array.from({ length: 3 }, () => ask(plain.base, '{ held(key: "off") }', ownToken));
      await until(() => calls.get('off') === 3, 'three requests at the subgraph');
      gate('off').release();
      expect((await Promise.all(answers)).every((b) => b.data!.held === `off for ${ownToken.slice(-12)}`)).toBe(true);
      expect(await deduplicatedCount(plain.base)).toBe(0);
    } finally {
      await plain.gateway.close();
    }
  });
});

describe('in-flight deduplication of whole operations (GATEWAY_OPERATION_DEDUP)', () => {
  let shared: { gateway: Gateway; base: string };
  beforeAll(async () => {
    shared = await startFakeGateway(backends, [subgraph], { config: { GATEWAY_CONCURRENCY_MIN: 32, SUBGRAPH_TIMEOUT_MS: 30_000 } });
  });
  afterAll(async () => {
    await shared?.gateway.close();
  });

  it('identical queries of one caller in flight run once, each request answered with a copy', async () => {
    const answers = Array.from({ length: 5 }, () => ask(shared.base, 'query Held { held(key: "operation") }', ownToken));
    await until(async () => (await sharedCount(shared.base)) === 4, 'four requests to wait on the first');
    gate('operation').release();
    const bodies = await Promise.all(answers);
    expect(calls.get('operation')).toBe(1);
    for (const body of bodies) expect(body).toEqual({ data: { held: `operation for ${ownToken.slice(-12)}` } });
  });

  it('another tenant or another Accept runs on its own', async () => {
    const before = await sharedCount(shared.base);
    const own = ask(shared.base, '{ held(key: "apart") }', ownToken);
    const other = ask(shared.base, '{ held(key: "apart") }', otherTenantToken);
    const accept = postJson(`${shared.base}/graphql`, { query: '{ held(key: "apart") }' }, { headers: { authorization: `Bearer ${ownToken}`, accept: 'application/graphql-response+json' } });
    // The two of one caller differ only by Accept: separate operations, but one fetch to the subgraph.
    await until(() => calls.get('apart') === 2, 'two requests at the subgraph');
    await until(async () => (await deduplicatedCount(shared.base)) === 1, 'the fetches of one caller to be shared');
    gate('apart').release();
    expect((await own).data!.held).toBe(`apart for ${ownToken.slice(-12)}`);
    expect((await other).data!.held).toBe(`apart for ${otherTenantToken.slice(-12)}`);
    const accepted = await accept;
    expect(accepted.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
    expect(await sharedCount(shared.base)).toBe(before);
  });

  it('mutations never wait on one another nor share an answer', async () => {
    const before = await sharedCount(shared.base);
    const bumps = Array.from({ length: 3 }, () => ask(shared.base, 'mutation { bump(key: "operation-mutation") }', ownToken));
    await until(() => calls.get('operation-mutation') === 3, 'three mutations at the subgraph at once');
    gate('operation-mutation').release();
    expect((await Promise.all(bumps)).map((b) => b.data!.bump)).toEqual([3, 3, 3]);
    expect(await sharedCount(shared.base)).toBe(before);
  });

  it('a read that starts after a write has ended never shares the answer of one that started before it', async () => {
    gate('written').release();
    const before = ask(shared.base, '{ held(key: "read-your-writes") }', ownToken);
    await until(() => calls.get('read-your-writes') === 1, 'the first read at the subgraph');
    // A write ends (any caller's): an identical read from now on is a new one, at both levels.
    expect((await ask(shared.base, 'mutation { bump(key: "written") }', ownToken)).data).toEqual({ bump: 1 });
    const after = ask(shared.base, '{ held(key: "read-your-writes") }', ownToken);
    await until(() => calls.get('read-your-writes') === 2, 'the second read at the subgraph');
    gate('read-your-writes').release();
    expect((await before).data!.held).toBe((await after).data!.held);
  });
});
