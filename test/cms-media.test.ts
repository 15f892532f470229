import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import auth from '../subgraphs/auth/index.ts';
import { DEMO_TENANTS } from '../subgraphs/auth/seed.ts';
import cms from '../subgraphs/cms/index.ts';
import { mediaUrl } from '../subgraphs/cms/media.ts';
import { PDF, png, uploadForm } from './support/fixtures.ts';
import { bearer, gql } from './support/graphql.ts';
import { rest } from './support/rest.ts';
import { startSubgraphs, type RunningSubgraphs } from './support/stack.ts';

// The media library: uploads to the CMS subgraph's own `POST /media` (multipart, streamed, type
// checked on the bytes, size-limited), the bytes served back at a stable cached URL, and the
// metadata through GraphQL for members of the tenant only.

const MAX = 2 * 1024 * 1024;
const acme = DEMO_TENANTS[0].id;

let stack: RunningSubgraphs;
let base: string;
let graphql: string;
const token = (email: string) => stack.token(email);

/** An upload to the CMS's own `POST /media`, as `email` (the editor by default; null: anonymous). */
async function upload(file: Buffer, options: Parameters<typeof uploadForm>[1] & { email?: string | null } = {}) {
  const email = options.email === undefined ? 'editor@acme.example' : options.email;
  return rest(`${base}/media`, { method: 'POST', body: uploadForm(file, options), token: email ? await token(email) : undefined });
}

/** The CMS's own path of a media URL (the gateway's `/api/brain/wagtail/media/files/…` streams from it). */
const cmsPath = (url: string) => url.replace(/^\/api\/brain\/wagtail\/media\/files\//, '/media/');

const storedFiles = (tenant: string) => {
  const dir = join(stack.backends.config.DATA_DIR, 'media', tenant);
  return existsSync(dir) ? readdirSync(dir) : [];
};

beforeAll(async () => {
  stack = await startSubgraphs([auth, cms], { MEDIA_MAX_BYTES: String(MAX) });
  graphql = stack.urls.cms!;
  base = graphql.replace(/\/graphql$/, '');
});
afterAll(() => stack?.close());

describe('uploads', () => {
  it('stores an image streamed past the JSON body limit, with its type, size, checksum and dimensions', async () => {
    const bytes = png(640, 480, 1_200_000); // larger than BODY_LIMIT_BYTES (1 MiB)
    const { status, body } = await upload(bytes, { filename: '../../etc/Summer Banner!.exe', fields: { altText: 'A summer banner', tags: 'Summer, banner,summer' } });
    expect(status).toBe(201);
    expect(body).toMatchObject({
      kind: 'IMAGE',
      filename: 'Summer-Banner.png',
      mimeType: 'image/png',
      size: bytes.length,
      checksum: createHash('sha256').update(bytes).digest('hex'),
      width: 640,
      height: 480,
      altText: 'A summer banner',
      tags: ['summer', 'banner'],
    });
    // MEDIA_PUBLIC_URL unset: the gateway's path, never the CMS's internal address.
    expect(body.url).toBe(`/api/brain/wagtail/media/files/${acme}/${body.id}/Summer-Banner.png`);
    expect(storedFiles(acme)).toContain(body.id);

    // Served back byte for byte, cacheable for a year, with the checksum as ETag.
    const path = cmsPath(body.url);
    const served = await fetch(`${base}${path}`);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(served.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(served.headers.get('etag')).toBe(`"${body.checksum}"`);
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
    const again = await fetch(`${base}${path}`, { headers: { 'if-none-match': `"${body.checksum}"` } });
    expect(again.status).toBe(304);
    // The wrong file name or tenant is not found.
    expect((await fetch(`${base}${path.replace('Summer-Banner.png', 'other.png')}`)).status).toBe(404);
    expect((await fetch(`${base}${path.replace(acme, DEMO_TENANTS[1].id)}`)).status).toBe(404);
  });

  it('accepts a PDF as a document, whatever its declared type', async () => {
    const { status, body } = await upload(PDF, { filename: 'price list.pdf', type: 'text/plain' });
    expect(status).toBe(201);
    expect(body).toMatchObject({ kind: 'DOCUMENT', mimeType: 'application/pdf', filename: 'price-list.pdf', width: null, height: null });
    const served = await fetch(`${base}${cmsPath(body.url)}`);
    expect(served.headers.get('content-disposition')).toBe('attachment; filename="price-list.pdf"');
  });

  it('refuses disguised types: the bytes decide, not the name or the declared type', async () => {
    const before = storedFiles(acme).length;
    const html = Buffer.from('<html><body><script>alert(document.cookie)</script></body></html>');
    const exe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200, 0), Buffer.from('This program cannot be run in DOS mode')]);
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1"/></svg>');
    for (const [file, filename, type] of [
      [html, 'photo.png', 'image/png'],
      [exe, 'holiday.jpg', 'image/jpeg'],
      [svg, 'logo.svg', 'image/svg+xml'],
      [Buffer.from('just text'), 'notes.pdf', 'application/pdf'],
    ] as const) {
      const { status, body } = await upload(file, { filename, type });
      expect(status, filename).toBe(415);
      expect(body.error).toMatch(/not accepted/);
    }
    expect(storedFiles(acme).length).toBe(before);
  });

  it('refuses a file over MEDIA_MAX_BYTES and keeps nothing of it', async () => {
    const before = storedFiles(acme).length;
    const { status, body } = await upload(png(64, 64, MAX + 10_000), { filename: 'huge.png', type: 'image/png' });
    expect(status).toBe(413);
    expect(body.error).toMatch(/larger than/);
    expect(storedFiles(acme).length).toBe(before);
    expect(readdirSync(join(stack.backends.config.DATA_DIR, 'media', acme)).filter((f) => f.endsWith('.part'))).toEqual([]);
    // The server is fine afterwards.
    expect((await upload(png(8, 8), { filename: 'small.png' })).status).toBe(201);
  });

  it('needs an editor: anonymous is 401, a viewer 403', async () => {
    expect((await upload(png(8, 8), { email: null })).status).toBe(401);
    expect((await upload(png(8, 8), { email: 'viewer@acme.example' })).status).toBe(403);
    const notMultipart = await fetch(`${base}/media`, { method: 'POST', headers: { ...bearer(await token('editor@acme.example')), 'content-type': 'application/json' }, body: '{}' });
    expect(notMultipart.status).toBe(415);
  });
});

describe('media metadata through GraphQL', () => {
  const LIST = '{ mediaAssets(first: 100) { totalCount edges { node { id filename kind tags url uploadedBy { id } } } } }';

  it('members list and edit the library; admins delete (bytes too)', async () => {
    const viewer = await gql(graphql, `query($f: MediaAssetFilterInput) { mediaAssets(filter: $f) { totalCount edges { node { filename width } } } }`, { f: { tag: 'summer', kind: 'IMAGE' } }, bearer(await token('viewer@acme.example')));
    expect(viewer.data!.mediaAssets.edges).toEqual([{ node: { filename: 'Summer-Banner.png', width: 640 } }]);

    const { body: asset } = await upload(png(16, 16), { filename: 'to-delete.png' });
    const editor = bearer(await token('editor@acme.example'));
    const UPDATE = 'mutation($id: ID!, $input: MediaAssetUpdateInput!) { updateMediaAsset(id: $id, input: $input) { mediaAsset { altText tags } errors { field code } } }';
    const updated = await gql(graphql, UPDATE, { id: asset.id, input: { altText: 'Tiny', tags: ['Icons'] } }, editor);
    expect(updated.data!.updateMediaAsset).toEqual({ mediaAsset: { altText: 'Tiny', tags: ['icons'] }, errors: [] });
    const tooMany = await gql(graphql, UPDATE, { id: asset.id, input: { tags: Array.from({ length: 30 }, (_, i) => `t${i}`) } }, editor);
    expect(tooMany.data!.updateMediaAsset.errors).toEqual([{ field: 'tags', code: 'INVALID' }]);

    const DELETE = 'mutation($id: ID!) { deleteMediaAsset(id: $id) { deletedId errors { code } } }';
    expect((await gql(graphql, DELETE, { id: asset.id }, editor)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const deleted = await gql(graphql, DELETE, { id: asset.id }, bearer(await token('owner@acme.example')));
    expect(deleted.data!.deleteMediaAsset).toEqual({ deletedId: asset.id, errors: [] });
    expect(storedFiles(acme)).not.toContain(asset.id);
    expect((await fetch(`${base}${cmsPath(asset.url)}`)).status).toBe(404);
  });

  it('image blocks use the library; published pages show the image to anonymous readers, not its tags', async () => {
    const editor = bearer(await token('editor@acme.example'));
    const banner = (await gql(graphql, LIST, {}, editor)).data!.mediaAssets.edges.find((e: any) => e.node.filename === 'Summer-Banner.png').node;
    const created = await gql(
      graphql,
      `mutation($input: ContentPageCreateInput!) { createContentPage(input: $input) { contentPage { id } errors { field code } } }`,
      { input: { slug: 'gallery', title: 'Gallery', body: [{ image: { assetId: banner.id, caption: 'Sun' } }] } },
      editor,
    );
    expect(created.data!.createContentPage.errors).toEqual([]);
    await gql(graphql, 'mutation($id: ID!) { publishContentPage(id: $id) { errors { code } } }', { id: created.data!.createContentPage.contentPage.id }, editor);
    const IMAGE = (fields: string) => `{ publishedContentPage(site: "acme", path: "/gallery") { body { ... on ImageBlock { caption image { ${fields} } } } } }`;
    const publicImage = await gql(graphql, IMAGE('url width height altText mimeType'));
    expect(publicImage.data!.publishedContentPage.body[0]).toEqual({
      caption: 'Sun',
      image: { url: banner.url, width: 640, height: 480, altText: 'A summer banner', mimeType: 'image/png' },
    });
    const tags = await gql(graphql, IMAGE('url tags'));
    expect(tags.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it("a globex token never sees acme's media, by list, id or entity, and cannot use it in a page", async () => {
    const acmeAssets = (await gql(graphql, LIST, {}, bearer(await token('editor@acme.example')))).data!.mediaAssets.edges.map((e: any) => e.node.id);
    expect(acmeAssets.length).toBeGreaterThan(0);
    const globex = bearer(await token('owner@globex.example'));
    expect((await gql(graphql, LIST, {}, globex)).data!.mediaAssets).toEqual({ totalCount: 0, edges: [] });
    const byId = await gql(graphql, 'query($id: ID!) { mediaAsset(id: $id) { filename } }', { id: acmeAssets[0] }, globex);
    expect(byId.data!.mediaAsset).toBeNull();
    expect(byId.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const entities = await gql(graphql, 'query($r: [_Any!]!) { _entities(representations: $r) { ... on MediaAsset { filename } } }', { r: acmeAssets.map((id: string) => ({ __typename: 'MediaAsset', id })) }, globex);
    expect(entities.data!._entities).toEqual(acmeAssets.map(() => null));
    const use = await gql(
      graphql,
      `mutation($input: ContentPageCreateInput!) { createContentPage(input: $input) { errors { field code } } }`,
      { input: { slug: 'stolen', title: 'Stolen', body: [{ image: { assetId: acmeAssets[0] } }] } },
      globex,
    );
    expect(use.data!.createContentPage.errors).toEqual([{ field: 'body.0.image.assetId', code: 'NOT_FOUND' }]);
    const edit = await gql(graphql, 'mutation($id: ID!) { updateMediaAsset(id: $id, input: { altText: "pwned" }) { errors { code } } }', { id: acmeAssets[0] }, globex);
    expect(edit.data!.updateMediaAsset.errors).toEqual([{ code: 'NOT_FOUND' }]);
  });
});

describe('media URLs', () => {
  it('are the gateway path by default, or under MEDIA_PUBLIC_URL (a CDN or proxy in front of the CMS /media)', () => {
    const asset = { tenant_id: acme, id: '00000000-0000-4000-8000-0000000000a1', filename: 'a.png' };
    expect(mediaUrl({}, asset)).toBe(`/api/brain/wagtail/media/files/${acme}/${asset.id}/a.png`);
    expect(mediaUrl({ MEDIA_PUBLIC_URL: 'https://cdn.example/assets/' }, asset)).toBe(`https://cdn.example/assets/media/${acme}/${asset.id}/a.png`);
  });
});

describe('long names', () => {
  it('serves a file whose stored name is longer than the 100 characters Fastify allows a path parameter', async () => {
    const stem = 'x'.repeat(200); // kept to its first 150 characters
    const bytes = png(4, 4);
    const { status, body } = await upload(bytes, { filename: `${stem}.png`, email: 'owner@globex.example' });
    expect(status).toBe(201);
    expect(body.filename).toBe(`${'x'.repeat(150)}.png`);
    const path = `/media/${DEMO_TENANTS[1].id}/${body.id}/${body.filename}`;
    const served = await fetch(`${base}${path}`);
    expect(served.status).toBe(200);
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
    expect((await fetch(`${base}${path}x`)).status).toBe(404);
    expect((await fetch(`${base}${path.replace(body.filename, `a/${body.filename}`)}`)).status).toBe(404);
  });
});
