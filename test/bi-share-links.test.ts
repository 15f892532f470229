import { decodeJwt, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import { DEMO_DASHBOARD } from '../subgraphs/bi/seed.ts';
import { biSettings } from '../subgraphs/bi/settings.ts';
import { DEVELOPMENT_SHARE_LINK_SECRET } from '../subgraphs/bi/share/settings.ts';
import { ConfigError } from '../subgraphs/kit/config.ts';
import { parseSettings } from '../subgraphs/kit/deps.ts';
import { bearer, gql, login } from './support/graphql.ts';
import { startSupergraph, type RunningSupergraph } from './support/stack.ts';

// Share links of bi dashboards through the gateway over HTTP, on real PostgreSQL and Redis (when
// reachable) with the demo tenants: admins create and revoke them; an anonymous caller holding a
// token reads that one dashboard, its charts and their data, and nothing else; a link stops at
// once when it expires or is revoked; a forged token costs no database read; chart data read
// through a link are cached under the link's tenant.

let stack: RunningSupergraph;
let url: string;
const [acmeTenant, globexTenant] = [DEMO_TENANTS[0].id, DEMO_TENANTS[1].id];
const tokens: Record<'owner' | 'admin' | 'analyst' | 'editor' | 'viewer' | 'globex', string> = {} as never;
const ADMIN = { email: 'admin@acme.example', password: 'admin-password-2026' };
const ANALYST = { email: 'share-analyst@acme.example', password: 'analyst-password-2026' };

/** Statements run against bi's share links (the check of a token on use). */
let shareLinkStatements = 0;
let acmeDashboard: { id: string; charts: { chart: { id: string; name: string } }[] };
let globexDashboardId: string;

const call = (token: string | null, query: string, variables: Record<string, unknown> = {}) => gql(url, query, variables, token ? bearer(token) : {});
const codes = (result: { errors?: { extensions?: Record<string, any> }[] }) => result.errors?.map((e) => e.extensions?.code);

async function invite(member: { email: string; password: string }, role: string) {
  const invited = await call(tokens.owner, 'mutation($i: InviteMemberInput!) { inviteMember(input: $i) { errors { code } } }', { i: { ...member, role } });
  expect(invited.data!.inviteMember.errors).toEqual([]);
  return login(url, member.email, { password: member.password });
}

beforeAll(async () => {
  stack = await startSupergraph();
  url = stack.graphql;
  stack.backends.db.onStatement((text) => {
    if (/bi\.share_links/.test(text)) shareLinkStatements++;
  });
  tokens.owner = await login(url, 'owner@acme.example');
  tokens.editor = await login(url, 'editor@acme.example');
  tokens.viewer = await login(url, 'viewer@acme.example');
  tokens.globex = await login(url, 'owner@globex.example');
  tokens.admin = await invite(ADMIN, 'ADMIN');
  tokens.analyst = await invite(ANALYST, 'ANALYST');
  const acme = await call(tokens.owner, 'query($k: String!) { dashboard(idOrSlug: $k) { id charts { chart { id name } } } }', { k: DEMO_DASHBOARD.slug });
  acmeDashboard = acme.data!.dashboard;
  const globex = await call(tokens.globex, 'query($k: String!) { dashboard(idOrSlug: $k) { id } }', { k: DEMO_DASHBOARD.slug });
  globexDashboardId = globex.data!.dashboard.id;
  expect(acmeDashboard.charts.length).toBeGreaterThan(1);
}, 120_000);
afterAll(() => stack?.close());

const CREATE = `mutation($d: ID!, $s: Int) { createShareLink(dashboardId: $d, expiresInSeconds: $s) {
  token shareLink { id createdAt expiresAt revokedAt active createdBy { id } } errors { field code message } } }`;
const REVOKE = 'mutation($id: ID!) { revokeShareLink(id: $id) { deletedId errors { field code } } }';
const DATA = 'data { columns { name type } rows rowCount }';
const SHARED = `query($t: String!) { sharedDashboard(token: $t) { id title slug published nativeFilters { column operator values }
  charts { x y width height ${DATA} vegaLite chart { id name type definition { dataset dimensions metrics { aggregate column label } } ${DATA} vegaLite svg } } } }`;
const SHARED_ID = 'query($t: String!) { sharedDashboard(token: $t) { id title } }';

/** A new link of the dashboard (acme's demo one unless given), by the admin unless another token is given. */
async function newLink(dashboardId = acmeDashboard.id, token = tokens.admin, seconds?: number) {
  const result = await call(token, CREATE, { d: dashboardId, s: seconds });
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  expect(result.data!.createShareLink.errors).toEqual([]);
  return result.data!.createShareLink as { token: string; shareLink: { id: string; expiresAt: string; active: boolean } };
}

/** What an unknown, tampered, expired or revoked token gets: the same answer each time. */
async function expectRefused(token: string) {
  const result = await call(null, SHARED_ID, { t: token });
  expect(result.data?.sharedDashboard ?? null).toBeNull();
  expect(codes(result)).toEqual(['NOT_FOUND']);
  expect(result.errors![0]!.message).toBe('Shared dashboard not found.');
}

const createDashboard = async (token: string, title: string, charts: { chartId: string }[] = []) => {
  const result = await call(token, 'mutation($i: DashboardInput!) { createDashboard(input: $i) { dashboard { id } errors { code } } }', {
    i: { title, charts: charts.map((c, i) => ({ ...c, x: 0, y: i * 4, width: 6, height: 4 })) },
  });
  expect(result.data!.createDashboard.errors).toEqual([]);
  return result.data!.createDashboard.dashboard.id as string;
};
const publish = (token: string, id: string, published = true) =>
  call(token, 'mutation($id: ID!, $p: Boolean) { updateDashboard(id: $id, input: { published: $p }) { errors { code } } }', { id, p: published });

describe('creating share links', () => {
  it('an admin creates a link: the token is shown once, the link is listed without it', async () => {
    const before = Date.now();
    const { token, shareLink } = await newLink();
    expect(typeof token).toBe('string');
    expect(shareLink.active).toBe(true);
    // Default lifetime: 7 days.
    const lifetime = new Date(shareLink.expiresAt).getTime() - before;
    expect(lifetime).toBeGreaterThan(7 * 86_400_000 - 60_000);
    expect(lifetime).toBeLessThanOrEqual(7 * 86_400_000 + 60_000);
    // The token names the link, its tenant and its dashboard, and expires with it.
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ jti: shareLink.id, tid: acmeTenant, dsh: acmeDashboard.id });
    expect(claims.exp).toBe(Math.floor(new Date(shareLink.expiresAt).getTime() / 1000));

    const listed = await call(tokens.owner, 'query($k: String!) { dashboard(idOrSlug: $k) { shareLinks { id active revokedAt createdBy { id } } } }', { k: acmeDashboard.id });
    expect(listed.errors).toBeUndefined();
    expect(listed.data!.dashboard.shareLinks[0]).toMatchObject({ id: shareLink.id, active: true, revokedAt: null });
    expect(JSON.stringify(listed.data)).not.toContain(token.split('.')[2]!);
    // The schema has no field that gives a token back.
    const asked = await call(tokens.owner, 'query($k: String!) { dashboard(idOrSlug: $k) { shareLinks { token } } }', { k: acmeDashboard.id });
    expect(codes(asked)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('only admins and owners create, revoke and list links', async () => {
    for (const who of ['viewer', 'editor', 'analyst'] as const) {
      const created = await call(tokens[who], CREATE, { d: acmeDashboard.id });
      expect(created.data!.createShareLink, who).toBeNull();
      expect(codes(created), who).toEqual(['FORBIDDEN']);
      const listed = await call(tokens[who], 'query($k: String!) { dashboard(idOrSlug: $k) { id shareLinks { id } } }', { k: acmeDashboard.id });
      expect(listed.data!.dashboard, who).toEqual({ id: acmeDashboard.id, shareLinks: null });
      expect(codes(listed), who).toEqual(['FORBIDDEN']);
    }
    expect(codes(await call(null, CREATE, { d: acmeDashboard.id }))).toEqual(['UNAUTHENTICATED']);
    const { shareLink } = await newLink(acmeDashboard.id, tokens.owner);
    const revoked = await call(tokens.viewer, REVOKE, { id: shareLink.id });
    expect(codes(revoked)).toEqual(['FORBIDDEN']);
    expect(codes(await call(tokens.analyst, REVOKE, { id: shareLink.id }))).toEqual(['FORBIDDEN']);
  });

  it('refuses a lifetime past 90 days or under a second, another tenant\'s dashboard and an unpublished one', async () => {
    const tooLong = await call(tokens.admin, CREATE, { d: acmeDashboard.id, s: 90 * 86_400 + 1 });
    expect(tooLong.data!.createShareLink).toMatchObject({ token: null, shareLink: null, errors: [{ field: 'expiresInSeconds', code: 'TOO_LARGE' }] });
    const longest = await newLink(acmeDashboard.id, tokens.admin, 90 * 86_400);
    expect(new Date(longest.shareLink.expiresAt).getTime() - Date.now()).toBeGreaterThan(89 * 86_400_000);
    const zero = await call(tokens.admin, CREATE, { d: acmeDashboard.id, s: 0 });
    expect(zero.data!.createShareLink.errors).toEqual([expect.objectContaining({ field: 'expiresInSeconds', code: 'INVALID' })]);
    // Globex's dashboard does not exist for acme's admin.
    const foreign = await call(tokens.admin, CREATE, { d: globexDashboardId });
    expect(foreign.data!.createShareLink).toMatchObject({ token: null, errors: [{ field: 'dashboardId', code: 'NOT_FOUND' }] });
    const draft = await createDashboard(tokens.admin, 'Draft to share');
    const unpublished = await call(tokens.admin, CREATE, { d: draft });
    expect(unpublished.data!.createShareLink).toMatchObject({ token: null, errors: [{ field: 'dashboardId', code: 'INVALID' }] });
    const malformed = await call(tokens.admin, CREATE, { d: 'not-an-id' });
    expect(malformed.data!.createShareLink.errors).toEqual([expect.objectContaining({ field: 'dashboardId', code: 'NOT_FOUND' })]);
  });
});

describe('reading a dashboard through its link', () => {
  it('an anonymous caller reads the dashboard, its charts, their data, Vega-Lite and SVG: the data a member sees', async () => {
    const { token } = await newLink();
    const shared = await call(null, SHARED, { t: token });
    expect(shared.errors, JSON.stringify(shared.errors)).toBeUndefined();
    const dashboard = shared.data!.sharedDashboard;
    expect(dashboard).toMatchObject({ id: acmeDashboard.id, title: DEMO_DASHBOARD.title, slug: DEMO_DASHBOARD.slug, published: true });
    expect(dashboard.charts.map((c: any) => c.chart.id)).toEqual(acmeDashboard.charts.map((c) => c.chart.id));
    for (const placed of dashboard.charts) {
      expect(placed.vegaLite).toMatchObject({ $schema: expect.stringContaining('vega-lite') });
      expect(placed.chart.svg).toMatch(/^<svg/);
      expect(placed.chart.data).toEqual(placed.data); // no native filters on the demo dashboard
    }
    // The same data as acme's viewer gets through the dashboard itself, computed in acme's tenant.
    const member = await call(tokens.viewer, `query($k: String!) { dashboard(idOrSlug: $k) { charts { ${DATA} chart { id ${DATA} } } } }`, { k: acmeDashboard.id });
    expect(member.errors).toBeUndefined();
    expect(dashboard.charts.map((c: any) => [c.chart.id, c.data, c.chart.data])).toEqual(member.data!.dashboard.charts.map((c: any) => [c.chart.id, c.data, c.chart.data]));
    expect(dashboard.charts.some((c: any) => c.data.rowCount > 0)).toBe(true);
  });

  it('applies the dashboard\'s native filters to the charts\' data', async () => {
    const chart = await call(tokens.analyst, 'mutation($i: ChartInput!) { createChart(input: $i) { chart { id } errors { code } } }', {
      i: { name: 'Leads by status (shared)', type: 'BAR', dataset: 'leads', metrics: [{ aggregate: 'COUNT', label: 'leads' }], dimensions: ['status'], sort: [{ by: 'status' }] },
    });
    const chartId = chart.data!.createChart.chart.id;
    const id = await createDashboard(tokens.analyst, 'Qualified leads', [{ chartId }]);
    const filtered = await call(tokens.analyst, 'mutation($id: ID!, $i: DashboardUpdateInput!) { updateDashboard(id: $id, input: $i) { errors { code } } }', {
      id,
      i: { published: true, nativeFilters: [{ column: 'status', operator: 'EQ', values: ['qualified'] }] },
    });
    expect(filtered.data!.updateDashboard.errors).toEqual([]);
    const { token } = await newLink(id);
    const shared = await call(null, SHARED, { t: token });
    expect(shared.errors).toBeUndefined();
    const [placed] = shared.data!.sharedDashboard.charts;
    const expected = (await acmeRows("SELECT count(*)::int AS n FROM crm.lead_facts WHERE status = 'qualified'"))[0].n;
    expect(placed.data.rows).toEqual(expected ? [['qualified', expected]] : []);
    // The chart alone keeps its own definition: every status.
    expect(placed.chart.data.rowCount).toBeGreaterThan(placed.data.rowCount);
  });

  it('reaches nothing else: no other chart or dashboard, no list, no preview, no owner, no links', async () => {
    const { token } = await newLink();
    const otherChart = (await call(tokens.analyst, 'mutation($i: ChartInput!) { createChart(input: $i) { chart { id } } }', {
      i: { name: 'Not on the shared dashboard', type: 'BIG_NUMBER', dataset: 'leads', metrics: [{ aggregate: 'COUNT' }] },
    })).data!.createChart.chart.id;
    const onDashboard = acmeDashboard.charts[0]!.chart.id;
    const other = await createDashboard(tokens.admin, 'Other dashboard');
    await publish(tokens.admin, other);

    // Beside it, in the same request: every root field but sharedDashboard stays closed.
    for (const [field, query] of [
      ['chart', `chart(id: "${onDashboard}") { name }`],
      ['chart', `chart(id: "${otherChart}") { name }`],
      ['charts', 'charts(first: 10) { totalCount edges { node { name } } }'],
      ['dashboard', `dashboard(idOrSlug: "${other}") { title }`],
      ['dashboards', 'dashboards(first: 10) { totalCount }'],
      ['chartPreview', 'chartPreview(input: { name: "x", type: TABLE, dataset: "leads", metrics: [{ aggregate: COUNT }] }) { data { rows } }'],
      ['biDatasets', 'biDatasets { name }'],
    ] as const) {
      const result = await call(null, `query($t: String!) { sharedDashboard(token: $t) { id } ${query} }`, { t: token });
      expect(result.data!.sharedDashboard, field).toEqual({ id: acmeDashboard.id });
      expect(result.data![field], field).toBeNull();
      expect(codes(result), field).toEqual(['UNAUTHENTICATED']);
    }
    // Who owns the dashboard and its charts, and its links, stay the tenant's.
    const owners = await call(null, 'query($t: String!) { sharedDashboard(token: $t) { id owner { id } shareLinks { id } charts { chart { id owner { id } } } } }', { t: token });
    expect(owners.data!.sharedDashboard.owner).toBeNull();
    expect(owners.data!.sharedDashboard.shareLinks).toBeNull();
    expect(owners.data!.sharedDashboard.charts.every((c: any) => c.chart.owner === null)).toBe(true);
    expect(codes(owners)!.length).toBe(2 + owners.data!.sharedDashboard.charts.length);
    // Even the tenant's owner gets no links through a share link.
    const asOwner = await call(tokens.owner, 'query($t: String!) { sharedDashboard(token: $t) { shareLinks { id } owner { id } } }', { t: token });
    expect(asOwner.data!.sharedDashboard).toEqual({ shareLinks: null, owner: null });
    expect(codes(asOwner)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
  });

  it('_entities on the subgraph itself, with a verified link in the same request, resolves nothing of the tenant', async () => {
    const { token } = await newLink();
    const chartId = acmeDashboard.charts[0]!.chart.id;
    const result = await gql(stack.urls.bi!, `query($t: String!, $r: [_Any!]!) { sharedDashboard(token: $t) { id charts { chart { id } } }
      _entities(representations: $r) { ... on Chart { id name data { rowCount } } ... on Dashboard { id title charts { chart { name } } } } }`, {
      t: token,
      r: [{ __typename: 'Chart', id: chartId }, { __typename: 'Dashboard', id: acmeDashboard.id }, { __typename: 'Dashboard', id: globexDashboardId }],
    });
    expect(result.data!.sharedDashboard.id).toBe(acmeDashboard.id);
    // Anonymous: no tenant, so no row (null); a chart of the shared dashboard is not shared when reached this way.
    expect(result.data!._entities).toEqual([null, null, null]);
    expect(JSON.stringify(result.data)).not.toContain(acmeDashboard.charts[0]!.chart.name);
    // A share token is no access token.
    const bearerShare = await gql(stack.urls.bi!, `{ chart(id: "${chartId}") { name } }`, {}, bearer(token));
    expect(codes(bearerShare)).toEqual(['UNAUTHENTICATED']);
  });

  it('a logged-in member of another tenant reads the link, and still only its own tenant elsewhere', async () => {
    const { token } = await newLink();
    const onDashboard = acmeDashboard.charts[0]!.chart.id;
    const result = await call(tokens.globex, `query($t: String!) { sharedDashboard(token: $t) { id charts { chart { id name } } }
      chart(id: "${onDashboard}") { name } dashboard(idOrSlug: "${acmeDashboard.id}") { title } }`, { t: token });
    expect(result.data!.sharedDashboard.charts.map((c: any) => c.chart.id)).toContain(onDashboard);
    // The acme charts the link showed are not primed into globex's loaders.
    expect(result.data!.chart).toBeNull();
    expect(result.data!.dashboard).toBeNull();
    expect(codes(result)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
  });

  it('a link of globex\'s dashboard shows globex\'s, never acme\'s; a token naming another dashboard or tenant is refused', async () => {
    const globexLink = await newLink(globexDashboardId, tokens.globex);
    const globex = await call(null, SHARED_ID, { t: globexLink.token });
    expect(globex.data!.sharedDashboard.id).toBe(globexDashboardId);

    const acmeLink = await newLink();
    const [header, payload, signature] = acmeLink.token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const tamper = (changes: Record<string, unknown>) => `${header}.${Buffer.from(JSON.stringify({ ...claims, ...changes })).toString('base64url')}.${signature}`;
    await expectRefused(tamper({ tid: globexTenant, dsh: globexDashboardId }));
    await expectRefused(tamper({ dsh: globexDashboardId }));
    await expectRefused(tamper({ exp: claims.exp + 86_400 }));
    // Even signed with the (development) secret, a token must name its link's own tenant and dashboard.
    const forge = (changes: Record<string, unknown>) =>
      new SignJWT({ ...claims, ...changes }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(DEVELOPMENT_SHARE_LINK_SECRET));
    expect((await call(null, SHARED_ID, { t: await forge({}) })).data!.sharedDashboard.id).toBe(acmeDashboard.id);
    await expectRefused(await forge({ tid: globexTenant }));
    await expectRefused(await forge({ dsh: globexDashboardId }));
    await expectRefused(await forge({ tid: globexTenant, dsh: globexDashboardId }));
    await expectRefused(await forge({ jti: globexLink.shareLink.id }));
  });
});

describe('a link stops', () => {
  it('at once when revoked; revoking again changes nothing; another admin\'s tenant cannot revoke it', async () => {
    const { token, shareLink } = await newLink();
    expect((await call(null, SHARED_ID, { t: token })).data!.sharedDashboard.id).toBe(acmeDashboard.id);
    const foreign = await call(tokens.globex, REVOKE, { id: shareLink.id });
    expect(foreign.data!.revokeShareLink.errors).toEqual([{ field: 'id', code: 'NOT_FOUND' }]);
    expect((await call(null, SHARED_ID, { t: token })).data!.sharedDashboard.id).toBe(acmeDashboard.id);

    const revoked = await call(tokens.admin, REVOKE, { id: shareLink.id });
    expect(revoked.data!.revokeShareLink).toEqual({ deletedId: shareLink.id, errors: [] });
    await expectRefused(token);
    const again = await call(tokens.owner, REVOKE, { id: shareLink.id });
    expect(again.data!.revokeShareLink).toEqual({ deletedId: shareLink.id, errors: [] });
    await expectRefused(token);
    const listed = await call(tokens.admin, 'query($k: String!) { dashboard(idOrSlug: $k) { shareLinks { id active revokedAt } } }', { k: acmeDashboard.id });
    expect(listed.data!.dashboard.shareLinks.find((l: any) => l.id === shareLink.id)).toMatchObject({ active: false, revokedAt: expect.any(String) });
    const unknown = await call(tokens.admin, REVOKE, { id: '00000000-0000-4000-8000-00000000abcd' });
    expect(unknown.data!.revokeShareLink.errors).toEqual([{ field: 'id', code: 'NOT_FOUND' }]);
  });

  it('when it expires: by its token\'s expiry, and by its row\'s', async () => {
    const short = await newLink(acmeDashboard.id, tokens.admin, 3);
    expect((await call(null, SHARED_ID, { t: short.token })).data!.sharedDashboard.id).toBe(acmeDashboard.id);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, new Date(short.shareLink.expiresAt).getTime() - Date.now()) + 1100));
    await expectRefused(short.token);

    // The row decides too: a link whose row has expired (its token still says otherwise) stops.
    const long = await newLink();
    expect((await call(null, SHARED_ID, { t: long.token })).data!.sharedDashboard.id).toBe(acmeDashboard.id);
    await stack.backends.deps('test').asOwner((tx) =>
      tx.query("UPDATE bi.share_links SET created_at = now() - interval '1 day', expires_at = now() - interval '1 second' WHERE id = $1", [long.shareLink.id]),
    );
    await expectRefused(long.token);
    const listed = await call(tokens.admin, 'query($k: String!) { dashboard(idOrSlug: $k) { shareLinks { id active } } }', { k: acmeDashboard.id });
    expect(listed.data!.dashboard.shareLinks.find((l: any) => l.id === long.shareLink.id).active).toBe(false);
  });

  it('while its dashboard is unpublished, and for good when the dashboard is deleted', async () => {
    const id = await createDashboard(tokens.admin, 'Published for a while');
    await publish(tokens.admin, id);
    const { token } = await newLink(id);
    expect((await call(null, SHARED_ID, { t: token })).data!.sharedDashboard.id).toBe(id);
    await publish(tokens.admin, id, false);
    await expectRefused(token);
    await publish(tokens.admin, id, true);
    expect((await call(null, SHARED_ID, { t: token })).data!.sharedDashboard.id).toBe(id);
    const deleted = await call(tokens.admin, 'mutation($id: ID!) { deleteDashboard(id: $id) { deletedId } }', { id });
    expect(deleted.data!.deleteDashboard.deletedId).toBe(id);
    await expectRefused(token);
    expect((await acmeRows('SELECT count(*)::int AS n FROM bi.share_links WHERE dashboard_id = $1', [id]))[0].n).toBe(0);
  });

  it('a garbage or tampered token is refused without a database read', async () => {
    const { token } = await newLink();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.at(-1)}`;
    const before = shareLinkStatements;
    for (const garbage of ['', 'garbage', 'a.b.c', `${header}.${payload}.${flipped}`, `${header}.${payload}.`, token.replace(/^[^.]+/, Buffer.from('{"alg":"none"}').toString('base64url')), 'x'.repeat(5000)]) {
      await expectRefused(garbage);
    }
    expect(shareLinkStatements).toBe(before);
    // A valid token reads its row on every use (revocation is never cached).
    await call(null, SHARED_ID, { t: token });
    await call(null, SHARED_ID, { t: token });
    expect(shareLinkStatements).toBe(before + 2);
  });
});

describe('the chart cache', () => {
  it('keys chart data read through a link by the link\'s tenant, never the caller\'s', async () => {
    const { config } = stack.backends;
    const redis = stack.backends.deps('test').redis;
    const chartKeys = async (tenant: string) => (await redis.keys(`${config.REDIS_PREFIX}{${tenant}}:bi:chart:*`)).sort();
    const chart = await call(tokens.analyst, 'mutation($i: ChartInput!) { createChart(input: $i) { chart { id } } }', {
      i: { name: 'Deals by stage (cache)', type: 'TABLE', dataset: 'deals', metrics: [{ aggregate: 'COUNT', label: 'deals' }, { aggregate: 'SUM', column: 'amount', label: 'amount' }], dimensions: ['stage'], sort: [{ by: 'stage' }] },
    });
    const id = await createDashboard(tokens.analyst, 'Cache by tenant', [{ chartId: chart.data!.createChart.chart.id }]);
    await publish(tokens.analyst, id);
    const { token } = await newLink(id);
    const [acmeBefore, globexBefore, anonBefore] = [await chartKeys(acmeTenant), await chartKeys(globexTenant), await chartKeys('anon')];

    // A globex member reading acme's link: acme's data, cached under acme.
    const viaGlobex = await call(tokens.globex, `query($t: String!) { sharedDashboard(token: $t) { charts { ${DATA} } } }`, { t: token });
    expect(viaGlobex.errors).toBeUndefined();
    const expected = await acmeRows('SELECT stage, count(*)::int AS deals, sum(amount)::float8 AS amount FROM crm.deal_facts GROUP BY stage ORDER BY stage');
    expect(viaGlobex.data!.sharedDashboard.charts[0].data.rows).toEqual(expected.map((r: any) => [r.stage, r.deals, r.amount]));
    const acmeAfter = await chartKeys(acmeTenant);
    expect(acmeAfter.length).toBe(acmeBefore.length + 1);
    expect(await chartKeys(globexTenant)).toEqual(globexBefore);
    expect(await chartKeys('anon')).toEqual(anonBefore);

    // The anonymous reader and acme's own members hit the same entry.
    const anonymous = await call(null, `query($t: String!) { sharedDashboard(token: $t) { charts { data { rows computedAt } } } }`, { t: token });
    const member = await call(tokens.viewer, `query($k: String!) { dashboard(idOrSlug: $k) { charts { data { rows computedAt } } } }`, { k: id });
    expect(anonymous.data!.sharedDashboard.charts[0].data).toEqual(member.data!.dashboard.charts[0].data);
    expect(await chartKeys(acmeTenant)).toEqual(acmeAfter);
    expect(await chartKeys(globexTenant)).toEqual(globexBefore);
  });
});

describe('the signing secret', () => {
  it('has a development default, and must be set (to a secret of its own) in production: bi stops at start naming it', () => {
    const settings = (env: Record<string, string>) => parseSettings({ settings: biSettings }, env);
    expect(settings({}).BI_SHARE_LINK_SECRET).toBeUndefined();
    const refused = (env: Record<string, string>, message: string) => {
      expect(() => settings(env)).toThrow(ConfigError);
      expect(() => settings(env)).toThrow(`Invalid configuration: BI_SHARE_LINK_SECRET: ${message}`);
    };
    refused({ NODE_ENV: 'production' }, 'required when NODE_ENV=production');
    refused({ NODE_ENV: 'production', BI_SHARE_LINK_SECRET: DEVELOPMENT_SHARE_LINK_SECRET }, 'the development default is public: set a secret of your own');
    refused({ BI_SHARE_LINK_SECRET: 'x'.repeat(31) }, 'at least 32 characters');
    const secret = 's'.repeat(48);
    expect(settings({ NODE_ENV: 'production', BI_SHARE_LINK_SECRET: secret }).BI_SHARE_LINK_SECRET).toBe(secret);
  });
});

/** Rows of the acme tenant, read directly (RLS as acme): the expected values, computed apart from bi. */
const acmeRows = (sql: string, params: unknown[] = []) =>
  stack.backends.db.withTenant({ tenantId: acmeTenant, accountId: null }, async (tx) => (await tx.query(sql, params)).rows);
