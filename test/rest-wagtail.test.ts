import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildClientSchema, getIntrospectionQuery, parse, validate, type IntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestError } from '../gateway/rest/errors.ts';
import { offsetWindow, walkTo } from '../gateway/rest/pagination.ts';
import { ROUTES } from '../gateway/rest/routes.ts';
import { SITE_QUERY } from '../gateway/rest/routes/wagtail.ts';
import { targetUrl } from '../gateway/rest/stream.ts';
import { parseFields, selectFields } from '../gateway/rest/wagtail.ts';
import type { Gateway } from '../gateway/server.ts';
import { DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import { fakeList, PDF, png, uploadForm } from './support/fixtures.ts';
import { bearer, gql } from './support/graphql.ts';
import { expectDocumented, openApiOperation, rest } from './support/rest.ts';
import { startSupergraph, type RunningSupergraph } from './support/stack.ts';

// The Wagtail paths of the REST shim (/api/brain/wagtail/*) over the whole supergraph: Wagtail
// API v2 shapes, fields, limit/offset, live pages vs members' drafts, tenant isolation, and the
// media upload and download streamed through the gateway to the CMS subgraph.

const MAX = 2 * 1024 * 1024;
const acme = DEMO_TENANTS[0].id;

let stack: RunningSupergraph;
let base: string;
const tokens: Record<string, string> = {};
const EDITOR = 'editor';
const VIEWER = 'viewer';
const OWNER = 'owner';
const GLOBEX = 'globex';

beforeAll(async () => {
  stack = await startSupergraph({ MEDIA_MAX_BYTES: String(MAX) });
  base = stack.base;
  tokens[EDITOR] = await stack.login('editor@acme.example');
  tokens[VIEWER] = await stack.login('viewer@acme.example');
  tokens[OWNER] = await stack.login('owner@acme.example');
  tokens[GLOBEX] = await stack.login('owner@globex.example');
  openapi = (await get('/openapi.json')).body;
});
afterAll(() => stack?.close());

/** A GET of a shim path (or an absolute URL), with the token of `as`. */
const get = (path: string, options: { as?: string; headers?: Record<string, string> } = {}) =>
  rest(path.startsWith('http') ? path : `${base}/api/brain${path}`, { token: options.as && tokens[options.as], headers: options.headers });
const wagtail = (path: string, as?: string) => get(`/wagtail${path}`, { as });

/** The shim's OpenAPI document, which real answers are checked against. */
let openapi: any;
const operationOf = (operationId: string) => openApiOperation(openapi, operationId);

// --- Files --------------------------------------------------------------------------------------------


/** A media upload through the shim (or to `url`), as `as` (the editor by default; null: anonymous). */
const upload = (file: Buffer, options: Parameters<typeof uploadForm>[1] & { as?: string | null; url?: string; headers?: Record<string, string> } = {}) => {
  const as = options.as === undefined ? EDITOR : options.as;
  return rest(options.url ?? `${base}/api/brain/wagtail/media`, { method: 'POST', body: uploadForm(file, options), token: as ? tokens[as] : undefined, headers: options.headers });
};

describe('tokens', () => {
  it('every wagtail path that needs a token answers 401 {"message"} without one; pages answer anonymous callers', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const routes = ROUTES.filter((r) => r.tag === 'wagtail' && r.auth === 'required');
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) {
      const path = route.path.replace('{id}', id);
      const response = await fetch(`${base}/api/brain${path}`, { method: route.method });
      expect(response.status, `${route.method} ${route.path}`).toBe(401);
      expect(await response.json()).toEqual({ message: 'Authentication credentials were not provided.' });
    }
    expect((await wagtail('/pages?site=acme')).status).toBe(200);
    expect((await wagtail('/pages?site=acme', VIEWER)).status).toBe(200);
  });

  it('rate limits apply to the wagtail paths, the upload stream included, answered as {"message"}', async () => {
    const { gateway: limited, base: url } = await stack.startGateway({ config: { RATE_LIMIT_PER_MINUTE_IP: 2 } });
    try {
      expect((await fetch(`${url}/api/brain/wagtail/pages?site=acme`)).status).toBe(200);
      // (A viewer: the CMS answers 403, so nothing is stored; the hooks ran all the same.)
      expect((await upload(PDF, { as: VIEWER, url: `${url}/api/brain/wagtail/media` })).status).toBe(403);
      const throttled = await upload(PDF, { as: VIEWER, url: `${url}/api/brain/wagtail/media` });
      expect(throttled.status).toBe(429);
      expect(throttled.body.message).toMatch(/^Request was throttled\. Expected available in \d+ seconds?\.$/);
      expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});

// --- Units: the Wagtail conventions without a graph -------------------------------------------------

describe('Wagtail conventions (units)', () => {
  it("parses ?fields= like Wagtail's parse_fields_parameter", () => {
    expect(parseFields('title,-slug,body(a,b)')).toEqual([
      ['title', false, null],
      ['slug', true, null],
      ['body', false, [['a', false, null], ['b', false, null]]],
    ]);
    expect(parseFields('*,-body')).toEqual([['*', false, null], ['body', true, null]]);
    expect(parseFields('_,seo_title')).toEqual([['_', false, null], ['seo_title', false, null]]);
    for (const [bad, message] of [
      ['a,,b', "unexpected char ',' at position 2"],
      ['a,', "unexpected char ',' at position 2"],
      ['a b', 'unexpected whitespace at position 1'],
      ['title,*', "'*' must be in the first position"],
      ['*,title', "additional fields with '*' doesn't make sense"],
      ['_,-title', "negated fields with '_' doesn't make sense"],
      ['body(a', 'unexpected end of input (did you miss out a close bracket?)'],
      ['a)', "unexpected char ')' at position 1"],
    ] as const) {
      expect(() => parseFields(bad), bad).toThrow(message);
    }
  });

  it('selects fields: defaults, additions, removals, * and _, unknown names and detail-only fields', () => {
    const spec = { body: ['id', 'title', 'body'], meta: ['type', 'detail_url', 'parent'], listing: ['id', 'type', 'detail_url', 'title'], detailOnly: ['parent'] };
    const pick = (view: 'listing' | 'detail', raw?: string) => [...selectFields(spec, view, raw)].sort();
    expect(pick('listing')).toEqual(['detail_url', 'id', 'title', 'type']);
    expect(pick('listing', 'body,-title')).toEqual(['body', 'detail_url', 'id', 'type']);
    expect(pick('listing', '*')).toEqual(['body', 'detail_url', 'id', 'title', 'type']);
    expect(pick('listing', '_,title')).toEqual(['title']);
    expect(pick('detail')).toEqual(['body', 'detail_url', 'id', 'parent', 'title', 'type']);
    const error = (raw: string, view: 'listing' | 'detail' = 'listing') => {
      try {
        selectFields(spec, view, raw);
      } catch (e) {
        return e instanceof RestError ? [e.status, e.body] : e;
      }
      return null;
    };
    expect(error('nope,zzz,title')).toEqual([400, { message: 'unknown fields: nope, zzz' }]);
    expect(error('parent')).toEqual([400, { message: 'unknown fields: parent' }]);
    expect(error('body(a)')).toEqual([400, { message: "'body' does not support nested fields" }]);
    expect(error('a,,b')).toEqual([400, { message: "fields error: unexpected char ',' at position 2" }]);
  });


  it('limit/offset reach the offset by walking with `after` (100 rows a step), never forging a cursor', async () => {
    const list = fakeList(1000);
    expect(await offsetWindow({}, list.step)).toEqual({ limit: 20, offset: 0, after: null, past: false });
    expect(list.calls).toEqual([]);
    expect(await offsetWindow({ offset: '250', limit: '5' }, list.step)).toEqual({ limit: 5, offset: 250, after: list.cursor(249), past: false });
    expect(list.calls.map((c) => c.first)).toEqual([100, 100, 50]);
    // Past the end: one step (its totalCount settles it), and no error (Wagtail answers no items).
    const short = fakeList(30);
    expect(await offsetWindow({ offset: '5000' }, short.step)).toMatchObject({ offset: 5000, past: true });
    expect(short.calls).toHaveLength(1);
    expect(await walkTo(30, short.step)).toMatchObject({ past: true, totalCount: 30 });
  });

  it("limit/offset errors are Wagtail's", async () => {
    const list = fakeList(10);
    const error = (query: Record<string, string>) => offsetWindow(query, list.step).then(() => null, (e: RestError) => e.body);
    expect(await error({ limit: '21' })).toEqual({ detail: 'limit cannot be higher than 20' });
    expect(await error({ limit: 'abc' })).toEqual({ detail: 'limit must be a positive integer' });
    expect(await error({ limit: '-1' })).toEqual({ detail: 'limit must be a positive integer' });
    expect(await error({ offset: '-1' })).toEqual({ detail: 'offset must be a positive integer' });
    expect(await error({ offset: '1.5' })).toEqual({ detail: 'offset must be a positive integer' });
    expect(await offsetWindow({ limit: '0' }, list.step)).toMatchObject({ limit: 0 });
  });

  it("a stream target is the subgraph's URL with /graphql replaced by the path", () => {
    expect(targetUrl('http://cms:8002/graphql', '/media')).toBe('http://cms:8002/media');
    expect(targetUrl('https://cms.internal/cms/graphql/', '/media/a/b/c.png')).toBe('https://cms.internal/cms/media/a/b/c.png');
  });
});

// --- Pages ---------------------------------------------------------------------------------------------

describe('pages', () => {
  const ACME_LIVE = ['/blog/', '/blog/hello-world/', '/home/', '/home/about/'];

  it('anonymous callers name the site and get its live pages in the Wagtail listing shape', async () => {
    const { status, body } = await wagtail('/pages?site=acme');
    expect(status).toBe(200);
    expect(Object.keys(body)).toEqual(['meta', 'items']);
    expect(body.meta).toEqual({ total_count: 4 });
    expect(body.items.map((p: any) => p.meta.html_url)).toEqual(ACME_LIVE);
    const home = body.items.find((p: any) => p.meta.slug === 'home');
    expect(Object.keys(home)).toEqual(['id', 'meta', 'title']);
    expect(Object.keys(home.meta)).toEqual(['type', 'detail_url', 'html_url', 'slug', 'first_published_at']);
    expect(home).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      meta: {
        type: 'cms.ContentPage',
        detail_url: `${base}/api/brain/wagtail/pages/${home.id}/?site=acme`,
        html_url: '/home/',
        slug: 'home',
        first_published_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
      title: 'Welcome to Acme',
    });
    // The published revision, not the newer draft.
    expect(body.items.find((p: any) => p.meta.slug === 'hello-world').title).toBe('Hello, world');
    expectDocumented(openapi, 'wagtailPagesList', body);
    // The site key works like the tenant slug.
    expect((await wagtail('/pages?site=acme-shop')).body.meta.total_count).toBe(4);
  });

  it('without a site or a token: 400; an unknown site: 400; drafts without a token: 401', async () => {
    expect(await wagtail('/pages')).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^site is required/) } });
    expect(await wagtail('/pages?site=nope')).toMatchObject({ status: 400, body: { message: "site doesn't exist" } });
    const drafts = await wagtail('/pages?site=acme&status=all');
    expect(drafts).toMatchObject({ status: 401, body: { message: 'Authentication credentials were not provided.' } });
    expect(drafts.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('the detail view has every field and the body as StreamField blocks; it follows from detail_url', async () => {
    const list = await wagtail('/pages?site=acme&slug=home');
    expect(list.body.meta.total_count).toBe(1);
    const { status, body } = await get(list.body.items[0].meta.detail_url);
    expect(status).toBe(200);
    expect(Object.keys(body)).toEqual(['id', 'meta', 'title', 'body', 'featured_products']);
    expect(Object.keys(body.meta)).toEqual(['type', 'detail_url', 'html_url', 'slug', 'show_in_menus', 'seo_title', 'search_description', 'first_published_at', 'alias_of', 'parent']);
    expect(body.meta).toMatchObject({ show_in_menus: true, seo_title: '', search_description: 'Acme: tees, hoodies and mugs for agencies.', alias_of: null, parent: null });
    expect(body.body.map((b: any) => b.type)).toEqual(['heading', 'paragraph', 'product', 'call_to_action', 'snippet']);
    expect(body.body[0]).toEqual({ type: 'heading', value: { text: 'Made for agencies', level: 2 }, id: expect.any(String) });
    expect(body.body[1].value).toMatch(/^<p>Soft <em>ring-spun<\/em>/);
    expect(body.body[2].value).toEqual({ product: { id: Buffer.from('Product:1').toString('base64'), channel: 'acme-channel' }, caption: 'Our best seller' });
    expect(body.body[3].value).toEqual({ text: 'Shop now', url: '/shop', style: 'primary' });
    const snippet = body.body[4].value;
    expect(snippet).toMatchObject({ meta: { type: 'cms.Snippet', detail_url: `${base}/api/brain/wagtail/content/${snippet.id}/` }, key: 'footer', title: 'Footer' });
    expect(snippet.body[0].type).toBe('paragraph');
    expect(body.featured_products).toHaveLength(3);
    expectDocumented(openapi, 'wagtailPagesRetrieve', body);

    // A child has its parent (live), as Wagtail nests it.
    const about = (await wagtail('/pages?site=acme&slug=about')).body.items[0];
    const detail = await get(about.meta.detail_url);
    expect(detail.body.meta.parent).toEqual({
      id: body.id,
      meta: { type: 'cms.ContentPage', detail_url: `${base}/api/brain/wagtail/pages/${body.id}/?site=acme`, html_url: '/home/' },
      title: 'Welcome to Acme',
    });
    // Wagtail's fields syntax works on detail views too.
    expect((await get(`${about.meta.detail_url}&fields=_,title`)).body).toEqual({ title: 'About Acme' });
    expect((await get(`${about.meta.detail_url}&fields=locale`)).body.meta.locale).toBe('en');
  });

  it('drafts, unknown and malformed ids are 404 with Wagtail\'s message; another site\'s page too', async () => {
    const all = await wagtail('/pages?status=all&slug=team', EDITOR);
    const team = all.body.items[0];
    expect(team.meta.status).toEqual({ status: 'draft', live: false, has_unpublished_changes: true });
    for (const path of [`/pages/${team.id}?site=acme`, '/pages/00000000-0000-4000-8000-000000000000?site=acme', '/pages/42?site=acme']) {
      expect(await wagtail(path), path).toMatchObject({ status: 404, body: { message: 'No Page matches the given query.' } });
    }
    const home = (await wagtail('/pages?site=acme&slug=home')).body.items[0];
    expect((await wagtail(`/pages/${home.id}?site=globex`)).status).toBe(404);
  });

  it("a member reads its own site's live pages without ?site=, and its drafts with ?status=", async () => {
    const live = await wagtail('/pages', VIEWER);
    expect(live.body.items.map((p: any) => p.meta.html_url)).toEqual(ACME_LIVE);
    expect(live.body.items[0].meta.status).toBeUndefined();

    const all = await wagtail('/pages?status=all', VIEWER);
    expect(all.body.meta.total_count).toBe(6);
    const bySlug = Object.fromEntries(all.body.items.map((p: any) => [p.meta.slug, p]));
    expect(bySlug['hello-world'].title).toBe('Hello, world (draft edit)');
    expect(bySlug['hello-world'].meta.status).toEqual({ status: 'live + draft', live: true, has_unpublished_changes: true });
    expect(bySlug.home.meta.status).toEqual({ status: 'live', live: true, has_unpublished_changes: false });
    expect(bySlug['summer-sale'].meta.detail_url).toBe(`${base}/api/brain/wagtail/pages/${bySlug['summer-sale'].id}/?status=all`);
    expectDocumented(openapi, 'wagtailPagesList', all.body);

    const drafts = await wagtail('/pages?status=draft', VIEWER);
    expect(drafts.body.items.map((p: any) => p.meta.slug).sort()).toEqual(['summer-sale', 'team']);

    // The draft's detail (its latest revision) through its link; not without ?status=.
    const secret = await get(bySlug['summer-sale'].meta.detail_url, { as: VIEWER });
    expect(secret.status).toBe(200);
    expect(JSON.stringify(secret.body.body)).toContain('Secret: everything 20% off');
    expect(secret.body.meta.status.status).toBe('draft');
    expect((await wagtail(`/pages/${bySlug['summer-sale'].id}`, VIEWER)).status).toBe(404);

    // Their own site named explicitly is the same; status=bogus is a 400.
    expect((await wagtail('/pages?site=acme-shop&status=draft', VIEWER)).body.meta.total_count).toBe(2);
    expect(await wagtail('/pages?status=bogus', VIEWER)).toMatchObject({ status: 400, body: { message: 'status must be one of: published, draft, all' } });
    // meta.status is available on request in the published view of one's own site.
    expect((await wagtail('/pages?fields=status&slug=home', VIEWER)).body.items[0].meta.status.status).toBe('live');
    expect(await wagtail('/pages?site=acme&fields=status')).toMatchObject({ status: 400, body: { message: 'unknown fields: status' } });
  });

  it("a globex token never sees acme's drafts", async () => {
    const own = await wagtail('/pages?status=all', GLOBEX);
    expect(own.body.items.map((p: any) => p.meta.html_url).sort()).toEqual(['/careers/', '/home/']);
    expect(JSON.stringify(own.body)).not.toMatch(/Acme|Summer|team/i);
    // Acme's site: its live pages only, like anyone; its drafts refused.
    const acmeLive = await wagtail('/pages?site=acme', GLOBEX);
    expect(acmeLive.body.items.map((p: any) => p.meta.html_url)).toEqual(ACME_LIVE);
    expect(await wagtail('/pages?site=acme&status=all', GLOBEX)).toMatchObject({ status: 403, body: { message: expect.any(String) } });
    const acmeDraft = (await wagtail('/pages?status=draft&slug=summer-sale', EDITOR)).body.items[0];
    for (const path of [`/pages/${acmeDraft.id}?status=all`, `/pages/${acmeDraft.id}`, `/pages/${acmeDraft.id}?site=acme`]) {
      const response = await wagtail(path, GLOBEX);
      expect(response.status, path).toBe(404);
      expect(JSON.stringify(response.body)).not.toMatch(/Secret/);
    }
    expect((await wagtail(`/pages?status=all&child_of=${acmeDraft.id}`, GLOBEX)).body.meta.total_count).toBe(0);
  });

  it('filters: child_of (an id or root), slug, locale, search, show_in_menus, type', async () => {
    const home = (await wagtail('/pages?site=acme&slug=home')).body.items[0];
    const children = await wagtail(`/pages?site=acme&child_of=${home.id}`);
    expect(children.body.items.map((p: any) => p.meta.slug)).toEqual(['about']); // summer-sale is a draft
    const draftChildren = await wagtail(`/pages?status=all&child_of=${home.id}`, EDITOR);
    expect(draftChildren.body.items.map((p: any) => p.meta.slug)).toEqual(['about', 'summer-sale']);
    expect((await wagtail('/pages?site=acme&child_of=root')).body.items.map((p: any) => p.meta.slug)).toEqual(['blog', 'home']);
    expect(await wagtail('/pages?site=acme&child_of=two')).toMatchObject({ status: 400, body: { message: "child_of must be a page id or 'root'" } });
    expect((await wagtail('/pages?site=acme&search=garage')).body.items.map((p: any) => p.meta.slug)).toEqual(['about']);
    expect((await wagtail('/pages?site=acme&locale=en')).body.meta.total_count).toBe(4);
    expect((await wagtail('/pages?site=acme&locale=de')).body.meta.total_count).toBe(0);
    expect((await wagtail('/pages?site=acme&show_in_menus=true')).body.meta.total_count).toBe(4);
    expect((await wagtail('/pages?site=acme&show_in_menus=false')).body).toEqual({ meta: { total_count: 0 }, items: [] });
    expect((await wagtail('/pages?site=acme&type=wagtailcore.Page')).body.meta.total_count).toBe(4);
    expect((await wagtail('/pages?site=acme&type=cms.contentpage')).body.meta.total_count).toBe(4);
    expect(await wagtail('/pages?site=acme&type=blog.BlogPage')).toMatchObject({ status: 400, body: { message: "type doesn't exist" } });
    expect(await wagtail('/pages?site=acme&type=wagtailimages.Image')).toMatchObject({ status: 400, body: { message: "type doesn't exist" } });
    expect(await wagtail('/pages?site=acme&title=Blog')).toMatchObject({ status: 400, body: { message: 'query parameter is not an operation or a recognised field: title' } });
    expect(await wagtail('/pages?site=acme&descendant_of=1')).toMatchObject({ status: 400, body: { message: 'not supported by this endpoint: descendant_of' } });
    // jQuery's cache buster and DRF's format are accepted.
    expect((await wagtail('/pages?site=acme&_=123&format=json')).status).toBe(200);
  });

  it('order: title, -first_published_at, html_url, id; unknown fields and random are 400', async () => {
    const titles = async (order: string) => (await wagtail(`/pages?site=acme&order=${order}`)).body.items.map((p: any) => p.title);
    expect(await titles('title')).toEqual(['About Acme', 'Blog', 'Hello, world', 'Welcome to Acme']);
    expect(await titles('-title')).toEqual(['Welcome to Acme', 'Hello, world', 'Blog', 'About Acme']);
    expect((await wagtail('/pages?site=acme&order=-html_url')).body.items.map((p: any) => p.meta.html_url)).toEqual([...ACME_LIVE].reverse());
    expect((await titles('id')).length).toBe(4);
    expect((await titles('-first_published_at')).length).toBe(4);
    expect(await wagtail('/pages?site=acme&order=nope')).toMatchObject({ status: 400, body: { message: "cannot order by 'nope' (unknown field)" } });
    expect((await wagtail('/pages?site=acme&order=random')).status).toBe(400);
  });

  it('limit and offset page through the list; past the end is empty; Wagtail\'s limit errors', async () => {
    const all = (await wagtail('/pages?status=all', EDITOR)).body.items.map((p: any) => p.id);
    const paged: string[] = [];
    for (let offset = 0; offset < 6; offset += 2) {
      const page = await wagtail(`/pages?status=all&limit=2&offset=${offset}`, EDITOR);
      expect(page.body.meta.total_count).toBe(6);
      expect(page.body.items).toHaveLength(2);
      paged.push(...page.body.items.map((p: any) => p.id));
    }
    expect(paged).toEqual(all);
    expect((await wagtail('/pages?status=all&limit=4&offset=5', EDITOR)).body.items.map((p: any) => p.id)).toEqual(all.slice(5));
    expect((await wagtail('/pages?site=acme&offset=4')).body).toEqual({ meta: { total_count: 4 }, items: [] });
    expect((await wagtail('/pages?site=acme&offset=400')).body).toEqual({ meta: { total_count: 4 }, items: [] });
    expect((await wagtail('/pages?site=acme&limit=0')).body).toEqual({ meta: { total_count: 4 }, items: [] });
    expect(await wagtail('/pages?site=acme&limit=21')).toMatchObject({ status: 400, body: { message: 'limit cannot be higher than 20' } });
    expect(await wagtail('/pages?site=acme&limit=x')).toMatchObject({ status: 400, body: { message: 'limit must be a positive integer' } });
    expect(await wagtail('/pages?site=acme&offset=-2')).toMatchObject({ status: 400, body: { message: 'offset must be a positive integer' } });
  });

  it('fields: add, remove, *, _, unknown (400), body only for the specific type in listings', async () => {
    const first = async (fields: string, extra = '') => (await wagtail(`/pages?site=acme&slug=home${extra}&fields=${encodeURIComponent(fields)}`)).body;
    expect(Object.keys((await first('seo_title,search_description')).items[0].meta)).toEqual([
      'type', 'detail_url', 'html_url', 'slug', 'seo_title', 'search_description', 'first_published_at',
    ]);
    const removed = (await first('-title,-detail_url')).items[0];
    expect(removed.title).toBeUndefined();
    expect(removed.meta.detail_url).toBeUndefined();
    const all = (await first('*')).items[0];
    expect(Object.keys(all.meta)).toEqual(['type', 'detail_url', 'html_url', 'slug', 'show_in_menus', 'seo_title', 'search_description', 'first_published_at', 'alias_of', 'locale']);
    expect(all.meta.parent).toBeUndefined(); // detail only
    expect((await first('_,title')).items[0]).toEqual({ title: 'Welcome to Acme' });
    expect(await first('nope,bogus')).toEqual({ message: 'unknown fields: bogus, nope' });
    expect(await first('body')).toEqual({ message: 'unknown fields: body' });
    expect(await first('parent')).toEqual({ message: 'unknown fields: parent' });
    expect(await first('a,,b')).toEqual({ message: "fields error: unexpected char ',' at position 2" });
    const specific = (await first('_,body,featured_products', '&type=cms.ContentPage')).items[0];
    expect(Object.keys(specific)).toEqual(['body', 'featured_products']);
    expect(specific.body).toHaveLength(5);
    const everything = (await first('*', '&type=cms.ContentPage')).items[0];
    expect(everything.body).toHaveLength(5);
    expectDocumented(openapi, 'wagtailPagesList', { meta: { total_count: 1 }, items: [everything] });
  });
});

// --- Snippets ------------------------------------------------------------------------------------------

describe('content (snippets)', () => {
  it('needs a token; lists and shows snippets in the same shapes', async () => {
    expect(await wagtail('/content')).toMatchObject({ status: 401, body: { message: 'Authentication credentials were not provided.' } });
    const { status, body } = await wagtail('/content', VIEWER);
    expect(status).toBe(200);
    expect(body.meta.total_count).toBe(2);
    expect(body.items.map((s: any) => s.key)).toEqual(['footer', 'promo-banner']);
    expect(body.items[0]).toEqual({ id: expect.any(String), meta: { type: 'cms.Snippet', detail_url: `${base}/api/brain/wagtail/content/${body.items[0].id}/` }, key: 'footer', title: 'Footer' });
    expectDocumented(openapi, 'wagtailContentList', body);
    const detail = await get(body.items[1].meta.detail_url, { as: VIEWER });
    expect(Object.keys(detail.body)).toEqual(['id', 'meta', 'key', 'title', 'body', 'created_at', 'updated_at']);
    expect(detail.body.body[0]).toMatchObject({ type: 'call_to_action', value: { text: 'Free shipping over $50', url: '/shop' } });
    expectDocumented(openapi, 'wagtailContentRetrieve', detail.body);
    expect((await wagtail('/content?key=promo-banner', VIEWER)).body.items.map((s: any) => s.key)).toEqual(['promo-banner']);
    expect((await wagtail('/content?search=foot', VIEWER)).body.items.map((s: any) => s.key)).toEqual(['footer']);
    expect((await wagtail('/content?fields=body', VIEWER)).body.items[0].body).toHaveLength(1);
    expect(await wagtail('/content/00000000-0000-4000-8000-000000000000', VIEWER)).toMatchObject({ status: 404, body: { message: 'No Snippet matches the given query.' } });
    expect(await wagtail('/content?order=key', VIEWER)).toMatchObject({ status: 400 });
  });

  it("a globex token never sees acme's snippets", async () => {
    const acmeSnippets = (await wagtail('/content', VIEWER)).body.items;
    const globex = await wagtail('/content', GLOBEX);
    expect(globex.body.items.map((s: any) => s.id)).not.toContain(acmeSnippets[0].id);
    expect((await wagtail(`/content/${acmeSnippets[0].id}`, GLOBEX)).status).toBe(404);
  });

  it('offsets past one walk step (over 100 snippets) start at the right row', async () => {
    const editor = bearer(tokens[EDITOR]!);
    const CREATE = 'mutation($input: SnippetInput!) { createSnippet(input: $input) { errors { code } } }';
    for (let batch = 0; batch < 11; batch++) {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => {
          const n = String(batch * 10 + i).padStart(3, '0');
          return gql(stack.graphql, CREATE, { input: { key: `bulk.${n}`, title: `Bulk ${n}`, body: [] } }, editor);
        }),
      );
    }
    const expected = await gql(stack.graphql, '{ snippets(first: 100, key: null) { totalCount edges { node { key } } } }', {}, editor);
    expect(expected.data!.snippets.totalCount).toBe(112);
    const page = await wagtail('/content?offset=105&limit=5&fields=_,key', EDITOR);
    // Keys sort as bulk.000 ... bulk.109, footer, promo-banner.
    expect(page.body).toEqual({ meta: { total_count: 112 }, items: ['bulk.105', 'bulk.106', 'bulk.107', 'bulk.108', 'bulk.109'].map((key) => ({ key })) });
  });
});

// --- Media --------------------------------------------------------------------------------------------

describe('media', () => {
  let image: any;
  let document: any;

  it('needs a token to list; uploads need an editor: no token 401, viewer 403', async () => {
    expect(await wagtail('/media')).toMatchObject({ status: 401, body: { message: 'Authentication credentials were not provided.' } });
    expect(await wagtail('/images')).toMatchObject({ status: 401 });
    const anonymous = await upload(png(8, 8), { as: null });
    expect(anonymous).toMatchObject({ status: 401, body: { message: 'Authentication credentials were not provided.' } });
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect(await upload(png(8, 8), { as: VIEWER })).toMatchObject({ status: 403, body: { message: 'Uploading media needs an editor.' } });
    expect((await wagtail('/media', VIEWER)).body).toEqual({ meta: { total_count: 0 }, items: [] });
  });

  it('uploads an image through the gateway, streamed past the JSON body limit, answered as a Wagtail image', async () => {
    const bytes = png(640, 480, 1_200_000); // more than BODY_LIMIT_BYTES (1 MiB)
    const { status, body } = await upload(bytes, { filename: 'Summer Banner.png', type: 'image/png', fields: { title: 'A summer banner', tags: 'summer,banner' } });
    expect(status).toBe(201);
    expect(body).toEqual({
      id: expect.any(String),
      meta: {
        type: 'wagtailimages.Image',
        detail_url: `${base}/api/brain/wagtail/media/${body.id}/`,
        tags: ['summer', 'banner'],
        download_url: `${base}/api/brain/wagtail/media/files/${acme}/${body.id}/Summer-Banner.png`,
      },
      title: 'A summer banner',
      width: 640,
      height: 480,
      filename: 'Summer-Banner.png',
      file_size: bytes.length,
      mime_type: 'image/png',
      alt_text: 'A summer banner',
      created_at: expect.any(String),
    });
    expectDocumented(openapi, 'wagtailMediaUpload', body, '201');
    image = body;

    // The bytes through the gateway, with the CMS's caching headers, and 304 on a matching ETag.
    const served = await fetch(body.meta.download_url);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(served.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const etag = `"${createHash('sha256').update(bytes).digest('hex')}"`;
    expect(served.headers.get('etag')).toBe(etag);
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    expect(served.headers.get('x-request-id')).toBeTruthy();
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
    const again = await fetch(body.meta.download_url, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    const head = await fetch(body.meta.download_url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(bytes.length));
    // Unknown files are a Wagtail-style 404.
    const missing = await get(body.meta.download_url.replace('Summer-Banner.png', 'other.png'));
    expect(missing).toMatchObject({ status: 404, body: { message: 'Not found.' } });
  });

  it('uploads a document; refuses a disguised type (415) and a file over the limit (413)', async () => {
    const pdf = await upload(PDF, { filename: 'price list.pdf', type: 'text/plain', fields: { tags: 'prices' } });
    expect(pdf.status).toBe(201);
    expect(pdf.body.meta.type).toBe('wagtaildocs.Document');
    expect(pdf.body.width).toBeUndefined();
    expect(pdf.body.title).toBe('price-list.pdf');
    document = pdf.body;
    const served = await fetch(pdf.body.meta.download_url);
    expect(served.headers.get('content-disposition')).toBe('attachment; filename="price-list.pdf"');

    const html = Buffer.from('<html><body><script>alert(1)</script></body></html>');
    const disguised = await upload(html, { filename: 'photo.png', type: 'image/png' });
    expect(disguised).toMatchObject({ status: 415, body: { message: expect.stringMatching(/not accepted/) } });
    const huge = await upload(png(64, 64, MAX + 10_000), { filename: 'huge.png', type: 'image/png' });
    expect(huge).toMatchObject({ status: 413, body: { message: expect.stringMatching(/larger than/) } });
    const notMultipart = await fetch(`${base}/api/brain/wagtail/media`, { method: 'POST', headers: { ...bearer(tokens[EDITOR]!), 'content-type': 'application/json' }, body: '{}' });
    expect(notMultipart.status).toBe(415);
    expect(await notMultipart.json()).toEqual({ message: 'Send multipart/form-data with one "file" part.' });
  });

  it('lists images and documents in Wagtail shapes, merged and split, with fields and filters', async () => {
    const media = await wagtail('/media', VIEWER);
    expect(media.body.meta.total_count).toBe(2);
    expect(media.body.items.map((m: any) => m.id)).toEqual([document.id, image.id]); // newest first
    expect(media.body.items[1]).toEqual({
      id: image.id,
      meta: { type: 'wagtailimages.Image', detail_url: image.meta.detail_url, tags: ['summer', 'banner'], download_url: image.meta.download_url },
      title: 'A summer banner',
      width: 640,
      height: 480,
    });
    expect(Object.keys(media.body.items[0])).toEqual(['id', 'meta', 'title']); // a document: no size
    expectDocumented(openapi, 'wagtailMediaList', media.body);

    const images = await wagtail('/images', VIEWER);
    expect(images.body.items.map((m: any) => m.id)).toEqual([image.id]);
    expect(images.body.items[0].meta.detail_url).toBe(`${base}/api/brain/wagtail/images/${image.id}/`);
    const documents = await wagtail('/documents', VIEWER);
    expect(documents.body.items.map((m: any) => m.id)).toEqual([document.id]);
    expectDocumented(openapi, 'wagtailDocumentsList', documents.body);
    expect(await wagtail('/documents?fields=width', VIEWER)).toMatchObject({ status: 400, body: { message: 'unknown fields: width' } });

    expect((await wagtail('/media?type=wagtaildocs.Document', VIEWER)).body.items.map((m: any) => m.id)).toEqual([document.id]);
    expect(await wagtail('/media?type=cms.ContentPage', VIEWER)).toMatchObject({ status: 400, body: { message: "type doesn't exist" } });
    expect((await wagtail('/media?tags=summer', VIEWER)).body.items.map((m: any) => m.id)).toEqual([image.id]);
    expect((await wagtail('/media?search=price', VIEWER)).body.items.map((m: any) => m.id)).toEqual([document.id]);
    expect((await wagtail('/media?limit=1&offset=1', VIEWER)).body.items.map((m: any) => m.id)).toEqual([image.id]);
    expect((await wagtail('/media?fields=_,file_size,mime_type', VIEWER)).body.items[1]).toEqual({ file_size: image.file_size, mime_type: 'image/png' });

    const detail = await wagtail(`/media/${image.id}`, VIEWER);
    expect(detail.body).toEqual(image);
    expectDocumented(openapi, 'wagtailMediaRetrieve', detail.body);
    expect((await wagtail(`/images/${image.id}?fields=_,width`, VIEWER)).body).toEqual({ width: 640 });
    expect(await wagtail(`/images/${document.id}`, VIEWER)).toMatchObject({ status: 404, body: { message: 'No Image matches the given query.' } });
    expect(await wagtail('/media/nope', VIEWER)).toMatchObject({ status: 404, body: { message: 'No Image or Document matches the given query.' } });
  });

  it("page image blocks nest the image with the gateway's download_url, for anonymous readers too", async () => {
    const editor = bearer(tokens[EDITOR]!);
    const created = await gql(
      stack.graphql,
      'mutation($input: ContentPageCreateInput!) { createContentPage(input: $input) { contentPage { id } errors { code } } }',
      { input: { slug: 'gallery', title: 'Gallery', body: [{ image: { assetId: image.id, caption: 'Sun' } }] } },
      editor,
    );
    const id = created.data!.createContentPage.contentPage.id;
    await gql(stack.graphql, 'mutation($id: ID!) { publishContentPage(id: $id) { errors { code } } }', { id }, editor);
    const page = await wagtail(`/pages/${id}?site=acme`);
    expect(page.body.body[0]).toEqual({
      type: 'image',
      value: {
        image: {
          id: image.id,
          meta: { type: 'wagtailimages.Image', detail_url: `${base}/api/brain/wagtail/images/${image.id}/`, download_url: image.meta.download_url },
          title: 'A summer banner',
          width: 640,
          height: 480,
        },
        caption: 'Sun',
        alt_text: null,
      },
      id: expect.any(String),
    });
  });

  it("a globex token never sees acme's media", async () => {
    expect((await wagtail('/media', GLOBEX)).body).toEqual({ meta: { total_count: 0 }, items: [] });
    expect((await wagtail('/images', GLOBEX)).body.meta.total_count).toBe(0);
    for (const path of [`/media/${image.id}`, `/images/${image.id}`, `/documents/${document.id}`]) {
      expect((await wagtail(path, GLOBEX)).status, path).toBe(404);
    }
    // Its uploads land in its own tenant.
    const own = await upload(png(4, 4), { as: GLOBEX, filename: 'g.png' });
    expect(own.status).toBe(201);
    expect(own.body.meta.download_url).toContain(`/files/${DEMO_TENANTS[1].id}/`);
    expect((await wagtail('/media', VIEWER)).body.items.map((m: any) => m.id)).not.toContain(own.body.id);
  });

  it("GraphQL's MediaAsset.url is the gateway's path (MEDIA_PUBLIC_URL unset), never the CMS's internal address", async () => {
    const { data } = await gql(stack.graphql, `query($id: ID!) { mediaAsset(id: $id) { url } }`, { id: image.id }, bearer(tokens[EDITOR]!));
    const url: string = data!.mediaAsset.url;
    expect(url).toBe(`/api/brain/wagtail/media/files/${acme}/${image.id}/Summer-Banner.png`);
    expect(new URL(image.meta.download_url).pathname).toBe(url);
    // Relative to the gateway: it serves the bytes there.
    const served = await fetch(`${base}${url}`);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
  });

  it('downloads a file whose stored name is longer than the 100 characters Fastify allows a path parameter', async () => {
    const stem = `${'a-long-file-name-'.repeat(10)}end`.slice(0, 150); // the longest stem the CMS keeps
    const bytes = png(4, 4);
    const { status, body } = await upload(bytes, { as: GLOBEX, filename: `${stem}.png` });
    expect(status).toBe(201);
    expect(body.filename).toBe(`${stem}.png`);
    expect(body.meta.download_url).toMatch(new RegExp(`/files/${DEMO_TENANTS[1].id}/${body.id}/${stem}\\.png$`));
    const served = await fetch(body.meta.download_url);
    expect(served.status).toBe(200);
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
    expect((await fetch(body.meta.download_url, { method: 'HEAD' })).status).toBe(200);
    // A longer or different name is still a Wagtail-style 404, never a 414.
    expect(await get(`${body.meta.download_url}x`)).toMatchObject({ status: 404, body: { message: 'Not found.' } });
    expect(await get(body.meta.download_url.replace(`${stem}.png`, `${stem}/x.png`))).toMatchObject({ status: 404, body: { message: 'Not found.' } });
  });
});

// --- The stream entries against a fake CMS -------------------------------------------------------------

describe('stream entries', () => {
  let fake: Server;
  let fakeUrl: string;
  let gateway: Gateway;
  let gatewayUrl: string;
  const seen: { headers: IncomingHttpHeaders; url: string }[] = [];
  let firstChunk: () => void = () => undefined;

  beforeAll(async () => {
    fake = createServer((req, res) => {
      seen.push({ headers: req.headers, url: req.url! });
      if (req.url?.includes('hang=1')) return void req.resume(); // reads the upload, never answers
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        if (size === 0) firstChunk();
        size += chunk.length;
      });
      req.on('end', () => {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: '00000000-0000-4000-8000-00000000f001', kind: 'DOCUMENT', filename: 'x.pdf', mimeType: 'application/pdf', size, width: null, height: null, altText: null, tags: [], url: `http://cms/media/${acme}/00000000-0000-4000-8000-00000000f001/x.pdf`, createdAt: new Date().toISOString() }));
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
    // The stream timeout is the subgraph timeout (SUBGRAPH_TIMEOUT_MS): 2 s, which the uploads
    // that are answered finish well within even when this shared host stalls.
    const saved = process.env.SUBGRAPH_TIMEOUT_MS;
    process.env.SUBGRAPH_TIMEOUT_MS = '2000';
    try {
      ({ gateway, base: gatewayUrl } = await stack.startGateway({ config: { SUBGRAPH_TIMEOUT_MS: 2_000 }, subgraphUrls: { ...stack.urls, cms: `${fakeUrl}/graphql` } }));
    } finally {
      if (saved === undefined) delete process.env.SUBGRAPH_TIMEOUT_MS;
      else process.env.SUBGRAPH_TIMEOUT_MS = saved;
    }
  });
  afterAll(async () => {
    await gateway?.close();
    fake?.closeAllConnections();
    await new Promise((resolve) => fake?.close(resolve));
  });

  it('forwards only authorization, x-request-id, content-type and content-length', async () => {
    seen.length = 0;
    const response = await upload(PDF, {
      url: `${gatewayUrl}/api/brain/wagtail/media?altText=x`,
      headers: { cookie: 'session=secret', 'x-forwarded-for': '10.0.0.1', 'x-custom': 'no', 'x-request-id': 'trace-me-123' },
    });
    expect(response.status).toBe(201);
    expect(response.body.meta.type).toBe('wagtaildocs.Document');
    expect(response.body.meta.download_url).toBe(`${gatewayUrl}/api/brain/wagtail/media/files/${acme}/00000000-0000-4000-8000-00000000f001/x.pdf`);
    const [{ headers, url }] = seen;
    expect(url).toBe('/media?altText=x');
    expect(headers.authorization).toBe(`Bearer ${tokens[EDITOR]}`);
    expect(headers['x-request-id']).toBe('trace-me-123');
    expect(headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(Object.keys(headers).filter((h) => !['host', 'connection', 'authorization', 'x-request-id', 'content-type', 'content-length', 'transfer-encoding'].includes(h))).toEqual([]);
  });

  it('pipes the body as it arrives: the CMS sees the first bytes before the client has sent the rest', async () => {
    const arrived = new Promise<void>((resolve) => (firstChunk = resolve));
    const encoder = new TextEncoder();
    let timedOut = false;
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(encoder.encode('--b\r\ncontent-disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4\n'));
        // A gateway that buffered the body would never let the first bytes through: give up after 5 s.
        await Promise.race([arrived, new Promise((resolve) => setTimeout(() => ((timedOut = true), resolve(null)), 5_000))]);
        controller.enqueue(encoder.encode('%%EOF\n\r\n--b--\r\n'));
        controller.close();
      },
    });
    const response = await fetch(`${gatewayUrl}/api/brain/wagtail/media`, {
      method: 'POST',
      headers: { ...bearer(tokens[EDITOR]!), 'content-type': 'multipart/form-data; boundary=b' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(timedOut).toBe(false);
    expect(response.status).toBe(201);
  });

  it('a CMS that does not answer within the subgraph timeout, or cannot be reached, is a 503 without its address', async () => {
    const slow = await upload(PDF, { url: `${gatewayUrl}/api/brain/wagtail/media?hang=1` });
    expect(slow).toMatchObject({ status: 503, body: { message: 'Service temporarily unavailable, try again later.' } });

    const { gateway: down, base: url } = await stack.startGateway({ subgraphUrls: { ...stack.urls, cms: 'http://127.0.0.1:9/graphql' } });
    try {
      const response = await upload(png(4, 4), { url: `${url}/api/brain/wagtail/media` });
      expect(response).toMatchObject({ status: 503, body: { message: 'Service temporarily unavailable, try again later.' } });
      expect(JSON.stringify(response.body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
      const file = await fetch(`${url}/api/brain/wagtail/media/files/${acme}/${acme}/a.png`);
      expect(file.status).toBe(503);
    } finally {
      await down.close();
    }
  });
});

// --- The CMS schema additions the paths use ----------------------------------------------------------

describe('CMS additions (GraphQL through the gateway)', () => {
  it('publishedContentPage by id (exactly one of path and id), slug and parentId filters, sortBy, snippets by key, first: 0 counts', async () => {
    const editor = bearer(tokens[EDITOR]!);
    const home = await gql(stack.graphql, '{ publishedContentPage(site: "acme", path: "/home") { id } }');
    const id = home.data!.publishedContentPage.id;
    const byId = await gql(stack.graphql, 'query($id: ID!) { publishedContentPage(site: "acme", id: $id) { urlPath } }', { id });
    expect(byId.data!.publishedContentPage).toEqual({ urlPath: '/home' });
    for (const args of ['site: "acme"', `site: "acme", path: "/home", id: "${id}"`]) {
      const bad = await gql(stack.graphql, `{ publishedContentPage(${args}) { id } }`);
      expect(bad.errors?.[0]?.extensions?.code, args).toBe('BAD_USER_INPUT');
    }
    const children = await gql(stack.graphql, 'query($id: ID!) { publishedContentPages(site: "acme", filter: { parentId: $id }) { edges { node { slug } } } }', { id });
    expect(children.data!.publishedContentPages.edges.map((e: any) => e.node.slug)).toEqual(['about']);
    const badParent = await gql(stack.graphql, '{ publishedContentPages(site: "acme", filter: { parentId: "x" }) { totalCount } }');
    expect(badParent.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const slug = await gql(stack.graphql, '{ contentPages(filter: { slug: "TEAM" }) { edges { node { urlPath } } } }', {}, editor);
    expect(slug.data!.contentPages.edges).toEqual([{ node: { urlPath: '/home/about/team' } }]);
    const sorted = await gql(stack.graphql, '{ publishedContentPages(site: "acme", sortBy: { field: TITLE, direction: DESC }, first: 2) { edges { node { title } } } }');
    expect(sorted.data!.publishedContentPages.edges.map((e: any) => e.node.title)).toEqual(['Welcome to Acme', 'Hello, world']);
    const key = await gql(stack.graphql, '{ snippets(key: "footer") { totalCount edges { node { key } } } }', {}, editor);
    expect(key.data!.snippets).toEqual({ totalCount: 1, edges: [{ node: { key: 'footer' } }] });
    const count = await gql(stack.graphql, '{ contentPages(first: 0) { totalCount edges { cursor } } }', {}, editor);
    expect(count.data!.contentPages.totalCount).toBeGreaterThanOrEqual(6);
    expect(count.data!.contentPages.edges).toEqual([]);
  });
});

// --- The route table and its document ------------------------------------------------------------------

describe('route table and OpenAPI', () => {
  it('documents the upload as multipart and the file as binary, with x-stream-to instead of an operation', () => {
    const upload = operationOf('wagtailMediaUpload');
    expect(Object.keys(upload.requestBody.content)).toEqual(['multipart/form-data']);
    expect(upload['x-stream-to']).toEqual({ subgraph: 'cms', path: '/media' });
    expect(upload['x-graphql-operation']).toBeUndefined();
    expect(Object.keys(upload.responses)).toEqual(expect.arrayContaining(['201', '401', '403', '413', '415', '503']));
    const file = operationOf('wagtailMediaFile');
    expect(file.responses['200'].content['*/*'].schema).toEqual({ type: 'string', format: 'binary' });
    expect(file.responses['304']).toBeDefined();
    expect(file.security).toEqual([]);
    const list = operationOf('wagtailPagesList');
    expect(list.parameters.map((p: any) => p.name)).toEqual(expect.arrayContaining(['limit', 'offset', 'fields', 'site', 'status', 'child_of']));
    expect(list.responses['400'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Message' });
  });

  it("the member's site look-up is valid against the gateway's schema", async () => {
    const introspection = await gql<IntrospectionQuery>(stack.graphql, getIntrospectionQuery());
    const schema = buildClientSchema(introspection.data!);
    expect(validate(schema, parse(SITE_QUERY)).map((e) => e.message)).toEqual([]);
    // Every wagtail GET path is a GraphQL entry; only the media upload and files stream.
    const streams = ROUTES.filter((r) => r.kind === 'stream').map((r) => `${r.method} ${r.path}`);
    expect(streams).toEqual(['POST /wagtail/media', 'GET /wagtail/media/files/{tenant}/{asset}/{filename*}']);
  });
});
