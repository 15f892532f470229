import type { GraphQLResolveInfo } from 'graphql';
import { accountField, asksForAccountEmail } from '../kit/accounts.ts';
import { CacheGenerations, setCacheHint } from '../kit/cache.ts';
import { listConnection, toListRequest, toPage, type PageArgs } from '../kit/connection.ts';
import { ONE_STATEMENT } from '../kit/db/database.ts';
import { pageStatements } from '../kit/db/list.ts';
import { badInput, notFound } from '../kit/errors.ts';
import { isUuid } from '../kit/formats.ts';
import { payloadOf } from '../kit/mutations/payload.ts';
import { prefixQuery, type BlockData } from './blocks.ts';
import type { ContentPageSort, ContentPageStatus, MediaAssetKind, Resolvers } from './__generated__/resolvers-types.ts';
import type { CmsContext, ScopedLoaders } from './loaders.ts';
import type { ContentPageModel, Scope, SnippetModel } from './mappers.ts';
import { deleteAsset, mediaUrl, updateAsset } from './media.ts';
import type { Outcome } from './mutations.ts';
import * as pages from './pages.ts';
import * as snippets from './snippets.ts';
import * as store from './store.ts';

const BLOCK_TYPES = {
  heading: 'HeadingBlock',
  paragraph: 'ParagraphBlock',
  image: 'ImageBlock',
  product: 'ProductBlock',
  call_to_action: 'CallToActionBlock',
  quote: 'QuoteBlock',
  embed: 'EmbedBlock',
  snippet: 'SnippetBlock',
} as const;

/** The loaders of an object's scope: the caller's (draft) or its public site's (live). */
const loadersOf = (ctx: CmsContext, scope: Scope): ScopedLoaders => (scope.view === 'live' ? ctx.loaders.site(scope.tenant_id) : ctx.loaders);

const asPage = (row: store.PageWithContent, view: store.View): ContentPageModel => ({ ...row, view });
const asSnippet = (row: store.SnippetRow, view: store.View): SnippetModel => ({ ...row, view });
const blocksOf = (blocks: readonly BlockData[], scope: Scope) => blocks.map((block) => ({ ...block, tenant_id: scope.tenant_id, view: scope.view }));

function exactlyOne(args: Record<string, unknown>) {
  const given = Object.entries(args).filter(([, v]) => v != null);
  if (given.length !== 1) throw badInput(`Give exactly one of ${Object.keys(args).join(', ')}.`);
}

const STATUS = { DRAFT: 'draft', PUBLISHED: 'published', SCHEDULED: 'scheduled' } as const;
const KIND = { IMAGE: 'image', DOCUMENT: 'document' } as const;

function uuidArg(value: string | null | undefined, field: string): string | null {
  if (value == null) return null;
  if (!isUuid(value)) throw badInput(`"${field}" is not a valid id.`, field);
  return value.toLowerCase();
}

function pathArg(path: string): string {
  const normalized = pages.normalizePath(path);
  if (!normalized) throw badInput('A path is slugs separated by "/", e.g. "/about/team".', 'path');
  return normalized;
}

/** Public reads: the tenant of a site key or tenant slug, or NOT_FOUND. */
async function siteTenant(ctx: CmsContext, site: string, info: GraphQLResolveInfo): Promise<string> {
  const found = site.length <= 100 ? await ctx.deps.db.withTenant({ tenantId: null, accountId: null }, (tx) => store.resolveSite(tx, site)) : null;
  if (!found) throw notFound('Site');
  // A member of another tenant reading this site is cached under their own tenant, whose
  // generation this site's writes do not bump: do not cache that answer.
  if (ctx.principal.tenantId && ctx.principal.tenantId !== found.tenant_id) setCacheHint(info, { maxAge: 0 });
  return found.tenant_id;
}

/** Public (anonymous) answers are cached under no tenant: a write that can change them bumps that too. */
async function bumpPublic(ctx: CmsContext) {
  await new CacheGenerations(ctx.deps.redis, ctx.deps.config.REDIS_PREFIX, 'cms').bump(null);
}

async function pagePayload(ctx: CmsContext, outcome: Outcome<string>) {
  if (!outcome.value) return { contentPage: null, errors: outcome.errors };
  await bumpPublic(ctx);
  const row = await ctx.loaders.page.clear(outcome.value).load(outcome.value);
  return { contentPage: row ? asPage(row, 'draft') : null, errors: [] };
}

const snippetPayload = (outcome: Outcome<store.SnippetRow>) => ({
  snippet: outcome.value && asSnippet(outcome.value, 'draft'),
  errors: outcome.errors,
});

async function deletePayload(ctx: CmsContext, outcome: Outcome<string>) {
  if (outcome.value) await bumpPublic(ctx);
  return payloadOf('deletedId', outcome);
}

function pageFilter(
  filter: { status?: ContentPageStatus | null; parentId?: string | null; topLevel?: boolean | null; locale?: string | null; search?: string | null; slug?: string | null } | null | undefined,
): store.PageFilter {
  return {
    status: filter?.status ? STATUS[filter.status] : null,
    parentId: uuidArg(filter?.parentId, 'parentId'),
    topLevel: filter?.topLevel ?? null,
    locale: filter?.locale?.trim() || null,
    tsquery: filter?.search ? prefixQuery(filter.search) : null,
    slug: filter?.slug?.trim().toLowerCase() || null,
  };
}

function pageSort(sort: ContentPageSort | null | undefined): store.PageSort | null {
  if (!sort) return null;
  return { field: sort.field.toLowerCase() as store.PageSortField, direction: sort.direction === 'DESC' ? 'desc' : 'asc' };
}

async function pageConnection(
  ctx: CmsContext,
  info: GraphQLResolveInfo,
  tenantId: string | null,
  view: store.View,
  filter: store.PageFilter,
  args: PageArgs & { sortBy?: ContentPageSort | null },
) {
  const page = toListRequest(args, info);
  const sort = pageSort(args.sortBy);
  const run = tenantId ? ctx.loaders.site(tenantId).tx : ctx.tx;
  return listConnection(await run((tx) => store.pagesPage(tx, view, filter, page, sort), pageStatements(page)), page, (row) => asPage(row, view));
}

export const resolvers: Resolvers = {
  Query: {
    contentPages: (_root, args, ctx, info) => pageConnection(ctx, info, null, 'draft', pageFilter(args.filter), args),
    contentPage: async (_root, args, ctx, info) => {
      exactlyOne({ id: args.id, path: args.path });
      const authorEmail = !args.id && asksForAccountEmail(info, ['author']);
      const row = args.id
        ? isUuid(args.id)
          ? await ctx.loaders.page.load(args.id.toLowerCase())
          : null
        : await ctx.tx((tx) => store.pageByPath(tx, 'draft', pathArg(args.path!), authorEmail), ONE_STATEMENT);
      if (!row) throw notFound('Content page');
      return asPage(row, 'draft');
    },
    snippets: async (_root, args, ctx, info) => {
      const page = toListRequest(args, info);
      const list = await ctx.tx((tx) => store.snippetsPage(tx, args.search?.trim() || null, page, args.key?.trim() || null), pageStatements(page));
      return listConnection(list, page, (row) => asSnippet(row, 'draft'));
    },
    snippet: async (_root, args, ctx) => {
      exactlyOne({ id: args.id, key: args.key });
      const row = args.id ? (isUuid(args.id) ? await ctx.loaders.snippet.load(args.id.toLowerCase()) : null) : await ctx.tx((tx) => store.snippetByKey(tx, args.key!));
      if (!row) throw notFound('Snippet');
      return asSnippet(row, 'draft');
    },
    mediaAssets: async (_root, args, ctx, info) => {
      const page = toListRequest(args, info);
      const filter = {
        kind: args.filter?.kind ? KIND[args.filter.kind] : null,
        tag: args.filter?.tag?.trim() || null,
        search: args.filter?.search?.trim() || null,
      };
      return listConnection(await ctx.tx((tx) => store.assetsPage(tx, filter, page), pageStatements(page)), page);
    },
    mediaAsset: async (_root, args, ctx) => {
      const row = isUuid(args.id) ? await ctx.loaders.asset.load(args.id.toLowerCase()) : null;
      if (!row) throw notFound('Media asset');
      return row;
    },
    contentSite: (_root, _args, ctx) => ctx.tx((tx) => store.currentSite(tx)),

    publishedContentPage: async (_root, args, ctx, info) => {
      exactlyOne({ path: args.path, id: args.id });
      const tenantId = await siteTenant(ctx, args.site, info);
      const row = args.id
        ? isUuid(args.id)
          ? await ctx.loaders.site(tenantId).page.load(args.id.toLowerCase())
          : null
        : await ctx.loaders.site(tenantId).tx((tx) => store.pageByPath(tx, 'live', pathArg(args.path!)), ONE_STATEMENT);
      if (!row) throw notFound('Content page');
      return asPage(row, 'live');
    },
    publishedContentPages: async (_root, args, ctx, info) => {
      const tenantId = await siteTenant(ctx, args.site, info);
      const filter: store.PageFilter = {
        parentPath: args.filter?.parentPath ? pathArg(args.filter.parentPath) : null,
        parentId: uuidArg(args.filter?.parentId, 'parentId'),
        topLevel: args.filter?.topLevel ?? null,
        locale: args.filter?.locale?.trim() || null,
        tsquery: args.filter?.search ? prefixQuery(args.filter.search) : null,
        slug: args.filter?.slug?.trim().toLowerCase() || null,
      };
      return pageConnection(ctx, info, tenantId, 'live', filter, args);
    },
  },

  Mutation: {
    createContentPage: async (_root, { input }, ctx) => pagePayload(ctx, await pages.createPage(ctx, input)),
    updateContentPage: async (_root, args, ctx) => pagePayload(ctx, await pages.updatePage(ctx, args.id, args.input)),
    moveContentPage: async (_root, args, ctx) => pagePayload(ctx, await pages.movePage(ctx, args.id, args.parentId, args.position)),
    publishContentPage: async (_root, args, ctx) => pagePayload(ctx, await pages.publishPage(ctx, args.id, args.revisionId)),
    unpublishContentPage: async (_root, args, ctx) => pagePayload(ctx, await pages.unpublishPage(ctx, args.id)),
    revertContentPage: async (_root, args, ctx) => pagePayload(ctx, await pages.revertPage(ctx, args.id, args.revisionId)),
    scheduleContentPage: async (_root, args, ctx) => pagePayload(ctx, await pages.schedulePage(ctx, args.id, args.at, args.revisionId)),
    cancelContentPageSchedule: async (_root, args, ctx) => pagePayload(ctx, await pages.cancelSchedule(ctx, args.id)),
    deleteContentPage: async (_root, args, ctx) => deletePayload(ctx, await pages.deletePage(ctx, args.id)),

    createSnippet: async (_root, { input }, ctx) => snippetPayload(await snippets.createSnippet(ctx, input)),
    updateSnippet: async (_root, args, ctx) => {
      const outcome = await snippets.updateSnippet(ctx, args.id, args.input);
      if (outcome.value) await bumpPublic(ctx);
      return snippetPayload(outcome);
    },
    deleteSnippet: async (_root, args, ctx) => deletePayload(ctx, await snippets.deleteSnippet(ctx, args.id)),

    updateMediaAsset: async (_root, args, ctx) => {
      const outcome = await updateAsset(ctx, args.id, args.input);
      if (outcome.value) await bumpPublic(ctx);
      return payloadOf('mediaAsset', outcome);
    },
    deleteMediaAsset: async (_root, args, ctx) => deletePayload(ctx, await deleteAsset(ctx, args.id)),
  },

  ContentPage: {
    __resolveReference: async (reference, ctx) => {
      const row = isUuid(reference.id) ? await ctx.loaders.page.load(reference.id.toLowerCase()) : null;
      return row && asPage(row, 'draft');
    },
    urlPath: (p) => p.url_path,
    seoTitle: (p) => p.seo_title,
    seoDescription: (p) => p.seo_description,
    body: (p) => blocksOf(p.body, p),
    featuredProducts: (p) => p.featured_products,
    parent: async (p, _args, ctx) => {
      if (!p.parent_id) return null;
      const row = await loadersOf(ctx, p).page.load(p.parent_id);
      return row && asPage(row, p.view);
    },
    children: async (p, args, ctx) => {
      const page = toPage(args);
      return listConnection(await loadersOf(ctx, p).children(page).load(p.id), page, (row) => asPage(row, p.view));
    },
    firstPublishedAt: (p) => p.first_published_at,
    lastPublishedAt: (p) => p.last_published_at,
    status: (p) => p.status.toUpperCase() as ContentPageStatus,
    publishAt: (p) => p.publish_at,
    hasUnpublishedChanges: (p) => p.latest_revision_id !== p.live_revision_id,
    author: accountField('author_id', 'author_email'),
    revisions: async (p, args, ctx) => {
      const page = toPage(args);
      return listConnection(await ctx.loaders.revisions(page).load(p.id), page);
    },
    latestRevision: (p, _args, ctx) => (p.latest_revision_id ? ctx.loaders.revision.load(p.latest_revision_id) : null),
    liveRevision: (p, _args, ctx) => (p.live_revision_id ? ctx.loaders.revision.load(p.live_revision_id) : null),
    scheduledRevision: (p, _args, ctx) => (p.scheduled_revision_id ? ctx.loaders.revision.load(p.scheduled_revision_id) : null),
    createdAt: (p) => p.created_at,
    updatedAt: (p) => p.updated_at,
  },

  ContentPageRevision: {
    seoTitle: (r) => r.seo_title,
    seoDescription: (r) => r.seo_description,
    body: (r) => blocksOf(r.body, { tenant_id: r.tenant_id, view: 'draft' }),
    featuredProducts: (r) => r.featured_products,
    createdBy: accountField('created_by'),
    createdAt: (r) => r.created_at,
    isLatest: async (r, _args, ctx) => (await ctx.loaders.page.load(r.page_id))?.latest_revision_id === r.id,
    isLive: async (r, _args, ctx) => (await ctx.loaders.page.load(r.page_id))?.live_revision_id === r.id,
  },

  ContentBlock: {
    __resolveType: (block) => BLOCK_TYPES[block.type],
  },
  ImageBlock: {
    image: (b, _args, ctx) => loadersOf(ctx, b).asset.load(b.assetId),
  },
  ProductBlock: {
    product: (b) => ({ id: b.productId, channel: b.channel }),
  },
  SnippetBlock: {
    snippet: async (b, _args, ctx) => {
      const row = await loadersOf(ctx, b).snippet.load(b.snippetId);
      return row && asSnippet(row, b.view);
    },
  },

  Snippet: {
    __resolveReference: async (reference, ctx) => {
      const row = isUuid(reference.id) ? await ctx.loaders.snippet.load(reference.id.toLowerCase()) : null;
      return row && asSnippet(row, 'draft');
    },
    body: (s) => blocksOf(s.body, s),
    createdAt: (s) => s.created_at,
    updatedAt: (s) => s.updated_at,
  },

  MediaAsset: {
    __resolveReference: (reference, ctx) => (isUuid(reference.id) ? ctx.loaders.asset.load(reference.id.toLowerCase()) : null),
    kind: (a) => a.kind.toUpperCase() as MediaAssetKind,
    mimeType: (a) => a.mime_type,
    size: (a) => Number(a.size_bytes),
    altText: (a) => a.alt_text,
    url: (a, _args, ctx) => mediaUrl(ctx.deps.settings, a),
    uploadedBy: accountField('uploaded_by'),
    createdAt: (a) => a.created_at,
  },

  ContentSite: {
    siteKey: (s) => s.site_key,
    tenantSlug: (s) => s.tenant_slug,
    saleorChannel: (s) => s.saleor_channel,
  },
};
