import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import auth from '../subgraphs/auth/index.ts';
import { DEMO_ACCOUNTS, DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import { createSubgraphServer } from '../subgraphs/kit/server.ts';
import { createTestKeys, signToken } from './support/deps.ts';
import { bearer, DEMO_PASSWORD, gql } from './support/graphql.ts';
import { postgresReachable, unreachableRedis } from './support/services.ts';
import { startSubgraphs, type RunningSubgraphs } from './support/stack.ts';

const LOGIN = `mutation($email: String!, $password: String!, $tenantSlug: String) {
  login(email: $email, password: $password, tenantSlug: $tenantSlug) { accessToken refreshToken tokenType expiresIn errors { field code } }
}`;
const REFRESH = 'mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }';
const acme = DEMO_TENANTS[0].id;
const globex = DEMO_TENANTS[1].id;
const account = (email: string) => DEMO_ACCOUNTS.find((a) => a.email === email)!;

let stack: RunningSubgraphs;
let url: string;
/** Whether the backends are a real PostgreSQL (as createTestBackends decides), not embedded PGlite. */
const realPostgres = await postgresReachable();

beforeAll(async () => {
  stack = await startSubgraphs([auth], { LOGIN_MAX_FAILURES_PER_ACCOUNT: '3' });
  url = stack.urls.auth!;
});
afterAll(() => stack?.close());

describe('login and tokens', () => {
  it('issues a 15-minute EdDSA access token with the documented claims and a refresh token', async () => {
    const { data } = await gql(url, LOGIN, { email: 'OWNER@acme.example', password: DEMO_PASSWORD });
    expect(data!.login).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, errors: [] });
    const [header, payload] = data!.login.accessToken.split('.').slice(0, 2).map((p: string) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(header.alg).toBe('EdDSA');
    expect(payload).toMatchObject({ sub: account('owner@acme.example').id, tid: acme, roles: ['owner'], aud: 'bizosaas-supergraph' });
    // `iat` in milliseconds (revocation stamps compare with it), `exp` in whole seconds.
    expect(payload.exp - Math.floor(payload.iat)).toBe(900);
    expect(Math.abs(payload.iat * 1000 - Date.now())).toBeLessThan(60_000);
    expect(payload.sid).toMatch(/^[0-9a-f-]{36}$/); // the session: its refresh-token family
    expect(payload.jti).toBeTruthy();
    expect(data!.login.refreshToken).toMatch(new RegExp(`^${acme}\\.`));
  });

  it('gives the same error for an unknown email and a wrong password', async () => {
    const unknown = await gql(url, LOGIN, { email: 'nobody@acme.example', password: DEMO_PASSWORD });
    const wrong = await gql(url, LOGIN, { email: 'editor@acme.example', password: 'wrong-password-1' });
    const notMember = await gql(url, LOGIN, { email: 'editor@acme.example', password: DEMO_PASSWORD, tenantSlug: 'globex' });
    for (const result of [unknown, wrong, notMember]) {
      expect(result.errors?.[0]).toMatchObject({ message: 'Invalid email or password.', extensions: { code: 'UNAUTHENTICATED' } });
    }
  });

  it('throttles repeated failures per account, blocking even the right password, without touching other accounts', async () => {
    const email = 'viewer@acme.example';
    for (let i = 0; i < 3; i++) await gql(url, LOGIN, { email, password: `wrong-password-${i}` });
    const blocked = await gql(url, LOGIN, { email, password: DEMO_PASSWORD });
    expect(blocked.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    // Other accounts from the same IP are not affected.
    expect((await gql(url, LOGIN, { email: 'owner@globex.example', password: DEMO_PASSWORD })).data?.login.accessToken).toBeTruthy();
  });

  it('keeps throttling failed logins while Redis is unreachable (counted in the process)', async () => {
    const down = unreachableRedis();
    const server = await createSubgraphServer(auth, { ...stack.backends.deps('auth'), redis: down });
    try {
      const downUrl = await server.listen(0, '127.0.0.1');
      const email = 'editor@acme.example';
      for (let i = 0; i < 3; i++) {
        const failed = await gql(downUrl, LOGIN, { email, password: `wrong-password-${i}` });
        expect(failed.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
      }
      const blocked = await gql(downUrl, LOGIN, { email, password: DEMO_PASSWORD });
      expect(blocked.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
      // The other accounts still log in.
      expect((await gql(downUrl, LOGIN, { email: 'owner@globex.example', password: DEMO_PASSWORD })).data?.login.accessToken).toBeTruthy();
    } finally {
      await server.close();
      down.disconnect();
    }
  });

  it("throttles login per client IP: the gateway's X-Forwarded-For from a trusted peer, the socket address from any other", async () => {
    const deps = stack.backends.deps('auth');
    const attempts = async (target: string, ips: string[]) => {
      const codes = [];
      // A new unknown email each time, so the per-account throttle stays out of it.
      for (const ip of ips) {
        const email = `nobody-${randomUUID()}@acme.example`;
        const result = await gql(target, LOGIN, { email, password: 'wrong-password' }, { 'x-forwarded-for': ip });
        codes.push(result.errors?.[0]?.extensions?.code);
      }
      return codes;
    };
    // Two servers: the default trust (loopback, private networks: this test's 127.0.0.1 is believed)
    // and one that trusts only a proxy that is not this test's peer.
    const trusting = await createSubgraphServer(auth, { ...deps, env: { ...deps.env, LOGIN_MAX_ATTEMPTS_PER_IP: '2' } });
    // (Its own key prefix: the earlier tests' logins from 127.0.0.1 do not count against it.)
    const wary = await createSubgraphServer(auth, {
      ...deps,
      env: { ...deps.env, LOGIN_MAX_ATTEMPTS_PER_IP: '2' },
      config: { ...deps.config, TRUST_PROXY: ['192.0.2.1'], REDIS_PREFIX: `${deps.config.REDIS_PREFIX}wary:` },
    });
    try {
      const [trustingUrl, waryUrl] = [await trusting.listen(0, '127.0.0.1'), await wary.listen(0, '127.0.0.1')];
      // Believed: each forwarded IP has its own window; the same one is throttled on its third try.
      expect(await attempts(trustingUrl, ['198.51.100.7', '198.51.100.8', '198.51.100.9', '198.51.100.7', '198.51.100.7'])).toEqual([
        'UNAUTHENTICATED',
        'UNAUTHENTICATED',
        'UNAUTHENTICATED',
        'UNAUTHENTICATED',
        'RATE_LIMITED',
      ]);
      // Not believed: whatever the header says, the socket's 127.0.0.1 is throttled on its third try.
      expect(await attempts(waryUrl, ['203.0.113.1', '203.0.113.2', '203.0.113.3'])).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'RATE_LIMITED']);
    } finally {
      await trusting.close();
      await wary.close();
    }
  });

  it('serves the public JWKS', async () => {
    const response = await fetch(url.replace('/graphql', '/.well-known/jwks.json'));
    const jwks = await response.json();
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(jwks.keys[0].d).toBeUndefined();
  });
});

describe('refresh tokens', () => {
  it('rotates, and reuse of a rotated token revokes the whole family', async () => {
    const first = (await gql(url, LOGIN, { email: 'owner@globex.example', password: DEMO_PASSWORD })).data!.login;
    const second = (await gql(url, REFRESH, { t: first.refreshToken })).data!.refreshSession;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    // The stolen (already used) token comes back: the family dies, including the newest token.
    const replay = await gql(url, REFRESH, { t: first.refreshToken });
    expect(replay.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const afterTheft = await gql(url, REFRESH, { t: second.refreshToken });
    expect(afterTheft.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('logout revokes the session; malformed tokens are rejected cleanly', async () => {
    const session = (await gql(url, LOGIN, { email: 'owner@globex.example', password: DEMO_PASSWORD })).data!.login;
    const out = await gql(url, 'mutation($t: String!) { logout(refreshToken: $t) { ok } }', { t: session.refreshToken });
    expect(out.data!.logout.ok).toBe(true);
    expect((await gql(url, REFRESH, { t: session.refreshToken })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    for (const t of ['', 'garbage', `${acme}.short`, `not-a-uuid.${'a'.repeat(43)}`]) {
      expect((await gql(url, REFRESH, { t })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });
});

describe('subgraph token verification', () => {
  const VIEWER = '{ viewer { account { email } } members(first: 5) { totalCount } }';

  it('treats forged, expired and wrong-audience tokens as anonymous', async () => {
    const owner = account('owner@acme.example');
    const otherKeys = await createTestKeys();
    const forged = await signToken(otherKeys.privateJwk, { sub: owner.id, tid: acme, roles: ['owner'] });
    const expired = await signToken(stack.backends.keys.privateJwk, { sub: owner.id, tid: acme, roles: ['owner'], expiresIn: Math.floor(Date.now() / 1000) - 5 });
    const wrongAudience = await signToken(stack.backends.keys.privateJwk, { sub: owner.id, tid: acme, roles: ['owner'], aud: 'someone-else' });
    const wrongIssuer = await signToken(stack.backends.keys.privateJwk, { sub: owner.id, tid: acme, roles: ['owner'], iss: 'https://evil.example' });
    const valid = await signToken(stack.backends.keys.privateJwk, { sub: owner.id, tid: acme, roles: ['owner'] });
    // And what is not a compact JWS at all (Saleor's App token, a part too many, padding), which
    // the verifier refuses before jose does.
    const notJws = ['dev-saleor-app-token', `${valid}.x`, `${valid}=`, valid.replace('.', '..'), `${valid.slice(0, -1)}+`];
    for (const token of [forged, expired, wrongAudience, wrongIssuer, 'not.a.jwt', ...notJws]) {
      const result = await gql(url, VIEWER, {}, bearer(token));
      expect(result.data?.viewer ?? null).toBeNull();
      expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    const ok = await gql(url, VIEWER, {}, bearer(valid));
    expect(ok.data!.viewer.account.email).toBe('owner@acme.example');
  });

  it('a token verified (and remembered) before it expires is refused once it has expired', async () => {
    const owner = account('owner@acme.example');
    // 3-4 s ahead: the three requests before it must be answered in time on a busy host too.
    const exp = Math.floor(Date.now() / 1000) + 4;
    const shortLived = await signToken(stack.backends.keys.privateJwk, { sub: owner.id, tid: acme, roles: ['owner'], expiresIn: exp });
    for (let i = 0; i < 3; i++) expect((await gql(url, VIEWER, {}, bearer(shortLived))).data!.viewer.account.email).toBe('owner@acme.example');
    await sleep(exp * 1000 - Date.now() + 50);
    const after = await gql(url, VIEWER, {}, bearer(shortLived));
    expect(after.data?.viewer ?? null).toBeNull();
    expect(after.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('tenant isolation in the auth subgraph', () => {
  const ENTITIES = `query($representations: [_Any!]!) { _entities(representations: $representations) {
    ... on Account { id email name } ... on Tenant { id slug } } }`;

  it('a globex token resolves no acme account or tenant through _entities', async () => {
    const token = await stack.login('owner@globex.example');
    const acmeIds = DEMO_ACCOUNTS.filter((a) => a.tenant === 'acme').map((a) => ({ __typename: 'Account', id: a.id }));
    const result = await gql(url, ENTITIES, { representations: [...acmeIds, { __typename: 'Tenant', id: acme }, { __typename: 'Tenant', id: globex }] }, bearer(token));
    expect(result.data!._entities).toEqual([null, null, null, null, { id: globex, slug: 'globex' }]);
  });

  it('members lists only the token tenant', async () => {
    const token = await stack.login('owner@globex.example');
    const { data } = await gql(url, '{ members(first: 50) { totalCount edges { node { account { email } } } } }', {}, bearer(token));
    expect(data!.members.edges.map((e: any) => e.node.account.email)).toEqual(['owner@globex.example']);
  });

  it('switchTenant only to a tenant the account belongs to', async () => {
    const token = await stack.login('owner@acme.example');
    const result = await gql(url, 'mutation { switchTenant(tenantSlug: "globex") { accessToken } }', {}, bearer(token));
    expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('member management', () => {
  const INVITE = `mutation($input: InviteMemberInput!) { inviteMember(input: $input) {
    membership { role account { email } } errors { field code message } } }`;

  it('editors cannot invite; admins can; bad input comes back in errors', async () => {
    const editor = await stack.login('editor@acme.example');
    const denied = await gql(url, INVITE, { input: { email: 'new@acme.example', role: 'VIEWER', password: 'a-long-password' } }, bearer(editor));
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const owner = await stack.login('owner@acme.example');
    const bad = await gql(url, INVITE, { input: { email: 'not-an-email', role: 'VIEWER' } }, bearer(owner));
    expect(bad.data!.inviteMember.errors).toEqual([expect.objectContaining({ field: 'email', code: 'INVALID' })]);
    const weak = await gql(url, INVITE, { input: { email: 'new@acme.example', role: 'VIEWER', password: 'short' } }, bearer(owner));
    expect(weak.data!.inviteMember.errors[0].code).toBe('PASSWORD_TOO_WEAK');

    const added = await gql(url, INVITE, { input: { email: 'analyst@acme.example', role: 'ANALYST', password: 'a-long-password' } }, bearer(owner));
    expect(added.data!.inviteMember).toEqual({ membership: { role: 'ANALYST', account: { email: 'analyst@acme.example' } }, errors: [] });
    const again = await gql(url, INVITE, { input: { email: 'analyst@acme.example', role: 'ANALYST' } }, bearer(owner));
    expect(again.data!.inviteMember.errors[0].code).toBe('UNIQUE');
    // The new member can log in to acme.
    expect((await gql(url, LOGIN, { email: 'analyst@acme.example', password: 'a-long-password' })).data!.login.accessToken).toBeTruthy();
  });

  it('an existing account of another tenant can be invited and then switch tenants', async () => {
    const owner = await stack.login('owner@acme.example');
    const invited = await gql(url, INVITE, { input: { email: 'owner@globex.example', role: 'VIEWER' } }, bearer(owner));
    expect(invited.data!.inviteMember.errors).toEqual([]);
    const globexToken = await stack.login('owner@globex.example', 'globex');
    const switched = await gql(url, 'mutation { switchTenant(tenantSlug: "acme") { accessToken } }', {}, bearer(globexToken));
    const acmeToken = switched.data!.switchTenant.accessToken;
    const viewer = await gql(url, '{ viewer { tenant { slug } roles memberships { tenant { slug } role } } }', {}, bearer(acmeToken));
    expect(viewer.data!.viewer.tenant.slug).toBe('acme');
    expect(viewer.data!.viewer.roles).toEqual(['VIEWER']);
    expect(viewer.data!.viewer.memberships.map((m: any) => m.tenant.slug).sort()).toEqual(['acme', 'globex']);
    // Clean up for the other tests.
    await gql(url, 'mutation($id: ID!) { removeMember(accountId: $id) { errors { code } } }', { id: account('owner@globex.example').id }, bearer(owner));
  });

  it('an admin cannot remove an owner, and the last owner cannot leave or be demoted', async () => {
    const owner = await stack.login('owner@acme.example');
    const ownerId = account('owner@acme.example').id;
    const remove = await gql(url, 'mutation($id: ID!) { removeMember(accountId: $id) { removedAccountId errors { code } } }', { id: ownerId }, bearer(owner));
    expect(remove.data!.removeMember.errors[0].code).toBe('LAST_OWNER');
    const demote = await gql(url, 'mutation($id: ID!) { updateMemberRole(accountId: $id, role: ADMIN) { errors { code } } }', { id: ownerId }, bearer(owner));
    expect(demote.data!.updateMemberRole.errors[0].code).toBe('LAST_OWNER');

    const editorId = account('editor@acme.example').id;
    const promote = await gql(url, 'mutation($id: ID!) { updateMemberRole(accountId: $id, role: ADMIN) { membership { role } errors { code } } }', { id: editorId }, bearer(owner));
    expect(promote.data!.updateMemberRole.membership.role).toBe('ADMIN');
    const admin = await stack.login('editor@acme.example');
    const adminRemovesOwner = await gql(url, 'mutation($id: ID!) { removeMember(accountId: $id) { errors { code } } }', { id: ownerId }, bearer(admin));
    expect(adminRemovesOwner.data!.removeMember.errors[0].code).toBe('NOT_ALLOWED');
    const adminMakesOwner = await gql(url, 'mutation($id: ID!) { updateMemberRole(accountId: $id, role: OWNER) { errors { code } } }', { id: editorId }, bearer(admin));
    expect(adminMakesOwner.data!.updateMemberRole.errors[0].code).toBe('NOT_ALLOWED');
    await gql(url, 'mutation($id: ID!) { updateMemberRole(accountId: $id, role: EDITOR) { errors { code } } }', { id: editorId }, bearer(owner));
  });

  it('only platform administrators create tenants, and slugs are unique', async () => {
    const globexOwner = await stack.login('owner@globex.example');
    const CREATE = 'mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { slug saleorChannel } errors { field code } } }';
    const input = { slug: 'initech', name: 'Initech', saleorChannel: 'default-channel' };
    expect((await gql(url, CREATE, { input }, bearer(globexOwner))).data!.createTenant.errors[0].code).toBe('NOT_ALLOWED');
    const admin = await stack.login('owner@acme.example');
    expect((await gql(url, CREATE, { input }, bearer(admin))).data!.createTenant).toEqual({ tenant: { slug: 'initech', saleorChannel: 'default-channel' }, errors: [] });
    expect((await gql(url, CREATE, { input }, bearer(admin))).data!.createTenant.errors[0]).toEqual({ field: 'slug', code: 'UNIQUE' });
    expect((await gql(url, CREATE, { input: { ...input, slug: 'Bad Slug!' } }, bearer(admin))).data!.createTenant.errors[0].field).toBe('slug');
    // The creator owns it and can switch to it.
    const switched = await gql(url, 'mutation { switchTenant(tenantSlug: "initech") { accessToken } }', {}, bearer(admin));
    expect(switched.data!.switchTenant.accessToken).toBeTruthy();
  });

  it('changePassword checks the current password and revokes other sessions', async () => {
    const session = (await gql(url, LOGIN, { email: 'analyst@acme.example', password: 'a-long-password' })).data!.login;
    const CHANGE = 'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { ok errors { field code } } }';
    const wrong = await gql(url, CHANGE, { c: 'not-the-password', n: 'another-long-password' }, bearer(session.accessToken));
    expect(wrong.data!.changePassword).toEqual({ ok: false, errors: [{ field: 'currentPassword', code: 'INVALID' }] });
    const changed = await gql(url, CHANGE, { c: 'a-long-password', n: 'another-long-password' }, bearer(session.accessToken));
    expect(changed.data!.changePassword.ok).toBe(true);
    expect((await gql(url, REFRESH, { t: session.refreshToken })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await gql(url, LOGIN, { email: 'analyst@acme.example', password: 'another-long-password' })).data!.login.accessToken).toBeTruthy();
  });
});

describe('npm run auth:bootstrap', () => {
  // Embedded PGlite lives in this test's process: the CLI (another process) cannot share it, so
  // without PostgreSQL the test is reported as skipped rather than passed.
  it.skipIf(!realPostgres)('creates the first tenant and its owner, a platform administrator, who can then log in (needs PostgreSQL; skipped on PGlite)', async () => {
    const { spawnSync } = await import('node:child_process');
    const { config } = stack.backends;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      DATA_DIR: config.DATA_DIR,
      BOOTSTRAP_PASSWORD: 'first-admin-password',
      LOG_LEVEL: 'silent',
      ...(config.DATABASE_URL ? { DATABASE_URL: config.DATABASE_URL, DATABASE_OWNER_URL: config.DATABASE_OWNER_URL! } : {}),
    };
    const args = ['--import', 'tsx', 'subgraphs/auth/bootstrap-cli.ts', '--email', 'Admin@Initrode.example', '--name', 'Ini Admin', '--tenant', 'initrode', '--tenant-name', 'Initrode', '--channel', 'default-channel'];
    expect(config.DATABASE_URL, 'the backends of this run are PostgreSQL').toBeTruthy();
    const run = spawnSync(process.execPath, args, { env, encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('admin@initrode.example owns tenant "initrode"');
    const token = (await gql(url, LOGIN, { email: 'admin@initrode.example', password: 'first-admin-password', tenantSlug: 'initrode' })).data!.login.accessToken;
    const created = await gql(url, 'mutation { createTenant(input: { slug: "initrode-eu", name: "Initrode EU", saleorChannel: "eu" }) { errors { code } } }', {}, bearer(token));
    expect(created.data!.createTenant.errors).toEqual([]);
    const weak = spawnSync(process.execPath, args, { env: { ...env, BOOTSTRAP_PASSWORD: 'short' }, encoding: 'utf8', timeout: 60_000 });
    expect(weak.status).toBe(1);
    expect(weak.stderr).toMatch(/^BOOTSTRAP_PASSWORD: /);
  });
});
