import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import auth from '../subgraphs/auth/index.ts';
import { DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import { createSubgraphServer } from '../subgraphs/kit/server.ts';
import { createTestBackends } from './support/deps.ts';
import { bearer, gql, login } from './support/graphql.ts';
import { UNREACHABLE_REDIS_URL } from './support/services.ts';
import { startSubgraphs, type RunningSubgraphs } from './support/stack.ts';

const acme = DEMO_TENANTS[0].id;
const MEMBERS = '{ members(first: 100) { totalCount edges { node { role account { email } } } } }';

let stack: RunningSubgraphs;
let url: string;
let statements: string[] = [];

beforeAll(async () => {
  stack = await startSubgraphs([auth]);
  url = stack.urls.auth!;
  stack.backends.db.onStatement((text) => statements.push(text));
  // 40 extra acme members, written as the owner (fast; no password hashing per row).
  await stack.backends.deps('auth').asOwner(async (tx) => {
    await tx.query(`SET LOCAL app.tenant_id = '${acme}'`);
    await tx.query(`INSERT INTO auth.accounts (id, email, name, password_hash)
      SELECT ('00000000-0000-4000-a000-' || lpad(i::text, 12, '0'))::uuid, 'member' || i || '@acme.example', 'Member ' || i, 'x'
      FROM generate_series(1, 40) i`);
    await tx.query(`INSERT INTO auth.memberships (tenant_id, account_id, role)
      SELECT $1, ('00000000-0000-4000-a000-' || lpad(i::text, 12, '0'))::uuid, 'viewer' FROM generate_series(1, 40) i`, [acme]);
  });
});
afterAll(() => stack?.close());

describe('response cache', () => {
  it('gives each tenant its own answer for the same query, and serves repeats from Redis', async () => {
    const acmeToken = await stack.login('owner@acme.example');
    const globexToken = await stack.login('owner@globex.example');
    const acmeFirst = await gql(url, MEMBERS, {}, bearer(acmeToken));
    const globexFirst = await gql(url, MEMBERS, {}, bearer(globexToken));
    expect(acmeFirst.data!.members.totalCount).toBe(43);
    expect(globexFirst.data!.members.totalCount).toBe(1);

    statements = [];
    const acmeAgain = await gql(url, MEMBERS, {}, bearer(acmeToken));
    const globexAgain = await gql(url, MEMBERS, {}, bearer(globexToken));
    expect(acmeAgain.data).toEqual(acmeFirst.data);
    expect(globexAgain.data).toEqual(globexFirst.data);
    expect(statements).toEqual([]); // both answered from the cache
  });

  it('keys on roles too: a viewer does not get what an owner cached', async () => {
    const viewer = await stack.login('viewer@acme.example');
    statements = [];
    const result = await gql(url, MEMBERS, {}, bearer(viewer));
    expect(result.data!.members.totalCount).toBe(43);
    expect(statements.length).toBeGreaterThan(0);
  });

  it('a write is visible at once to the next read of the same tenant', async () => {
    const owner = await stack.login('owner@acme.example');
    const before = await gql(url, MEMBERS, {}, bearer(owner));
    await gql(url, 'mutation { inviteMember(input: { email: "fresh@acme.example", role: EDITOR, password: "a-long-password" }) { errors { code } } }', {}, bearer(owner));
    const after = await gql(url, MEMBERS, {}, bearer(owner));
    expect(after.data!.members.totalCount).toBe(before.data!.members.totalCount + 1);
  });

  it('private data (viewer) is cached per account, never shared inside the tenant', async () => {
    const owner = await stack.login('owner@acme.example');
    const editor = await stack.login('editor@acme.example');
    const VIEWER = '{ viewer { account { email } } }';
    expect((await gql(url, VIEWER, {}, bearer(owner))).data!.viewer.account.email).toBe('owner@acme.example');
    expect((await gql(url, VIEWER, {}, bearer(editor))).data!.viewer.account.email).toBe('editor@acme.example');
    expect((await gql(url, VIEWER, {}, bearer(owner))).data!.viewer.account.email).toBe('owner@acme.example');
  });

  it('with Redis unreachable, requests still succeed (cache bypassed)', async () => {
    const backends = await createTestBackends({ REDIS_URL: UNREACHABLE_REDIS_URL });
    await backends.migrate([auth.migrations!]);
    const deps = backends.deps('auth');
    await auth.seed!(deps);
    const server = await createSubgraphServer(auth, deps);
    const downUrl = await server.listen(0, '127.0.0.1');
    try {
      const token = await login(downUrl, 'owner@acme.example');
      for (let i = 0; i < 2; i++) {
        const result = await gql(downUrl, MEMBERS, {}, bearer(token));
        expect(result.errors).toBeUndefined();
        expect(result.data!.members.totalCount).toBe(3);
      }
    } finally {
      await server.close();
      await backends.close();
    }
  });
});

describe('batching', () => {
  const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Account { id email role } } }`;

  it('N entity references cost one SQL statement per loader, whatever N is', async () => {
    const token = await stack.login('owner@acme.example');
    const ids = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ __typename: 'Account', id: `00000000-0000-4000-a000-${String(i + 1).padStart(12, '0')}` }));
    const counts: number[] = [];
    for (const n of [1, 10, 40]) {
      statements = [];
      // Unique variables every time, so the response cache cannot answer.
      const result = await gql(url, ENTITIES, { r: ids(n) }, bearer(token));
      expect(result.data!._entities).toHaveLength(n);
      expect(result.data!._entities.every((e: any) => e?.role === 'VIEWER')).toBe(true);
      counts.push(statements.length);
    }
    // One statement for the accounts, one for their memberships (Account.role).
    expect(counts).toEqual([2, 2, 2]);
  });

  it('a page of members with their accounts and roles costs a constant number of statements', async () => {
    const token = await stack.login('editor@acme.example');
    const counts: number[] = [];
    for (const first of [5, 40]) {
      statements = [];
      const result = await gql(url, `query($first: Int) { members(first: $first) { edges { node { role account { email role } } } } }`, { first }, bearer(token));
      expect(result.data!.members.edges).toHaveLength(first);
      counts.push(statements.length);
    }
    expect(counts[0]).toBe(counts[1]);
    expect(counts[0]).toBeLessThanOrEqual(3);
  });
});
