import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import auth from '../subgraphs/auth/index.ts';
import { DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import cms from '../subgraphs/cms/index.ts';
import { publishScheduledPage } from '../subgraphs/cms/scheduler.ts';
import type { TxRunner } from '../subgraphs/kit/db/database.ts';
import { createSubgraphServer, type SubgraphServer } from '../subgraphs/kit/server.ts';
import { bearer, gql } from './support/graphql.ts';
import { startSubgraphs, type RunningSubgraphs } from './support/stack.ts';

// The CMS subgraph on its own (with auth for logins): the page tree, the revision and publishing
// workflow, the scheduler across a restart, public reads, roles and tenant isolation.

const acme = DEMO_TENANTS[0].id;
const globex = DEMO_TENANTS[1].id;

let stack: RunningSubgraphs;
let url: string;
const token = (email: string) => stack.token(email);
/** A GraphQL call to the CMS subgraph as `email` (anonymous when null). */
const as = (email: string | null) => async (query: string, variables: Record<string, unknown> = {}) =>
  gql(url, query, variables, email ? bearer(await token(email)) : {});
const editor = as('editor@acme.example');
const viewer = as('viewer@acme.example');
const owner = as('owner@acme.example');
const globexOwner = as('owner@globex.example');
const anonymous = as(null);

const PAGE = 'id slug urlPath depth position title status';
const CREATE = `mutation($input: ContentPageCreateInput!) { createContentPage(input: $input) { contentPage { ${PAGE} } errors { field code message } } }`;
const MOVE = `mutation($id: ID!, $parentId: ID, $position: Int) { moveContentPage(id: $id, parentId: $parentId, position: $position) { contentPage { ${PAGE} } errors { field code } } }`;
const UPDATE = `mutation($id: ID!, $input: ContentPageUpdateInput!) { updateContentPage(id: $id, input: $input) { contentPage { ${PAGE} hasUnpublishedChanges } errors { field code message } } }`;
const PUBLISH = `mutation($id: ID!, $revisionId: ID) { publishContentPage(id: $id, revisionId: $revisionId) { contentPage { status firstPublishedAt lastPublishedAt liveRevision { number } } errors { field code } } }`;
const PUBLIC_PAGE = `query($site: String!, $path: String!) { publishedContentPage(site: $site, path: $path) { title urlPath } }`;
const CHILDREN = `query($path: String!) { contentPage(path: $path) { children(first: 50) { totalCount edges { node { slug position urlPath depth } } } } }`;

async function create(input: Record<string, unknown>, who = editor) {
  const result = await who(CREATE, { input });
  expect(result.errors).toBeUndefined();
  expect(result.data!.createContentPage.errors).toEqual([]);
  return result.data!.createContentPage.contentPage as { id: string; urlPath: string; position: number; depth: number };
}
const children = async (path: string) =>
  ((await editor(CHILDREN, { path })).data!.contentPage.children.edges as { node: { slug: string; position: number; urlPath: string; depth: number } }[]).map((e) => e.node);

beforeAll(async () => {
  stack = await startSubgraphs([auth, cms]);
  url = stack.urls.cms!;
});
afterAll(() => stack?.close());

describe('the page tree', () => {
  it('creates ordered children with URL paths, and refuses a slug taken among siblings', async () => {
    const shop = await create({ slug: 'shop', title: 'Shop' });
    expect(shop).toMatchObject({ urlPath: '/shop', depth: 0 });
    for (const slug of ['a', 'b', 'c']) await create({ parentId: shop.id, slug, title: slug.toUpperCase() });
    expect(await children('/shop')).toEqual([
      { slug: 'a', position: 0, urlPath: '/shop/a', depth: 1 },
      { slug: 'b', position: 1, urlPath: '/shop/b', depth: 1 },
      { slug: 'c', position: 2, urlPath: '/shop/c', depth: 1 },
    ]);
    const clash = await editor(CREATE, { input: { parentId: shop.id, slug: 'a', title: 'Another A' } });
    expect(clash.data!.createContentPage).toMatchObject({ contentPage: null, errors: [{ field: 'slug', code: 'UNIQUE' }] });
    // The same slug under another parent is fine.
    expect((await create({ slug: 'a', title: 'Top-level A' })).urlPath).toBe('/a');
    const bad = await editor(CREATE, { input: { slug: 'Not A Slug', title: 'x' } });
    expect(bad.data!.createContentPage.errors).toEqual([expect.objectContaining({ field: 'slug', code: 'INVALID' })]);
    const noParent = await editor(CREATE, { input: { parentId: '00000000-0000-4000-8000-000000000000', slug: 'x', title: 'x' } });
    expect(noParent.data!.createContentPage.errors).toEqual([expect.objectContaining({ field: 'parentId', code: 'NOT_FOUND' })]);
  });

  it('reorders siblings and moves a subtree, keeping paths, depths and positions in step', async () => {
    const page = async (path: string) => (await editor(`query($p: String!) { contentPage(path: $p) { id } }`, { p: path })).data!.contentPage.id as string;
    const shop = await page('/shop');
    // Reorder: c first.
    const reordered = await editor(MOVE, { id: await page('/shop/c'), parentId: shop, position: 0 });
    expect(reordered.data!.moveContentPage).toMatchObject({ contentPage: { position: 0, urlPath: '/shop/c' }, errors: [] });
    expect((await children('/shop')).map((c) => `${c.position}:${c.slug}`)).toEqual(['0:c', '1:a', '2:b']);

    // Move /shop/a (with a child) under /shop/b.
    await create({ parentId: await page('/shop/a'), slug: 'deep', title: 'Deep' });
    const moved = await editor(MOVE, { id: await page('/shop/a'), parentId: await page('/shop/b'), position: 0 });
    expect(moved.data!.moveContentPage).toMatchObject({ contentPage: { urlPath: '/shop/b/a', depth: 2, position: 0 }, errors: [] });
    expect(await children('/shop/b/a')).toEqual([{ slug: 'deep', position: 0, urlPath: '/shop/b/a/deep', depth: 3 }]);
    expect((await children('/shop')).map((c) => `${c.position}:${c.slug}`)).toEqual(['0:c', '1:b']);

    // Not under itself or its descendants.
    const cycle = await editor(MOVE, { id: await page('/shop/b'), parentId: await page('/shop/b/a/deep') });
    expect(cycle.data!.moveContentPage.errors).toEqual([{ field: 'parentId', code: 'INVALID_MOVE' }]);
    // Not next to a sibling with the same slug: the top-level /a cannot join /shop/b, which has an `a`.
    const clash = await editor(MOVE, { id: await page('/a'), parentId: await page('/shop/b') });
    expect(clash.data!.moveContentPage.errors).toEqual([{ field: 'parentId', code: 'UNIQUE' }]);
    // To the top level, last.
    const top = await editor(MOVE, { id: await page('/shop/c'), parentId: null });
    expect(top.data!.moveContentPage.contentPage).toMatchObject({ urlPath: '/c', depth: 0 });
    expect((await children('/shop')).map((c) => `${c.position}:${c.slug}`)).toEqual(['0:b']);
  });

  it('a slug change moves the subtree; deleting (admins only) takes the subtree and closes the gap', async () => {
    const b = (await editor(`{ contentPage(path: "/shop/b") { id } }`)).data!.contentPage.id;
    const renamed = await editor(UPDATE, { id: b, input: { slug: 'bee' } });
    expect(renamed.data!.updateContentPage.contentPage.urlPath).toBe('/shop/bee');
    expect((await children('/shop/bee/a'))[0]!.urlPath).toBe('/shop/bee/a/deep');

    const shop = (await editor(`{ contentPage(path: "/shop") { id } }`)).data!.contentPage.id;
    await create({ parentId: shop, slug: 'z', title: 'Z' });
    const DELETE = 'mutation($id: ID!) { deleteContentPage(id: $id) { deletedId errors { code } } }';
    const denied = await editor(DELETE, { id: b });
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const deleted = await owner(DELETE, { id: b });
    expect(deleted.data!.deleteContentPage).toEqual({ deletedId: b, errors: [] });
    expect(await children('/shop')).toEqual([{ slug: 'z', position: 0, urlPath: '/shop/z', depth: 1 }]);
    const gone = await editor(`{ contentPage(path: "/shop/bee/a/deep") { id } }`);
    expect(gone.data!.contentPage).toBeNull();
    expect(gone.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

const REVISIONS = `query($id: ID!) { contentPage(id: $id) { title status hasUnpublishedChanges publishAt
  revisions(first: 10) { totalCount edges { node { id number title isLatest isLive createdBy { id } } } } } }`;

/** The page's status as the database has it (no server needed). */
const pageStatus = (page: string) =>
  stack.backends.db.withTenant({ tenantId: acme, accountId: null }, async (tx) => (await tx.query('SELECT status FROM cms.pages WHERE id = $1', [page])).rows[0].status);

/** A new CMS server process on the same database (the old one must be closed). */
async function restartCms() {
  const restarted: SubgraphServer = await createSubgraphServer(cms, stack.backends.deps('cms'));
  url = await restarted.listen(0, '127.0.0.1');
  stack.servers.cms = restarted;
}

describe('revisions and publishing', () => {
  let id: string;
  const publicTitle = async () => (await anonymous(PUBLIC_PAGE, { site: 'acme', path: '/launch' })).data?.publishedContentPage?.title ?? null;
  const revisions = async () => (await editor(REVISIONS, { id })).data!.contentPage;

  it('every save is a revision; the public sees only what was published', async () => {
    id = (await create({ slug: 'launch', title: 'Launch v1', body: [{ paragraph: { html: '<p>First</p>' } }] })).id;
    expect(await revisions()).toMatchObject({ title: 'Launch v1', status: 'DRAFT', hasUnpublishedChanges: true, revisions: { totalCount: 1 } });
    const hidden = await anonymous(PUBLIC_PAGE, { site: 'acme', path: '/launch' });
    expect(hidden.data!.publishedContentPage).toBeNull();
    expect(hidden.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const published = await editor(PUBLISH, { id });
    expect(published.data!.publishContentPage).toMatchObject({ contentPage: { status: 'PUBLISHED', liveRevision: { number: 1 } }, errors: [] });
    const firstPublishedAt = published.data!.publishContentPage.contentPage.firstPublishedAt;
    expect(firstPublishedAt).toBeTruthy();
    expect(await publicTitle()).toBe('Launch v1');

    const saved = await editor(UPDATE, { id, input: { title: 'Launch v2' } });
    expect(saved.data!.updateContentPage.contentPage).toMatchObject({ title: 'Launch v2', status: 'PUBLISHED', hasUnpublishedChanges: true });
    expect(await publicTitle()).toBe('Launch v1');
    const history = await revisions();
    expect(history.revisions.edges.map((e: any) => [e.node.number, e.node.title, e.node.isLatest, e.node.isLive])).toEqual([
      [2, 'Launch v2', true, false],
      [1, 'Launch v1', false, true],
    ]);
    expect(history.revisions.edges[0].node.createdBy.id).toBe('00000000-0000-4000-9000-000000000002');

    const again = await editor(PUBLISH, { id });
    expect(again.data!.publishContentPage.contentPage.firstPublishedAt).toBe(firstPublishedAt);
    expect(new Date(again.data!.publishContentPage.contentPage.lastPublishedAt).getTime()).toBeGreaterThanOrEqual(new Date(firstPublishedAt).getTime());
    expect(await publicTitle()).toBe('Launch v2');
  });

  it('revert makes an old revision the new draft; publish takes a given revision; unpublish hides the page', async () => {
    const first = (await revisions()).revisions.edges.find((e: any) => e.node.number === 1).node.id;
    const reverted = await editor(`mutation($id: ID!, $r: ID!) { revertContentPage(id: $id, revisionId: $r) { contentPage { title latestRevision { number } } errors { code } } }`, { id, r: first });
    expect(reverted.data!.revertContentPage).toEqual({ contentPage: { title: 'Launch v1', latestRevision: { number: 3 } }, errors: [] });
    expect(await publicTitle()).toBe('Launch v2');

    const republished = await editor(PUBLISH, { id, revisionId: first });
    expect(republished.data!.publishContentPage.contentPage.liveRevision).toEqual({ number: 1 });
    expect(await publicTitle()).toBe('Launch v1');

    // A revision of another page is not this page's.
    const other = (await editor(`{ contentPage(path: "/home") { latestRevision { id } } }`)).data!.contentPage.latestRevision.id;
    expect((await editor(PUBLISH, { id, revisionId: other })).data!.publishContentPage.errors).toEqual([{ field: 'revisionId', code: 'NOT_FOUND' }]);

    const unpublished = await editor(`mutation($id: ID!) { unpublishContentPage(id: $id) { contentPage { status liveRevision { number } } errors { code } } }`, { id });
    expect(unpublished.data!.unpublishContentPage).toEqual({ contentPage: { status: 'DRAFT', liveRevision: null }, errors: [] });
    expect(await publicTitle()).toBeNull();
    expect((await revisions()).revisions.totalCount).toBe(3);
  });

  it('schedules only in the future, and a schedule can be cancelled', async () => {
    const SCHEDULE = `mutation($id: ID!, $at: DateTime!) { scheduleContentPage(id: $id, at: $at) { contentPage { status publishAt scheduledRevision { number } } errors { field code } } }`;
    const past = await editor(SCHEDULE, { id, at: new Date(Date.now() - 60_000).toISOString() });
    expect(past.data!.scheduleContentPage.errors).toEqual([{ field: 'at', code: 'INVALID' }]);
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const scheduled = await editor(SCHEDULE, { id, at });
    expect(scheduled.data!.scheduleContentPage).toEqual({ contentPage: { status: 'SCHEDULED', publishAt: expect.any(String), scheduledRevision: { number: 3 } }, errors: [] });
    expect(new Date(scheduled.data!.scheduleContentPage.contentPage.publishAt).toISOString()).toBe(at);
    await sleep(300); // not due yet
    expect((await revisions()).status).toBe('SCHEDULED');
    const jobState = (jobId: string) =>
      stack.backends.db.withTenant({ tenantId: acme, accountId: null }, async (tx) =>
        (await tx.query(`SELECT state FROM pgboss.job WHERE name = 'cms-publish-page' AND id = $1`, [jobId])).rows[0]?.state);
    const jobId = await stack.backends.db.withTenant({ tenantId: acme, accountId: null }, async (tx) =>
      (await tx.query('SELECT publish_job_id FROM cms.pages WHERE id = $1', [id])).rows[0].publish_job_id as string);
    expect(await jobState(jobId)).toBe('created');
    const cancelled = await editor(`mutation($id: ID!) { cancelContentPageSchedule(id: $id) { contentPage { status publishAt } errors { code } } }`, { id });
    expect(cancelled.data!.cancelContentPageSchedule).toEqual({ contentPage: { status: 'DRAFT', publishAt: null }, errors: [] });
    // Its publishing job went with the schedule, in the same transaction.
    expect(await jobState(jobId)).toBe('cancelled');
  });

  it('a schedule that falls due while the CMS is down fires after the restart', async () => {
    const SCHEDULE = `mutation($id: ID!, $at: DateTime!) { scheduleContentPage(id: $id, at: $at) { errors { code } } }`;
    const page = (await create({ slug: 'scheduled', title: 'Goes live by itself' })).id;
    // Due in 3 s: the CMS must be closed before then, which a stall of a busy host could delay.
    expect((await editor(SCHEDULE, { id: page, at: new Date(Date.now() + 3_000).toISOString() })).data!.scheduleContentPage.errors).toEqual([]);

    // The CMS goes down before the time comes (its scheduler stops with it) and stays down past it.
    await stack.servers.cms!.close();
    await sleep(3_400);
    expect(await pageStatus(page)).toBe('scheduled');

    await restartCms();
    const deadline = Date.now() + 20_000;
    while ((await pageStatus(page)) !== 'published' && Date.now() < deadline) await sleep(50);
    expect(await pageStatus(page)).toBe('published');
    const live = await anonymous(PUBLIC_PAGE, { site: 'acme-shop', path: '/scheduled' });
    expect(live.data!.publishedContentPage.title).toBe('Goes live by itself');
    const state = (await editor(REVISIONS, { id: page })).data!.contentPage;
    expect(state).toMatchObject({ status: 'PUBLISHED', publishAt: null });
  });

  it('a publishing job that runs twice at once (or again) publishes the page once', async () => {
    const page = (await create({ slug: 'raced', title: 'Raced' })).id;
    await stack.servers.cms!.close();
    const jobId = randomUUID();
    await stack.backends.db.withTenant({ tenantId: acme, accountId: null }, (tx) =>
      tx.query(
        `UPDATE cms.pages SET publish_at = now() - interval '1 second', scheduled_revision_id = latest_revision_id, publish_job_id = $2 WHERE id = $1`,
        [page, jobId],
      ),
    );
    const deps = stack.backends.deps('cms');
    const job = { id: jobId, tenantId: acme, data: { pageId: page }, tx: ((fn, options) => stack.backends.db.withTenant({ tenantId: acme, accountId: null }, fn, options)) as TxRunner };
    // Another job of the page (one cancelled by a reschedule) publishes nothing.
    expect(await publishScheduledPage(deps, { ...job, id: randomUUID() })).toBe(false);
    expect(await pageStatus(page)).toBe('scheduled');
    const results = await Promise.all([publishScheduledPage(deps, job), publishScheduledPage(deps, job), publishScheduledPage(deps, job)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await pageStatus(page)).toBe('published');
    expect(await publishScheduledPage(deps, job)).toBe(false);
    await restartCms();
  });
});

describe('block validation', () => {
  it('refuses bad blocks with a payload error per problem, and writes nothing', async () => {
    const body = [
      { paragraph: { html: '<p>Hi <script>alert(1)</script></p>' } },
      { heading: { text: 'Too deep', level: 9 } },
      { heading: { text: 'Two kinds' }, quote: { text: 'at once' } },
      { product: { productId: 'not-a-saleor-id' } },
      { image: { assetId: '00000000-0000-4000-8000-000000000000' } },
      { embed: { url: 'http://insecure.example/video' } },
      { callToAction: { text: 'Click', url: 'javascript:alert(1)' } },
      { paragraph: { html: '<p><a href="javascript:alert(1)">x</a></p>' } },
      { paragraph: { html: '<p onclick="x()">x</p>' } },
    ];
    const result = await editor(CREATE, { input: { slug: 'bad-blocks', title: 'Bad', body } });
    expect(result.data!.createContentPage.contentPage).toBeNull();
    const fields = result.data!.createContentPage.errors.map((e: any) => `${e.field}:${e.code}`);
    expect(fields).toEqual([
      'body.0.paragraph.html:INVALID_BLOCK',
      'body.1.heading.level:INVALID_BLOCK',
      'body.2:INVALID_BLOCK',
      'body.3.product.productId:INVALID_BLOCK',
      'body.5.embed.url:INVALID_BLOCK',
      'body.6.callToAction.url:INVALID_BLOCK',
      'body.7.paragraph.html:INVALID_BLOCK',
      'body.8.paragraph.html:INVALID_BLOCK',
    ]);
    // The image block is structurally fine; its asset is checked once the rest is valid.
    const missing = await editor(CREATE, { input: { slug: 'bad-blocks', title: 'Bad', body: [body[4]] } });
    expect(missing.data!.createContentPage.errors).toEqual([expect.objectContaining({ field: 'body.0.image.assetId', code: 'NOT_FOUND' })]);
    expect((await editor('{ contentPages(filter: { search: "bad" }) { totalCount } }')).data!.contentPages.totalCount).toBe(0);
  });

  it('stores every block type and reads it back typed; products default to the site channel', async () => {
    const snippet = (await editor('{ snippet(key: "footer") { id } }')).data!.snippet.id;
    const product = Buffer.from('Product:7').toString('base64');
    const body = [
      { heading: { text: 'Heading', level: 3 } },
      { paragraph: { id: 'intro', html: '<p>Rich <strong>text</strong> &amp; <a href="https://example.com/?a=1&amp;b=2" title="t">link</a><br>line</p>' } },
      { product: { productId: product, caption: 'Buy it' } },
      { product: { productId: product, channel: 'globex-channel' } },
      { callToAction: { text: 'Go', url: '/shop', style: 'SECONDARY' } },
      { quote: { text: 'Quote', attribution: 'Someone' } },
      { embed: { url: 'https://video.example/1', title: 'Video' } },
      { snippet: { snippetId: snippet } },
    ];
    const created = await editor(
      `mutation($input: ContentPageCreateInput!) { createContentPage(input: $input) { errors { field message } contentPage { body {
        __typename id
        ... on HeadingBlock { text level } ... on ParagraphBlock { html text } ... on ProductBlock { product { id channel } caption }
        ... on CallToActionBlock { text url style } ... on QuoteBlock { text attribution } ... on EmbedBlock { url title }
        ... on SnippetBlock { snippet { key } } } featuredProducts { id channel } } } }`,
      { input: { slug: 'all-blocks', title: 'All blocks', body, featuredProducts: [{ productId: product }] } },
    );
    expect(created.data!.createContentPage.errors).toEqual([]);
    const page = created.data!.createContentPage.contentPage;
    expect(page.body.map((b: any) => b.__typename)).toEqual([
      'HeadingBlock', 'ParagraphBlock', 'ProductBlock', 'ProductBlock', 'CallToActionBlock', 'QuoteBlock', 'EmbedBlock', 'SnippetBlock',
    ]);
    expect(page.body[1]).toMatchObject({ id: 'intro', text: 'Rich text & link line' });
    expect(page.body[2].product).toEqual({ id: product, channel: 'acme-channel' });
    expect(page.body[3].product).toEqual({ id: product, channel: 'globex-channel' });
    expect(page.body[4]).toMatchObject({ url: '/shop', style: 'SECONDARY' });
    expect(page.body[7].snippet).toEqual({ key: 'footer' });
    expect(page.featuredProducts).toEqual([{ id: product, channel: 'acme-channel' }]);
  });

  it('filters pages by status, parent and locale, and pages through them (at most 100 at a time)', async () => {
    const list = async (filter: Record<string, unknown>, first = 100) =>
      (await editor('query($f: ContentPageFilterInput, $n: Int) { contentPages(filter: $f, first: $n) { totalCount pageInfo { hasNextPage endCursor } edges { node { urlPath status locale } } } }', { f: filter, n: first })).data!.contentPages;
    const drafts = await list({ status: 'DRAFT' });
    expect(drafts.edges.map((e: any) => e.node.status)).toEqual(drafts.edges.map(() => 'DRAFT'));
    expect(drafts.edges.map((e: any) => e.node.urlPath)).toEqual(expect.arrayContaining(['/home/about/team', '/home/summer-sale']));
    const home = (await editor('{ contentPage(path: "/home") { id } }')).data!.contentPage.id;
    expect((await list({ parentId: home })).edges.map((e: any) => e.node.urlPath)).toEqual(['/home/about', '/home/summer-sale']);
    const deCh = await create({ slug: 'ueber-uns', title: 'Über uns', locale: 'de-CH' });
    expect((await list({ locale: 'de-ch' })).edges).toEqual([{ node: { urlPath: deCh.urlPath, status: 'DRAFT', locale: 'de-CH' } }]);
    const firstTwo = await list({}, 2);
    expect(firstTwo.pageInfo.hasNextPage).toBe(true);
    expect(firstTwo.totalCount).toBeGreaterThan(2);
    const tooMany = await editor('{ contentPages(first: 101) { totalCount } }');
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const site = await viewer('{ contentSite { siteKey tenantSlug saleorChannel } }');
    expect(site.data!.contentSite).toEqual({ siteKey: 'acme-shop', tenantSlug: 'acme', saleorChannel: 'acme-channel' });
  });

  it('finds pages by words of their titles and blocks (prefixes too)', async () => {
    const search = async (q: string, who = editor) =>
      ((await who('query($q: String) { contentPages(filter: { search: $q }) { edges { node { urlPath } } } }', { q })).data!.contentPages.edges as any[]).map((e) => e.node.urlPath);
    expect(await search('ring-spun cotton')).toEqual(['/home']);
    expect(await search('summ sal')).toEqual(['/home/summer-sale']);
    expect(await search('Ruskin')).toEqual(['/home/about']);
    // Public search covers published content only: the summer sale is a draft.
    const PUBLIC = 'query($q: String) { publishedContentPages(site: "acme", filter: { search: $q }) { edges { node { urlPath } } } }';
    expect((await anonymous(PUBLIC, { q: 'secret' })).data!.publishedContentPages.edges).toEqual([]);
    expect((await anonymous(PUBLIC, { q: 'garage' })).data!.publishedContentPages.edges).toEqual([{ node: { urlPath: '/home/about' } }]);
  });
});

describe('public reads, roles and tenants', () => {
  it('anonymous readers see the published pages of the site they name, and nothing else', async () => {
    const list = async (site: string) =>
      ((await anonymous('query($s: String!) { publishedContentPages(site: $s, first: 100) { edges { node { urlPath title } } } }', { s: site })).data!.publishedContentPages.edges as any[]).map((e) => e.node.urlPath);
    const acmePaths = await list('acme');
    expect(acmePaths).toEqual(expect.arrayContaining(['/home', '/home/about', '/blog', '/blog/hello-world']));
    expect(acmePaths).not.toContain('/home/about/team');
    expect(acmePaths).not.toContain('/home/summer-sale');
    expect(await list('acme-shop')).toEqual(acmePaths);
    expect(await list('globex')).toEqual(['/home']);

    const hello = await anonymous(`{ publishedContentPage(site: "acme", path: "/blog/hello-world/") { title hasUnpublishedChanges } }`);
    expect(hello.data!.publishedContentPage).toBeNull();
    expect(hello.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const live = await anonymous(`{ publishedContentPage(site: "acme", path: "/blog/hello-world/") { title children { totalCount } parent { urlPath } } }`);
    expect(live.data!.publishedContentPage).toEqual({ title: 'Hello, world', children: { totalCount: 0 }, parent: { urlPath: '/blog' } });
    // Only published children; snippets and blocks come along.
    const home = await anonymous(`{ publishedContentPage(site: "acme", path: "/home") { children { edges { node { urlPath } } }
      body { ... on SnippetBlock { snippet { key body { ... on ParagraphBlock { text } } } } } } }`);
    expect(home.data!.publishedContentPage.children.edges).toEqual([{ node: { urlPath: '/home/about' } }]);
    expect(home.data!.publishedContentPage.body.at(-1).snippet.key).toBe('footer');

    for (const path of ['/home/about/team', '/careers']) {
      const draft = await anonymous(PUBLIC_PAGE, { site: 'acme', path });
      expect(draft.data!.publishedContentPage).toBeNull();
    }
    const unknown = await anonymous(PUBLIC_PAGE, { site: 'no-such-site', path: '/home' });
    expect(unknown.errors?.[0]).toMatchObject({ message: 'Site not found.', extensions: { code: 'NOT_FOUND' } });
    expect((await anonymous('{ contentPages { totalCount } }')).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await anonymous('{ mediaAssets { totalCount } }')).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('a publish shows at once to anonymous readers (their cached answer is invalidated)', async () => {
    const id = (await create({ slug: 'fresh', title: 'Fresh' })).id;
    expect((await anonymous(PUBLIC_PAGE, { site: 'acme', path: '/fresh' })).data!.publishedContentPage).toBeNull();
    await editor(PUBLISH, { id });
    expect((await anonymous(PUBLIC_PAGE, { site: 'acme', path: '/fresh' })).data!.publishedContentPage.title).toBe('Fresh');
  });

  it('viewers read drafts but cannot write; editors write and publish; admins delete', async () => {
    const drafts = await viewer('{ contentPage(path: "/home/about/team") { title status } }');
    expect(drafts.data!.contentPage).toEqual({ title: 'Our team', status: 'DRAFT' });
    const write = await viewer(CREATE, { input: { slug: 'viewer-page', title: 'No' } });
    expect(write.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const id = (await editor('{ contentPage(path: "/home/about/team") { id } }')).data!.contentPage.id;
    expect((await viewer(PUBLISH, { id })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await viewer('mutation { createSnippet(input: { key: "v", title: "V", body: [] }) { errors { code } } }')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const snippet = await editor('mutation { createSnippet(input: { key: "promo.summer", title: "Summer", body: [{ heading: { text: "Sale" } }] }) { snippet { id key } errors { code } } }');
    expect(snippet.data!.createSnippet.errors).toEqual([]);
    const again = await editor('mutation { createSnippet(input: { key: "promo.summer", title: "Again", body: [] }) { errors { field code } } }');
    expect(again.data!.createSnippet.errors).toEqual([{ field: 'key', code: 'UNIQUE' }]);
    const nested = await editor(`mutation($id: ID!) { createSnippet(input: { key: "nested", title: "N", body: [{ snippet: { snippetId: $id } }] }) { errors { field code } } }`, { id: snippet.data!.createSnippet.snippet.id });
    expect(nested.data!.createSnippet.errors).toEqual([{ field: 'body.0.snippet', code: 'INVALID_BLOCK' }]);
    const DELETE = 'mutation($id: ID!) { deleteSnippet(id: $id) { deletedId errors { code } } }';
    expect((await editor(DELETE, { id: snippet.data!.createSnippet.snippet.id })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await owner(DELETE, { id: snippet.data!.createSnippet.snippet.id })).data!.deleteSnippet.errors).toEqual([]);
  });

  it("a globex token never sees acme's drafts, revisions or snippets, by list, id, path or entity", async () => {
    const acmeDraft = (await editor('{ contentPage(path: "/home/summer-sale") { id latestRevision { id } } }')).data!.contentPage;
    const acmeSnippet = (await editor('{ snippet(key: "footer") { id } }')).data!.snippet.id;
    const list = await globexOwner('{ contentPages(first: 100) { edges { node { urlPath title } } } snippets { totalCount } }');
    expect(list.data!.contentPages.edges.map((e: any) => e.node.urlPath).sort()).toEqual(['/careers', '/home']);
    expect(list.data!.contentPages.edges.map((e: any) => e.node.title)).not.toContain('Welcome to Acme');
    expect(list.data!.snippets.totalCount).toBe(2);
    for (const query of [
      `{ contentPage(id: "${acmeDraft.id}") { title } }`,
      '{ contentPage(path: "/home/summer-sale") { title } }',
      `{ snippet(id: "${acmeSnippet}") { title } }`,
    ]) {
      const result = await globexOwner(query);
      expect(result.data?.contentPage ?? result.data?.snippet ?? null, query).toBeNull();
    }
    const entities = await globexOwner(
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on ContentPage { title } ... on Snippet { key } } }`,
      { r: [{ __typename: 'ContentPage', id: acmeDraft.id }, { __typename: 'Snippet', id: acmeSnippet }] },
    );
    expect(entities.data!._entities).toEqual([null, null]);
    // Writes to acme ids find nothing.
    const publish = await globexOwner(PUBLISH, { id: acmeDraft.id });
    expect(publish.data!.publishContentPage.errors).toEqual([{ field: 'id', code: 'NOT_FOUND' }]);
    const moveUnder = await globexOwner(CREATE, { input: { parentId: acmeDraft.id, slug: 'sneaky', title: 'x' } });
    expect(moveUnder.data!.createContentPage.errors).toEqual([expect.objectContaining({ field: 'parentId', code: 'NOT_FOUND' })]);
    const snippetBlock = await globexOwner(CREATE, { input: { slug: 'sneaky', title: 'x', body: [{ snippet: { snippetId: acmeSnippet } }] } });
    expect(snippetBlock.data!.createContentPage.errors).toEqual([expect.objectContaining({ field: 'body.0.snippet.snippetId', code: 'NOT_FOUND' })]);
    // An acme snippet's id is NOT_FOUND to globex, whether or not the key clashes with one of globex's own.
    const UPDATE_SNIPPET = 'mutation($id: ID!, $key: String!) { updateSnippet(id: $id, input: { key: $key, title: "Mine", body: [] }) { snippet { id } errors { field code } } }';
    for (const key of ['footer', 'not-taken-anywhere']) {
      expect((await globexOwner(UPDATE_SNIPPET, { id: acmeSnippet, key })).data!.updateSnippet, key).toEqual({ snippet: null, errors: [{ field: 'id', code: 'NOT_FOUND' }] });
    }
    expect((await owner(UPDATE_SNIPPET, { id: '00000000-0000-4000-8000-00000000dead', key: 'footer' })).data!.updateSnippet.errors).toEqual([{ field: 'id', code: 'NOT_FOUND' }]);
    expect((await globexOwner('mutation($id: ID!) { deleteSnippet(id: $id) { errors { field code } } }', { id: acmeSnippet })).data!.deleteSnippet.errors).toEqual([{ field: 'id', code: 'NOT_FOUND' }]);
    expect((await editor(`{ snippet(id: "${acmeSnippet}") { key title } }`)).data!.snippet).toEqual({ key: 'footer', title: 'Footer' });

    // Acme's public pages are public to globex too, but not their editorial state.
    const publicPage = await globexOwner('{ publishedContentPage(site: "acme", path: "/home") { title } }');
    expect(publicPage.data!.publishedContentPage.title).toBe('Welcome to Acme');
    const state = await globexOwner('{ publishedContentPage(site: "acme", path: "/home") { title revisions { totalCount } } }');
    expect(state.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // And the database agrees: in globex's transaction no acme row exists.
    const rows = await stack.backends.db.withTenant({ tenantId: globex, accountId: null }, (tx) =>
      tx.query('SELECT DISTINCT tenant_id FROM cms.pages UNION SELECT DISTINCT tenant_id FROM cms.page_revisions'),
    );
    expect(rows.rows).toEqual([{ tenant_id: globex }]);
  });
});

describe('batching', () => {
  it('a list of pages with their children, parents, revisions, snippets and images costs a fixed number of statements, not one per page', async () => {
    const QUERY = `query($n: Int) { contentPages(first: $n) { edges { node { title parent { title } children(first: 3) { totalCount edges { node { title } } }
      revisions(first: 2) { totalCount edges { node { number isLive } } } latestRevision { number }
      body { ... on SnippetBlock { snippet { key } } ... on ImageBlock { image { url } } } } } } }`;
    const count = async (n: number) => {
      let statements = 0;
      const stop = stack.backends.db.onStatement(() => statements++);
      const result = await editor(QUERY, { n });
      stop();
      expect(result.errors).toBeUndefined();
      expect(result.data!.contentPages.edges.length).toBe(n);
      return statements;
    };
    // One per loader and level (DataLoader batches may split by timing, so not an exact number);
    // one per page and field would be 60 and more for 10 pages.
    expect(await count(2)).toBeLessThanOrEqual(10);
    expect(await count(10)).toBeLessThanOrEqual(10);
  });
});
