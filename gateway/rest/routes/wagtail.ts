import { isUuid } from '../../../subgraphs/kit/formats.ts';
import { notAuthenticated, wagtailError } from '../errors.ts';
import type { ConnectionValue } from '../pagination.ts';
import { single } from '../query.ts';
import { named, type JsonSchema, type QueryParam, type RestCall, type RestRoute } from '../types.ts';
import {
  checkQuery,
  FIELDS_PARAM,
  listing,
  parseBoolean,
  parseTypes,
  represent,
  SEARCH_PARAM,
  selectFields,
  type FieldSpec,
} from '../wagtail.ts';

/*
 * `/api/brain/wagtail/*`: what the Wagtail CMS's API v2 answered, served by the cms subgraph.
 *
 *   GET  /wagtail/pages[/{id}]       pages (Wagtail's pages endpoint)
 *   GET  /wagtail/content[/{id}]     snippets, in the same listing shape (`cms.Snippet`)
 *   GET  /wagtail/media[/{id}]       images and documents together (`meta.type` tells them apart)
 *   GET  /wagtail/images[/{id}]      images only, GET /wagtail/documents[/{id}] documents only
 *   POST /wagtail/media              upload (multipart; streamed to the CMS: see stream.ts)
 *   GET  /wagtail/media/files/...    the bytes (`download_url`; streamed from the CMS)
 *
 * Shapes, `?fields=`, `?limit=&offset=` (default and maximum 20), `?type=`, `?child_of=`,
 * `?slug=`, `?search=`, `?order=` and errors (`{"message"}`) follow Wagtail API v2 (wagtail.ts).
 * Our ids are UUIDs, not integers. Differences and additions:
 *
 * Pages: Wagtail's public API lists LIVE pages only; so does this one, with two multi-tenant
 * rules. `?site=<site key or tenant slug>` names the site (Wagtail's `?site=` takes a
 * hostname): anonymous callers must give it. A member's token reads its own tenant's site
 * without it (one more small operation looks the site up: `SITE_QUERY`); a member naming
 * another tenant's site reads its live pages like anyone. `?status=` (our extension, members
 * of the tenant only; 401 anonymous, 403 for another site): `published` (default,
 * Wagtail's: live pages at their published revision), `draft` (pages that are not live, at
 * their latest revision) or `all` (every page at its latest revision); with `draft` and `all`
 * items also carry `meta.status` as Wagtail's admin API does (`{"status": "live + draft",
 * "live", "has_unpublished_changes"}`), and links (`detail_url`) keep `site` and `status`.
 * There is one page type, `cms.ContentPage`; `?type=cms.ContentPage` makes its own fields
 * (`body`, `featured_products`) available in listings, as Wagtail does for a specific type.
 * `child_of=root` lists top-level pages; `html_url` is the page's path on its site (no public
 * hostname is configured); `show_in_menus` is always true (the CMS has no menu flag);
 * `order` takes `title`, `slug`, `first_published_at`, `html_url` (tree path) and `id` (creation
 * order, as Wagtail's increasing integer ids are), `-` for descending; `random` is not offered.
 * Body blocks are Wagtail's StreamField shape `{"type", "value", "id"}`; an image block nests its
 * image as Wagtail nests a related image (`{"id", "meta": {"type", "detail_url",
 * "download_url"}, "title", "width", "height"}`), a snippet block its snippet.
 *
 * Content (snippets) and media need a member's token (401 without): their metadata is private
 * to the tenant in the CMS. The bytes behind `download_url` are public (the URL holds the asset's
 * random id), like Wagtail's media files. Media items: Wagtail's image fields (`title`, `width`,
 * `height`, `meta.tags`, `meta.download_url`) and document fields; also `filename`, `file_size`,
 * `mime_type`, `alt_text`, `created_at` on request; image listings show `width` and `height`
 * by default (Wagtail's on request). Newest first; `?tags=` takes one tag; no `?order=`. An
 * upload (`title`, `tags`, `file`) answers the new item with every field.
 */

const TAG = 'wagtail';
const PAGE_TYPE = 'cms.ContentPage';
const BASE_PAGE_TYPE = 'wagtailcore.Page';
const SNIPPET_TYPE = 'cms.Snippet';
const IMAGE_TYPE = 'wagtailimages.Image';
const DOCUMENT_TYPE = 'wagtaildocs.Document';
const base = { tag: TAG, dialect: 'wagtail' as const };


/** Per-request state shared by an entry's `variables` and `shape` (the same call object). */
const states = new WeakMap<RestCall, { selected: Set<string>; scope?: PageScope; spec: FieldSpec }>();
const stateOf = (call: RestCall) => states.get(call)!;

// --- Media -----------------------------------------------------------------------------------

/**
 * A media URL (`.../<tenant>/<asset>/<file>`: the gateway's path, or MEDIA_PUBLIC_URL's) -> the
 * gateway's, on the request's host.
 */
function downloadUrl(call: RestCall, url: string): string {
  const [tenant, asset, file] = new URL(url, 'http://gateway.invalid').pathname.split('/').filter(Boolean).slice(-3);
  return call.url(`/wagtail/media/files/${tenant}/${asset}/${file}`);
}

type MediaEndpoint = 'media' | 'images' | 'documents';

const MEDIA_META = ['type', 'detail_url', 'tags', 'download_url'];
const mediaSpec = (images: boolean): FieldSpec => ({
  body: ['id', 'title', ...(images ? ['width', 'height'] : []), 'filename', 'file_size', 'mime_type', 'alt_text', 'created_at'],
  meta: MEDIA_META,
  listing: ['id', 'type', 'detail_url', 'tags', 'download_url', 'title', ...(images ? ['width', 'height'] : [])],
});
const MEDIA_SPEC: Record<MediaEndpoint, FieldSpec> = { media: mediaSpec(true), images: mediaSpec(true), documents: mediaSpec(false) };
const MEDIA_KIND: Record<MediaEndpoint, 'IMAGE' | 'DOCUMENT' | null> = { media: null, images: 'IMAGE', documents: 'DOCUMENT' };

const ASSET_FIELDS = 'fragment RestWagtailAsset on MediaAsset { id kind filename mimeType size width height altText tags url createdAt }';

/** A MediaAsset (GraphQL, or the CMS upload's JSON, which has the same names) -> Wagtail's image or document. */
function assetValues(asset: any, call: RestCall, endpoint: MediaEndpoint): Record<string, () => unknown> {
  const image = asset.kind === 'IMAGE';
  return {
    id: () => asset.id,
    type: () => (image ? IMAGE_TYPE : DOCUMENT_TYPE),
    detail_url: () => call.url(`/wagtail/${endpoint}/${asset.id}/`),
    tags: () => asset.tags ?? [],
    download_url: () => downloadUrl(call, asset.url),
    title: () => asset.altText || asset.filename,
    width: () => (image ? asset.width : undefined),
    height: () => (image ? asset.height : undefined),
    filename: () => asset.filename,
    file_size: () => asset.size,
    mime_type: () => asset.mimeType,
    alt_text: () => asset.altText ?? null,
    created_at: () => asset.createdAt,
  };
}

const mediaItemSchema = (name: string, images: boolean) =>
  named(name, {
    type: 'object',
    description: 'Fields per `?fields=`; `width` and `height` on images only.',
    properties: {
      id: { type: 'string', format: 'uuid' },
      meta: {
        type: 'object',
        properties: {
          type: { enum: images ? [IMAGE_TYPE, DOCUMENT_TYPE] : [DOCUMENT_TYPE] },
          detail_url: { type: 'string', format: 'uri' },
          tags: { type: 'array', items: { type: 'string' } },
          download_url: { type: 'string', format: 'uri', description: 'The bytes, through the gateway (public, cacheable, ETag)' },
        },
      },
      title: { type: 'string', description: 'Alt text, or the file name' },
      ...(images ? { width: { type: ['integer', 'null'] }, height: { type: ['integer', 'null'] } } : {}),
      filename: { type: 'string' },
      file_size: { type: 'integer' },
      mime_type: { type: 'string' },
      alt_text: { type: ['string', 'null'] },
      created_at: { type: 'string', format: 'date-time' },
    },
    required: ['id'],
  });
const MEDIA_ITEM: Record<MediaEndpoint, JsonSchema> = {
  media: mediaItemSchema('WagtailMediaItem', true),
  images: mediaItemSchema('WagtailMediaItem', true),
  documents: mediaItemSchema('WagtailDocument', false),
};

const listingSchema = (name: string, item: JsonSchema) =>
  named(name, {
    type: 'object',
    properties: {
      meta: { type: 'object', properties: { total_count: { type: 'integer' } }, required: ['total_count'] },
      items: { type: 'array', items: item },
    },
    required: ['meta', 'items'],
  });

function mediaRoutes(endpoint: MediaEndpoint): RestRoute[] {
  const spec = MEDIA_SPEC[endpoint];
  const kind = MEDIA_KIND[endpoint];
  const what = endpoint === 'media' ? 'images and documents' : endpoint;
  const Name = endpoint[0]!.toUpperCase() + endpoint.slice(1);
  const list: RestRoute = {
    ...base,
    auth: 'required',
    method: 'GET',
    path: `/wagtail/${endpoint}`,
    id: `wagtail${Name}List`,
    summary: `List ${what}`,
    description:
      'Wagtail API v2 listing of the media library, newest first. ' +
      (endpoint === 'media' ? '`?type=wagtailimages.Image` or `wagtaildocs.Document` selects one kind. ' : '') +
      '`download_url` points at the gateway.',
    operation: `query RestWagtail${Name}($filter: MediaAssetFilterInput, $first: Int!, $after: String) {
      mediaAssets(filter: $filter, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { ...RestWagtailAsset } }
      }
    }
    ${ASSET_FIELDS}`,
    root: 'mediaAssets',
    paginate: 'offset',
    query: {
      ...(endpoint === 'media' ? { type: { schema: { type: 'string' }, description: `\`${IMAGE_TYPE}\` or \`${DOCUMENT_TYPE}\`` } } : {}),
      search: { ...SEARCH_PARAM, description: 'Matches the file name and the alt text' },
      tags: { schema: { type: 'string', maxLength: 50 }, description: 'Items with this tag (one tag)' },
      fields: FIELDS_PARAM,
    },
    variables: (call) => {
      checkQuery(call.query, endpoint === 'media' ? ['type', 'search', 'tags'] : ['search', 'tags'], ['order', 'search_operator']);
      const selected = selectFields(spec, 'listing', single(call.query.fields));
      states.set(call, { selected, spec });
      let filterKind = kind;
      const types = endpoint === 'media' ? parseTypes(single(call.query.type), [IMAGE_TYPE, DOCUMENT_TYPE]) : null;
      if (types?.length === 1) filterKind = types[0] === IMAGE_TYPE ? 'IMAGE' : 'DOCUMENT';
      const tags = single(call.query.tags);
      if (tags !== undefined && tags.split(',').filter((t) => t.trim()).length > 1) throw wagtailError(400, 'filtering by more than one tag is not supported');
      const filter = { kind: filterKind, tag: tags?.trim() || null, search: single(call.query.search)?.trim() || null };
      return { filter };
    },
    shape: (connection: ConnectionValue<any>, call) => {
      const { selected } = stateOf(call);
      return listing(
        connection.totalCount ?? 0,
        connection.edges.map((edge) => represent(spec, selected, assetValues(edge.node, call, endpoint))),
      );
    },
    response: listingSchema(`Wagtail${Name}Listing`, MEDIA_ITEM[endpoint]),
  };
  const retrieve: RestRoute = {
    ...base,
    auth: 'required',
    method: 'GET',
    path: `/wagtail/${endpoint}/{id}`,
    id: `wagtail${Name}Retrieve`,
    summary: `One ${endpoint === 'media' ? 'image or document' : endpoint.slice(0, -1)}, every field by default`,
    operation: `query RestWagtail${Name}Item($id: ID!) { mediaAsset(id: $id) { ...RestWagtailAsset } }
    ${ASSET_FIELDS}`,
    root: 'mediaAsset',
    query: { fields: FIELDS_PARAM },
    errors: { NOT_FOUND: { status: 404, detail: `No ${kind === 'IMAGE' ? 'Image' : kind === 'DOCUMENT' ? 'Document' : 'Image or Document'} matches the given query.` } },
    variables: (call) => {
      states.set(call, { selected: selectFields(spec, 'detail', single(call.query.fields)), spec });
      return { id: call.params.id };
    },
    shape: (asset, call) => {
      if (kind && asset.kind !== kind) throw wagtailError(404, `No ${kind === 'IMAGE' ? 'Image' : 'Document'} matches the given query.`);
      return represent(spec, stateOf(call).selected, assetValues(asset, call, endpoint));
    },
    response: MEDIA_ITEM[endpoint],
  };
  return [list, retrieve];
}

/** Every field of an image or document (what an upload answers). */
const ALL_MEDIA_FIELDS = new Set([...MEDIA_SPEC.media.body, ...MEDIA_SPEC.media.meta]);

const upload: RestRoute = {
  ...base,
  auth: 'required',
  method: 'POST',
  path: '/wagtail/media',
  id: 'wagtailMediaUpload',
  summary: 'Upload an image or a document (editors)',
  description:
    'Multipart, one `file` part (and optional `title`/`altText` and `tags` fields, before the file). Streamed to the ' +
    "CMS subgraph's `POST /media`, never held whole in the gateway; the type is detected from the bytes " +
    '(PNG, JPEG, GIF, WebP, AVIF images; PDF and Office documents) and the size limited by MEDIA_MAX_BYTES. ' +
    'Answers the new image or document with every field.',
  kind: 'stream',
  target: {
    subgraph: 'cms',
    path: '/media',
    forward: ['content-type', 'content-length'],
    response: 'json',
    requestBody: {
      contentType: 'multipart/form-data',
      schema: named('WagtailMediaUpload', {
        type: 'object',
        properties: {
          title: { type: 'string', maxLength: 500, description: 'Alt text (also `altText` or `alt`)' },
          tags: { type: 'string', description: 'Comma-separated, at most 20' },
          file: { type: 'string', format: 'binary', contentMediaType: 'application/octet-stream' },
        },
        required: ['file'],
      }),
    },
  },
  status: 201,
  shape: (asset, call) => represent(MEDIA_SPEC.media, ALL_MEDIA_FIELDS, assetValues(asset, call, 'media')),
  response: MEDIA_ITEM.media,
};

const files: RestRoute = {
  ...base,
  auth: 'none',
  method: 'GET',
  // `{filename*}`: a stored name can be longer than Fastify's 100 characters of a parameter.
  path: '/wagtail/media/files/{tenant}/{asset}/{filename*}',
  id: 'wagtailMediaFile',
  summary: 'The bytes of an image or document (`download_url`)',
  description:
    "Streamed from the CMS subgraph's `GET /media/...`: public to whoever has the URL (it holds the asset's random id), " +
    'cacheable for a year, `ETag` (SHA-256) with `If-None-Match` answered 304.',
  kind: 'stream',
  target: {
    subgraph: 'cms',
    path: '/media/{tenant}/{asset}/{filename}',
    forward: ['if-none-match'],
    response: 'raw',
    passBack: ['content-type', 'content-length', 'cache-control', 'etag', 'last-modified', 'content-disposition', 'x-content-type-options', 'content-security-policy'],
    rawResponse: { contentType: '*/*', description: 'The file, with its detected content type' },
  },
};

// --- Snippets ("content") ----------------------------------------------------------------------

const SNIPPET_SPEC: FieldSpec = {
  body: ['id', 'key', 'title', 'body', 'created_at', 'updated_at'],
  meta: ['type', 'detail_url'],
  listing: ['id', 'type', 'detail_url', 'key', 'title'],
};

// --- Blocks (StreamField) ------------------------------------------------------------------------

const BLOCK_FIELDS = `fragment RestWagtailLeafBlock on ContentBlock {
  __typename id
  ... on HeadingBlock { text level }
  ... on ParagraphBlock { html }
  ... on ImageBlock { caption altText image { id kind filename width height altText url } }
  ... on ProductBlock { caption product { id channel } }
  ... on CallToActionBlock { text url style }
  ... on QuoteBlock { text attribution }
  ... on EmbedBlock { url title }
}
fragment RestWagtailBlock on ContentBlock {
  ...RestWagtailLeafBlock
  ... on SnippetBlock { snippet { id key title body { ...RestWagtailLeafBlock } } }
}`;

const BLOCK_TYPES: Record<string, string> = {
  HeadingBlock: 'heading',
  ParagraphBlock: 'paragraph',
  ImageBlock: 'image',
  ProductBlock: 'product',
  CallToActionBlock: 'call_to_action',
  QuoteBlock: 'quote',
  EmbedBlock: 'embed',
  SnippetBlock: 'snippet',
};

/** A related image as Wagtail nests one (its nested default fields, plus the size). */
function nestedImage(asset: any, call: RestCall) {
  if (!asset) return null;
  const image = asset.kind === 'IMAGE';
  return {
    id: asset.id,
    meta: {
      type: image ? IMAGE_TYPE : DOCUMENT_TYPE,
      detail_url: call.url(`/wagtail/${image ? 'images' : 'documents'}/${asset.id}/`),
      download_url: downloadUrl(call, asset.url),
    },
    title: asset.altText || asset.filename,
    ...(image ? { width: asset.width, height: asset.height } : {}),
  };
}

/** One block -> Wagtail's StreamField API shape `{"type", "value", "id"}`. */
function block(b: any, call: RestCall): { type: string; value: unknown; id: string } {
  const type = BLOCK_TYPES[b.__typename] ?? String(b.__typename);
  let value: unknown;
  switch (b.__typename) {
    case 'HeadingBlock':
      value = { text: b.text, level: b.level };
      break;
    case 'ParagraphBlock':
      value = b.html;
      break;
    case 'ImageBlock':
      value = { image: nestedImage(b.image, call), caption: b.caption ?? null, alt_text: b.altText ?? null };
      break;
    case 'ProductBlock':
      value = { product: b.product ? { id: b.product.id, channel: b.product.channel ?? null } : null, caption: b.caption ?? null };
      break;
    case 'CallToActionBlock':
      value = { text: b.text, url: b.url, style: String(b.style).toLowerCase() };
      break;
    case 'QuoteBlock':
      value = { text: b.text, attribution: b.attribution ?? null };
      break;
    case 'EmbedBlock':
      value = { url: b.url, title: b.title ?? null };
      break;
    case 'SnippetBlock':
      value = b.snippet
        ? {
            id: b.snippet.id,
            meta: { type: SNIPPET_TYPE, detail_url: call.url(`/wagtail/content/${b.snippet.id}/`) },
            key: b.snippet.key,
            title: b.snippet.title,
            body: (b.snippet.body ?? []).map((inner: any) => block(inner, call)),
          }
        : null;
      break;
    default:
      value = null;
  }
  return { type, value, id: b.id };
}

const BLOCK_SCHEMA: JsonSchema = named('WagtailBlock', {
  type: 'object',
  description: 'A StreamField block: `heading`, `paragraph` (HTML), `image`, `product`, `call_to_action`, `quote`, `embed` or `snippet`.',
  properties: {
    type: { enum: Object.values(BLOCK_TYPES) },
    value: { description: 'Per type; null for a deleted image or snippet' },
    id: { type: 'string' },
  },
  required: ['type', 'value', 'id'],
});

// --- Snippet routes ------------------------------------------------------------------------------

function snippetValues(snippet: any, call: RestCall): Record<string, () => unknown> {
  return {
    id: () => snippet.id,
    type: () => SNIPPET_TYPE,
    detail_url: () => call.url(`/wagtail/content/${snippet.id}/`),
    key: () => snippet.key,
    title: () => snippet.title,
    body: () => (snippet.body ?? []).map((b: any) => block(b, call)),
    created_at: () => snippet.createdAt,
    updated_at: () => snippet.updatedAt,
  };
}

const SNIPPET_FIELDS = `fragment RestWagtailSnippet on Snippet { id key title createdAt updatedAt body @include(if: $body) { ...RestWagtailLeafBlock } }`;
const LEAF_ONLY = BLOCK_FIELDS.slice(0, BLOCK_FIELDS.indexOf('fragment RestWagtailBlock'));

const SNIPPET_ITEM = named('WagtailSnippet', {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    meta: { type: 'object', properties: { type: { const: SNIPPET_TYPE }, detail_url: { type: 'string', format: 'uri' } } },
    key: { type: 'string' },
    title: { type: 'string' },
    body: { type: 'array', items: BLOCK_SCHEMA },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
  required: ['id'],
});

const snippetRoutes: RestRoute[] = [
  {
    ...base,
    auth: 'required',
    method: 'GET',
    path: '/wagtail/content',
    id: 'wagtailContentList',
    summary: 'List snippets (reusable content), by key',
    operation: `query RestWagtailSnippets($search: String, $key: String, $first: Int!, $after: String, $body: Boolean!) {
      snippets(search: $search, key: $key, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { ...RestWagtailSnippet } }
      }
    }
    ${SNIPPET_FIELDS}
    ${LEAF_ONLY}`,
    root: 'snippets',
    paginate: 'offset',
    query: {
      search: { ...SEARCH_PARAM, description: 'Matches the key and the title' },
      key: { schema: { type: 'string', maxLength: 100 }, description: 'The snippet with this key' },
      fields: FIELDS_PARAM,
    },
    variables: (call) => {
      checkQuery(call.query, ['search', 'key'], ['order', 'search_operator']);
      const selected = selectFields(SNIPPET_SPEC, 'listing', single(call.query.fields));
      states.set(call, { selected, spec: SNIPPET_SPEC });
      return { search: single(call.query.search)?.trim() || null, key: single(call.query.key)?.trim() || null, body: selected.has('body') };
    },
    shape: (connection: ConnectionValue<any>, call) => {
      const { selected } = stateOf(call);
      return listing(connection.totalCount ?? 0, connection.edges.map((edge) => represent(SNIPPET_SPEC, selected, snippetValues(edge.node, call))));
    },
    response: listingSchema('WagtailSnippetListing', SNIPPET_ITEM),
  },
  {
    ...base,
    auth: 'required',
    method: 'GET',
    path: '/wagtail/content/{id}',
    id: 'wagtailContentRetrieve',
    summary: 'One snippet, with its body',
    operation: `query RestWagtailSnippet($id: ID!, $body: Boolean!) { snippet(id: $id) { ...RestWagtailSnippet } }
    ${SNIPPET_FIELDS}
    ${LEAF_ONLY}`,
    root: 'snippet',
    query: { fields: FIELDS_PARAM },
    errors: { NOT_FOUND: { status: 404, detail: 'No Snippet matches the given query.' } },
    variables: (call) => {
      const selected = selectFields(SNIPPET_SPEC, 'detail', single(call.query.fields));
      states.set(call, { selected, spec: SNIPPET_SPEC });
      return { id: call.params.id, body: selected.has('body') };
    },
    shape: (snippet, call) => represent(SNIPPET_SPEC, stateOf(call).selected, snippetValues(snippet, call)),
    response: SNIPPET_ITEM,
  },
];

// --- Pages -----------------------------------------------------------------------------------------

type PageStatus = 'published' | 'draft' | 'all';

/** Whose pages a call reads, and at which revision. */
interface PageScope {
  status: PageStatus;
  /** Latest revisions of the caller's tenant (`contentPage(s)`), not a site's live pages. */
  drafts: boolean;
  /** The caller's own tenant: editorial fields (`meta.status`) are readable. */
  own: boolean;
  /** The site whose live pages are read (null: the caller's tenant has no site: nothing is live). */
  site: string | null;
  /** `?site=` as given (kept in links). */
  siteParam: string | undefined;
}

export const SITE_QUERY = 'query RestWagtailSite { contentSite { siteKey tenantSlug } }';
const SITE_REQUIRED = 'site is required without a token: ?site=<site key or tenant slug>';

async function pageScope(call: RestCall): Promise<PageScope> {
  const rawStatus = single(call.query.status);
  const status = (rawStatus ?? 'published') as PageStatus;
  if (!['published', 'draft', 'all'].includes(status)) throw wagtailError(400, 'status must be one of: published, draft, all');
  const siteParam = single(call.query.site)?.trim() || undefined;
  if (!call.principal.accountId || !call.principal.tenantId) {
    if (status !== 'published') throw notAuthenticated('wagtail');
    if (!siteParam) throw wagtailError(400, SITE_REQUIRED);
    return { status, drafts: false, own: false, site: siteParam, siteParam };
  }
  if (status !== 'published' && !siteParam) return { status, drafts: true, own: true, site: null, siteParam };
  const { contentSite } = await call.graphql<{ contentSite: { siteKey: string; tenantSlug: string | null } | null }>(SITE_QUERY);
  const own = !siteParam || (contentSite !== null && (siteParam === contentSite.siteKey || siteParam === contentSite.tenantSlug));
  if (status !== 'published') {
    if (!own) throw wagtailError(403, "Drafts are readable for your own tenant's site only.");
    return { status, drafts: true, own: true, site: null, siteParam };
  }
  return { status, drafts: false, own, site: own ? (contentSite?.siteKey ?? null) : siteParam, siteParam };
}

const PAGE_META = ['type', 'detail_url', 'html_url', 'slug', 'show_in_menus', 'seo_title', 'search_description', 'first_published_at', 'alias_of', 'parent', 'locale'];

/**
 * The fields of a page: Wagtail's page fields, `body` and `featured_products` when the type is
 * `cms.ContentPage` (always in a detail view: Wagtail serialises the specific page there), and
 * the admin API's `meta.status` for the caller's own pages (shown by default with `?status=`).
 */
function pageSpec(specific: boolean, scope: PageScope): FieldSpec {
  return {
    body: ['id', 'title', ...(specific ? ['body', 'featured_products'] : [])],
    meta: [...PAGE_META, ...(scope.own ? ['status'] : [])],
    listing: ['id', 'type', 'detail_url', 'title', 'html_url', 'slug', 'first_published_at', ...(scope.drafts ? ['status'] : [])],
    detailOnly: ['parent'],
    // Wagtail without i18n leaves `locale` out of detail views (it is available on request).
    detailHidden: ['locale', ...(scope.drafts ? [] : ['status'])],
  };
}

/** `?site=` and `?status=` of the call, for links to pages that must open the same way. */
function pageLink(call: RestCall, scope: PageScope, id: string) {
  const params = new URLSearchParams();
  if (scope.siteParam) params.set('site', scope.siteParam);
  if (scope.status !== 'published') params.set('status', scope.status);
  const query = params.toString();
  return call.url(`/wagtail/pages/${id}/${query ? `?${query}` : ''}`);
}

const htmlUrl = (urlPath: string) => `${urlPath}/`;

/** Wagtail admin's `status_string`, with `live` and `has_unpublished_changes`. */
function editorialStatus(page: any) {
  const live = Boolean(page.liveRevision);
  const scheduled = page.status === 'SCHEDULED';
  const changes = Boolean(page.hasUnpublishedChanges);
  const text = live ? (scheduled ? 'live + scheduled' : changes ? 'live + draft' : 'live') : scheduled ? 'scheduled' : 'draft';
  return { status: text, live, has_unpublished_changes: changes };
}

function pageValues(page: any, call: RestCall, scope: PageScope): Record<string, () => unknown> {
  return {
    id: () => page.id,
    title: () => page.title,
    type: () => PAGE_TYPE,
    detail_url: () => pageLink(call, scope, page.id),
    html_url: () => htmlUrl(page.urlPath),
    slug: () => page.slug,
    show_in_menus: () => true,
    seo_title: () => page.seoTitle ?? '',
    search_description: () => page.seoDescription ?? '',
    first_published_at: () => page.firstPublishedAt ?? null,
    alias_of: () => null,
    parent: () =>
      page.parent
        ? { id: page.parent.id, meta: { type: PAGE_TYPE, detail_url: pageLink(call, scope, page.parent.id), html_url: htmlUrl(page.parent.urlPath) }, title: page.parent.title }
        : null,
    locale: () => page.locale,
    status: () => editorialStatus(page),
    body: () => (page.body ?? []).map((b: any) => block(b, call)),
    featured_products: () => (page.featuredProducts ?? []).map((p: any) => ({ id: p.id, channel: p.channel ?? null })),
  };
}

const PAGE_FIELDS = `fragment RestWagtailPage on ContentPage {
  id title slug urlPath locale seoTitle seoDescription firstPublishedAt
  body @include(if: $body) { ...RestWagtailBlock }
  featuredProducts @include(if: $products) { id channel }
  status @include(if: $editorial)
  hasUnpublishedChanges @include(if: $editorial)
  liveRevision @include(if: $editorial) { id }
}
${BLOCK_FIELDS}`;

/** The variables that decide which parts of a page the operation fetches. */
const pageParts = (selected: Set<string>) => ({
  body: selected.has('body'),
  products: selected.has('featured_products'),
  editorial: selected.has('status'),
});

/** `?order=` -> the graph's sort. */
const PAGE_ORDER: Record<string, string> = {
  title: 'TITLE',
  slug: 'SLUG',
  first_published_at: 'FIRST_PUBLISHED_AT',
  html_url: 'URL_PATH',
  id: 'CREATED_AT',
};
function pageOrder(raw: string | undefined) {
  if (raw === undefined) return null;
  if (raw === 'random') throw wagtailError(400, 'random ordering is not supported');
  const descending = raw.startsWith('-');
  const name = descending ? raw.slice(1) : raw;
  const field = PAGE_ORDER[name];
  if (!field) throw wagtailError(400, `cannot order by '${name}' (unknown field)`);
  return { field, direction: descending ? 'DESC' : 'ASC' };
}

const PAGE_ITEM = named('WagtailPage', {
  type: 'object',
  description: 'Fields per `?fields=` (listing defaults: id, type, detail_url, title, html_url, slug, first_published_at; detail: all but locale).',
  properties: {
    id: { type: 'string', format: 'uuid' },
    meta: {
      type: 'object',
      properties: {
        type: { const: PAGE_TYPE },
        detail_url: { type: 'string', format: 'uri' },
        html_url: { type: 'string', description: "The page's path on its site" },
        slug: { type: 'string' },
        show_in_menus: { type: 'boolean' },
        seo_title: { type: 'string' },
        search_description: { type: 'string' },
        first_published_at: { type: ['string', 'null'], format: 'date-time' },
        alias_of: { type: 'null' },
        parent: {
          type: ['object', 'null'],
          properties: {
            id: { type: 'string', format: 'uuid' },
            meta: { type: 'object', properties: { type: { const: PAGE_TYPE }, detail_url: { type: 'string', format: 'uri' }, html_url: { type: 'string' } } },
            title: { type: 'string' },
          },
        },
        locale: { type: 'string' },
        status: {
          type: 'object',
          description: "Members' own pages (`?status=draft|all` shows it by default)",
          properties: { status: { type: 'string' }, live: { type: 'boolean' }, has_unpublished_changes: { type: 'boolean' } },
          required: ['status', 'live', 'has_unpublished_changes'],
        },
      },
    },
    title: { type: 'string' },
    body: { type: 'array', items: BLOCK_SCHEMA },
    featured_products: {
      type: 'array',
      items: { type: 'object', properties: { id: { type: 'string' }, channel: { type: ['string', 'null'] } }, required: ['id', 'channel'] },
    },
  },
  required: ['id'],
});

const SITE_PARAM: QueryParam = { schema: { type: 'string', maxLength: 100 }, description: "The site: its key or tenant slug (required without a token; default: your tenant's)" };
const STATUS_PARAM: QueryParam = {
  schema: { enum: ['published', 'draft', 'all'] },
  description: '`published` (default): live pages at their published revision. Members of the site\'s tenant: `draft` (pages not live) or `all`, at their latest revision.',
};

const pageRoutes: RestRoute[] = [
  {
    ...base,
    auth: 'optional',
    method: 'GET',
    path: '/wagtail/pages',
    id: 'wagtailPagesList',
    summary: 'List pages (live pages of a site; drafts for members with ?status=)',
    description:
      'Wagtail API v2 pages listing. Anonymous callers name the site (`?site=`); a member reads its own site without it. ' +
      '`?type=cms.ContentPage` makes `body` and `featured_products` available to `?fields=`.',
    operation: `query RestWagtailPages(
      $site: String!, $drafts: Boolean!, $published: PublishedContentPageFilterInput, $filter: ContentPageFilterInput,
      $sortBy: ContentPageSort, $first: Int!, $after: String, $body: Boolean!, $products: Boolean!, $editorial: Boolean!
    ) {
      pages: publishedContentPages(site: $site, filter: $published, sortBy: $sortBy, first: $first, after: $after) @skip(if: $drafts) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { ...RestWagtailPage } }
      }
      drafts: contentPages(filter: $filter, sortBy: $sortBy, first: $first, after: $after) @include(if: $drafts) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { ...RestWagtailPage } }
      }
    }
    ${PAGE_FIELDS}`,
    root: ['pages', 'drafts'],
    paginate: 'offset',
    errors: { NOT_FOUND: { status: 400, detail: "site doesn't exist" } },
    query: {
      type: { schema: { type: 'string' }, description: `\`${PAGE_TYPE}\` (its fields become available) or \`${BASE_PAGE_TYPE}\`` },
      child_of: { schema: { type: 'string' }, description: 'Children of this page id; `root`: top-level pages' },
      slug: { schema: { type: 'string', maxLength: 100 }, description: 'Pages with this slug' },
      locale: { schema: { type: 'string', maxLength: 35 }, description: 'Pages in this locale (e.g. `en`)' },
      show_in_menus: { schema: { type: 'boolean' }, description: 'Every page counts as shown in menus' },
      search: SEARCH_PARAM,
      search_operator: { schema: { enum: ['and'] }, description: 'Terms are combined with `and`' },
      order: { schema: { type: 'string' }, description: '`title`, `slug`, `first_published_at`, `html_url` or `id`; `-` for descending' },
      site: SITE_PARAM,
      status: STATUS_PARAM,
      fields: FIELDS_PARAM,
    },
    variables: async (call) => {
      const types = parseTypes(single(call.query.type), [BASE_PAGE_TYPE, PAGE_TYPE]);
      checkQuery(
        call.query,
        ['type', 'child_of', 'slug', 'locale', 'show_in_menus', 'search', 'search_operator', 'order', 'site', 'status'],
        ['descendant_of', 'ancestor_of', 'translation_of'],
      );
      const scope = await pageScope(call);
      const specific = types?.length === 1 && types[0] === PAGE_TYPE;
      const spec = pageSpec(specific, scope);
      const selected = selectFields(spec, 'listing', single(call.query.fields));
      states.set(call, { selected, scope, spec });

      const filter: Record<string, unknown> = {};
      const childOf = single(call.query.child_of);
      if (childOf === 'root') filter.topLevel = true;
      else if (childOf !== undefined) {
        if (!isUuid(childOf)) throw wagtailError(400, "child_of must be a page id or 'root'");
        filter.parentId = childOf;
      }
      const slug = single(call.query.slug);
      if (slug !== undefined) filter.slug = slug;
      const locale = single(call.query.locale);
      if (locale !== undefined) filter.locale = locale;
      const search = single(call.query.search);
      if (search?.trim()) filter.search = search;
      const operator = single(call.query.search_operator);
      if (operator !== undefined && operator !== 'and') throw wagtailError(400, `search_operator '${operator}' is not supported: terms are combined with 'and'`);
      const menus = single(call.query.show_in_menus);
      const sortBy = pageOrder(single(call.query.order));
      // Nothing to list: no page is hidden from menus; a member's tenant without a site has no live pages.
      if ((menus !== undefined && !parseBoolean('show_in_menus', menus)) || (!scope.drafts && !scope.site)) return null;
      if (scope.status === 'draft') filter.status = 'DRAFT';
      const some = Object.keys(filter).length > 0;
      return {
        site: scope.site ?? '',
        drafts: scope.drafts,
        published: !scope.drafts && some ? filter : null,
        filter: scope.drafts && some ? filter : null,
        sortBy,
        ...pageParts(selected),
      };
    },
    shape: (connection: ConnectionValue<any> | null, call) => {
      const { selected, scope, spec } = stateOf(call);
      if (!connection) return listing(0, []);
      return listing(connection.totalCount ?? 0, connection.edges.map((edge) => represent(spec, selected, pageValues(edge.node, call, scope!))));
    },
    response: listingSchema('WagtailPageListing', PAGE_ITEM),
  },
  {
    ...base,
    auth: 'optional',
    method: 'GET',
    path: '/wagtail/pages/{id}',
    id: 'wagtailPagesRetrieve',
    summary: 'One page, with its body (live; members: its latest revision with ?status=draft|all)',
    operation: `query RestWagtailPage(
      $site: String!, $id: ID!, $drafts: Boolean!, $body: Boolean!, $products: Boolean!, $editorial: Boolean!, $parent: Boolean!
    ) {
      page: publishedContentPage(site: $site, id: $id) @skip(if: $drafts) {
        ...RestWagtailPage
        parent @include(if: $parent) { id title urlPath }
      }
      draft: contentPage(id: $id) @include(if: $drafts) {
        ...RestWagtailPage
        parent @include(if: $parent) { id title urlPath }
      }
    }
    ${PAGE_FIELDS}`,
    root: ['page', 'draft'],
    errors: { NOT_FOUND: { status: 404, detail: 'No Page matches the given query.' } },
    query: { site: SITE_PARAM, status: STATUS_PARAM, fields: FIELDS_PARAM },
    variables: async (call) => {
      const scope = await pageScope(call);
      const spec = pageSpec(true, scope);
      const selected = selectFields(spec, 'detail', single(call.query.fields));
      states.set(call, { selected, scope, spec });
      if (!scope.drafts && !scope.site) throw wagtailError(404, 'No Page matches the given query.');
      return { site: scope.site ?? '', id: call.params.id, drafts: scope.drafts, parent: selected.has('parent'), ...pageParts(selected) };
    },
    shape: (page, call) => {
      const { selected, scope, spec } = stateOf(call);
      return represent(spec, selected, pageValues(page, call, scope!));
    },
    response: PAGE_ITEM,
  },
];

export const wagtailRoutes: RestRoute[] = [...pageRoutes, ...snippetRoutes, ...mediaRoutes('media'), upload, files, ...mediaRoutes('images'), ...mediaRoutes('documents')];
