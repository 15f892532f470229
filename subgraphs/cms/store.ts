import { withAccountEmail } from '../kit/accounts.ts';
import type { ListRequest } from '../kit/connection.ts';
import { selectChildPages } from '../kit/db/child-pages.ts';
import type { Tx } from '../kit/db/database.ts';
import { readList } from '../kit/db/list.ts';
import { Params } from '../kit/db/params.ts';
import { selectByKeys } from '../kit/db/select-by-keys.ts';
import type { Table } from '../kit/db/table.ts';
import { CURRENT_TENANT } from '../kit/db/tenant.ts';
import { deleteRow } from '../kit/db/write-row.ts';
import type { BlockData, ProductRef } from './blocks.ts';

// All SQL of the CMS subgraph. Every function runs inside a tenant transaction (the caller's,
// or a public site's for storefront reads): row-level security decides which rows exist.

/** Which revision a page is read at: the latest draft (members) or the published one (public). */
export type View = 'draft' | 'live';
export type PageStatus = 'draft' | 'published' | 'scheduled';

export interface PageRow {
  tenant_id: string;
  id: string;
  parent_id: string | null;
  position: number;
  slug: string;
  url_path: string;
  depth: number;
  locale: string;
  author_id: string | null;
  latest_revision_id: string | null;
  live_revision_id: string | null;
  scheduled_revision_id: string | null;
  publish_at: Date | null;
  /** The job that publishes the scheduled revision (scheduler.ts); null when not scheduled. */
  publish_job_id: string | null;
  first_published_at: Date | null;
  last_published_at: Date | null;
  created_at: Date;
  updated_at: Date;
  status: PageStatus;
}

/** The content of the revision a page is read at. */
export interface PageContent {
  revision_id: string;
  title: string;
  seo_title: string | null;
  seo_description: string | null;
  body: BlockData[];
  featured_products: ProductRef[];
}

export type PageWithContent = PageRow &
  PageContent & {
    /** The author's email, when the read asked for it (`pageByPath`'s authorEmail; null: none or hidden). */
    author_email?: string | null;
  };

export interface RevisionRow {
  tenant_id: string;
  id: string;
  page_id: string;
  number: number;
  title: string;
  seo_title: string | null;
  seo_description: string | null;
  body: BlockData[];
  featured_products: ProductRef[];
  created_by: string | null;
  created_at: Date;
}

export interface SnippetRow {
  tenant_id: string;
  id: string;
  key: string;
  title: string;
  body: BlockData[];
  created_at: Date;
  updated_at: Date;
}

export interface AssetRow {
  tenant_id: string;
  id: string;
  kind: 'image' | 'document';
  filename: string;
  mime_type: string;
  size_bytes: string;
  checksum: string;
  width: number | null;
  height: number | null;
  alt_text: string | null;
  tags: string[];
  storage_key: string;
  uploaded_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface SiteRow {
  tenant_id: string;
  site_key: string;
  tenant_slug: string | null;
  name: string;
  saleor_channel: string | null;
}

const PAGE_COLUMNS = `p.tenant_id, p.id, p.parent_id, p.position, p.slug, p.url_path, p.depth, p.locale, p.author_id,
  p.latest_revision_id, p.live_revision_id, p.scheduled_revision_id, p.publish_at, p.publish_job_id, p.first_published_at,
  p.last_published_at, p.created_at, p.updated_at, p.status`;
const CONTENT_COLUMNS = 'r.id AS revision_id, r.title, r.seo_title, r.seo_description, r.body, r.featured_products';
const PAGES: Table = { name: 'cms.pages', columns: 'id' };
const REVISIONS: Table = {
  name: 'cms.page_revisions',
  columns: `tenant_id, id, page_id, number, title, seo_title, seo_description, body, featured_products,
  created_by, created_at`,
};
const SNIPPETS: Table = { name: 'cms.snippets', columns: 'tenant_id, id, key, title, body, created_at, updated_at' };
const ASSETS: Table = {
  name: 'cms.media_assets',
  columns: `tenant_id, id, kind, filename, mime_type, size_bytes, checksum, width, height, alt_text, tags,
  storage_key, uploaded_by, created_at, updated_at`,
};

/** Pages joined with the revision of the view (pages without a live revision drop out of `live`). */
const pagesWithContent = (view: View) =>
  `cms.pages p JOIN cms.page_revisions r ON r.tenant_id = p.tenant_id AND r.id = ${view === 'draft' ? 'p.latest_revision_id' : 'p.live_revision_id'}`;
/** One of each for the two views (statement texts built once). */
const byView = <T>(make: (view: View) => T): Record<View, T> => ({ draft: make('draft'), live: make('live') });
/** Pages with their content at each view, as the row helpers read them. */
const PAGE_CONTENT = byView((view): Table => ({ name: pagesWithContent(view), columns: `${PAGE_COLUMNS}, ${CONTENT_COLUMNS}` }));

// --- Sites -------------------------------------------------------------------------------

/** The tenant of a site key or tenant slug (SECURITY DEFINER: no tenant is set yet). */
export async function resolveSite(tx: Tx, site: string) {
  const { rows } = await tx.query<{ tenant_id: string; saleor_channel: string | null }>('SELECT * FROM cms.resolve_site($1)', [
    site,
  ]);
  return rows[0] ?? null;
}

/** The current tenant's site row. */
export async function currentSite(tx: Tx) {
  const { rows } = await tx.query<SiteRow>('SELECT tenant_id, site_key, tenant_slug, name, saleor_channel FROM cms.sites');
  return rows[0] ?? null;
}

// --- Pages: reads ------------------------------------------------------------------------

const PAGES_BY_IDS = byView((view) => selectByKeys<PageWithContent>(PAGE_CONTENT[view], { key: 'p.id' }));
export const pagesByIds = (tx: Tx, view: View, ids: readonly string[]) => PAGES_BY_IDS[view](tx, ids);

const PAGE_CONTENT_WITH_AUTHOR_EMAIL = byView((view) => withAccountEmail(PAGE_CONTENT[view], 'p.author_id', 'author_email'));

/** The page at `path`; `authorEmail`: also its author's email (`author_email`, kit/accounts.ts). */
export async function pageByPath(tx: Tx, view: View, path: string, authorEmail = false) {
  const table = (authorEmail ? PAGE_CONTENT_WITH_AUTHOR_EMAIL : PAGE_CONTENT)[view];
  const { rows } = await tx.query<PageWithContent>(`SELECT ${table.columns} FROM ${table.name} WHERE p.url_path = $1`, [path]);
  return rows[0] ?? null;
}

export interface PageFilter {
  status?: PageStatus | null;
  parentId?: string | null;
  /** Children of the page at this path (in the same view). */
  parentPath?: string | null;
  topLevel?: boolean | null;
  locale?: string | null;
  /** A to_tsquery('simple') expression (see blocks.prefixQuery). */
  tsquery?: string | null;
  slug?: string | null;
}

export type PageSortField = 'url_path' | 'title' | 'slug' | 'first_published_at' | 'last_published_at' | 'created_at' | 'updated_at';
export interface PageSort {
  field: PageSortField;
  direction: 'asc' | 'desc';
}

/** Sort columns (`title` is the revision's: the view decides which). */
const PAGE_SORT_COLUMNS: Record<PageSortField, string> = {
  url_path: 'p.url_path',
  title: 'r.title',
  slug: 'p.slug',
  first_published_at: 'p.first_published_at',
  last_published_at: 'p.last_published_at',
  created_at: 'p.created_at',
  updated_at: 'p.updated_at',
};

/**
 * One page of pages in a view, filtered (the total only when asked for). Ordered by `sort`
 * when given (ties by id), else by relevance with a search, sibling position with a parent,
 * URL path otherwise.
 */
export function pagesPage(tx: Tx, view: View, filter: PageFilter, page: ListRequest, sort: PageSort | null = null) {
  const where: string[] = [];
  const params = new Params();
  if (filter.status) where.push(`p.status = ${params.add(filter.status)}`);
  if (filter.parentId) {
    // In the live view the parent must be live too (as with `parentPath`).
    const parent = view === 'live' ? `AND EXISTS (SELECT 1 FROM cms.pages q WHERE q.id = p.parent_id AND q.live_revision_id IS NOT NULL)` : '';
    where.push(`p.parent_id = ${params.add(filter.parentId)} ${parent}`);
  }
  if (filter.slug) where.push(`p.slug = ${params.add(filter.slug)}`);
  if (filter.parentPath) {
    const parent = view === 'live' ? 'AND q.live_revision_id IS NOT NULL' : '';
    where.push(`p.parent_id = (SELECT q.id FROM cms.pages q WHERE q.url_path = ${params.add(filter.parentPath)} ${parent})`);
  }
  if (filter.topLevel) where.push('p.parent_id IS NULL');
  if (filter.locale) where.push(`lower(p.locale) = lower(${params.add(filter.locale)})`);
  let rank = '0';
  if (filter.tsquery) {
    const q = params.add(filter.tsquery);
    where.push(`r.search @@ to_tsquery('simple', ${q})`);
    rank = `ts_rank(r.search, to_tsquery('simple', ${q}))`;
  }
  const order = sort
    ? `${PAGE_SORT_COLUMNS[sort.field]} ${sort.direction === 'desc' ? 'DESC' : 'ASC'}, p.id`
    : filter.tsquery
    ? `${rank} DESC, p.url_path`
    : filter.parentId || filter.parentPath
      ? 'p.position, p.id'
      : 'p.url_path';
  const { columns, name: from } = PAGE_CONTENT[view];
  return readList<PageWithContent>(tx, { columns, from, where, orderBy: order, values: params.values }, page);
}

/** Pages of several parents, in sibling order, `page` applied per parent, in one statement (kit childPages). */
export const childrenOf = byView((view) => selectChildPages<PageWithContent>(PAGE_CONTENT[view], { parent: 'p.parent_id', orderBy: 'p.position, p.id' }));

// --- Pages: writes -----------------------------------------------------------------------

/**
 * Serialises changes to the tenant's tree (create, move, slug change, delete), so sibling
 * positions stay a gapless 0..n-1 and two moves cannot race into a cycle.
 */
export async function lockTree(tx: Tx) {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('cms.tree:' || current_setting('app.tenant_id', true), 0))`);
}

export async function pageForUpdate(tx: Tx, id: string) {
  const { rows } = await tx.query<PageRow>(`SELECT ${PAGE_COLUMNS} FROM cms.pages p WHERE p.id = $1 FOR UPDATE`, [id]);
  return rows[0] ?? null;
}

export async function siblingSlugTaken(tx: Tx, parentId: string | null, slug: string, exceptId: string | null) {
  const { rows } = await tx.query(
    `SELECT 1 FROM cms.pages WHERE parent_id IS NOT DISTINCT FROM $1::uuid AND slug = $2 AND id IS DISTINCT FROM $3::uuid`,
    [parentId, slug, exceptId],
  );
  return rows.length > 0;
}

export async function siblingIds(tx: Tx, parentId: string | null) {
  const { rows } = await tx.query<{ id: string }>(
    'SELECT id FROM cms.pages WHERE parent_id IS NOT DISTINCT FROM $1::uuid ORDER BY position, id',
    [parentId],
  );
  return rows.map((r) => r.id);
}

/** Writes positions 0..n-1 in the given order (one statement). */
export async function setPositions(tx: Tx, ids: readonly string[]) {
  if (!ids.length) return;
  await tx.query(
    `UPDATE cms.pages p SET position = o.idx - 1
     FROM unnest($1::uuid[]) WITH ORDINALITY AS o(id, idx)
     WHERE p.id = o.id AND p.position <> o.idx - 1`,
    [ids],
  );
}

export async function isDescendantOrSelf(tx: Tx, ancestor: PageRow, candidateId: string) {
  const { rows } = await tx.query(
    `SELECT 1 FROM cms.pages WHERE id = $1 AND (url_path = $2 OR url_path LIKE $2 || '/%')`,
    [candidateId, ancestor.url_path],
  );
  return rows.length > 0;
}

export async function insertPage(
  tx: Tx,
  page: { parentId: string | null; position: number; slug: string; urlPath: string; depth: number; locale: string; authorId: string | null },
) {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO cms.pages (tenant_id, parent_id, position, slug, url_path, depth, locale, author_id)
     VALUES (${CURRENT_TENANT}, $1, $2, $3, $4, $5, $6, $7) RETURNING id`,
    [page.parentId, page.position, page.slug, page.urlPath, page.depth, page.locale, page.authorId],
  );
  return rows[0]!.id;
}

export interface RevisionContent {
  title: string;
  seoTitle: string | null;
  seoDescription: string | null;
  body: BlockData[];
  featuredProducts: ProductRef[];
  /** Block text for the search vector. */
  text: string;
}

/** A new revision (the next number) that becomes the page's latest. The page row must be locked. */
export async function insertRevision(tx: Tx, pageId: string, content: RevisionContent, createdBy: string | null) {
  const { rows } = await tx.query<{ id: string }>(
    `WITH revision AS (
       INSERT INTO cms.page_revisions (tenant_id, page_id, number, title, seo_title, seo_description, body, featured_products, search, created_by)
       SELECT ${CURRENT_TENANT}, $1, coalesce(max(number), 0) + 1, $2, $3, $4, $5::jsonb, $6::jsonb,
         setweight(to_tsvector('simple', $2), 'A')
           || setweight(to_tsvector('simple', coalesce($3, '') || ' ' || coalesce($4, '')), 'B')
           || setweight(to_tsvector('simple', $7), 'C'),
         $8
       FROM cms.page_revisions WHERE page_id = $1
       RETURNING id
     )
     UPDATE cms.pages SET latest_revision_id = (SELECT id FROM revision), updated_at = now()
     WHERE id = $1 RETURNING latest_revision_id AS id`,
    [
      pageId,
      content.title,
      content.seoTitle,
      content.seoDescription,
      JSON.stringify(content.body),
      JSON.stringify(content.featuredProducts),
      content.text,
      createdBy,
    ],
  );
  return rows[0]!.id;
}

export async function updatePageFields(tx: Tx, id: string, fields: { locale?: string }) {
  if (fields.locale === undefined) return;
  await tx.query('UPDATE cms.pages SET locale = $2, updated_at = now() WHERE id = $1', [id, fields.locale]);
}

/**
 * Moves a subtree: the page gets `parentId`, `slug`, `urlPath` and `depth`, and every descendant's
 * path and depth follow, in one statement. Slugs are `[a-z0-9-]`, so LIKE needs no escaping.
 */
export async function relocateSubtree(
  tx: Tx,
  page: PageRow,
  target: { parentId: string | null; slug: string; urlPath: string; depth: number; position: number },
) {
  await tx.query(
    `UPDATE cms.pages SET
       url_path = $3::text || substr(url_path, length($2::text) + 1),
       depth = depth + ($4::integer - $5::integer),
       parent_id = CASE WHEN id = $1 THEN $6::uuid ELSE parent_id END,
       slug = CASE WHEN id = $1 THEN $7::text ELSE slug END,
       position = CASE WHEN id = $1 THEN $8::integer ELSE position END,
       updated_at = CASE WHEN id = $1 THEN now() ELSE updated_at END
     WHERE url_path = $2::text OR url_path LIKE $2::text || '/%'`,
    [page.id, page.url_path, target.urlPath, target.depth, page.depth, target.parentId, target.slug, target.position],
  );
}

/** Revision `id` of page `pageId`, or null (also when it belongs to another page). */
export async function revisionOfPage(tx: Tx, pageId: string, id: string) {
  const { rows } = await tx.query<RevisionRow>(`SELECT ${REVISIONS.columns} FROM cms.page_revisions WHERE page_id = $1 AND id = $2`, [
    pageId,
    id,
  ]);
  return rows[0] ?? null;
}

export async function publish(tx: Tx, pageId: string, revisionId: string) {
  await tx.query(
    `UPDATE cms.pages SET live_revision_id = $2, publish_at = NULL, scheduled_revision_id = NULL, publish_job_id = NULL,
       first_published_at = coalesce(first_published_at, now()), last_published_at = now(), updated_at = now()
     WHERE id = $1`,
    [pageId, revisionId],
  );
}

export async function unpublish(tx: Tx, pageId: string) {
  await tx.query(
    `UPDATE cms.pages SET live_revision_id = NULL, publish_at = NULL, scheduled_revision_id = NULL, publish_job_id = NULL, updated_at = now()
     WHERE id = $1`,
    [pageId],
  );
}

/** Sets (or, with nulls, clears) the page's schedule and the job that publishes it. */
export async function schedule(tx: Tx, pageId: string, revisionId: string | null, at: Date | null, jobId: string | null) {
  await tx.query('UPDATE cms.pages SET publish_at = $3, scheduled_revision_id = $2, publish_job_id = $4, updated_at = now() WHERE id = $1', [
    pageId,
    revisionId,
    at,
    jobId,
  ]);
}

/** Deletes a page; its descendants and every revision go with it (ON DELETE CASCADE). */
export const deletePage = (tx: Tx, id: string) => deleteRow(tx, PAGES, id);

// --- Revisions ---------------------------------------------------------------------------

export const revisionsByIds = selectByKeys<RevisionRow>(REVISIONS, { key: 'id' });

/** Revisions of several pages, newest first, `page` applied per page, in one statement (kit childPages). */
export const revisionsOf = selectChildPages<RevisionRow>(REVISIONS, { parent: 'page_id', orderBy: 'number DESC' });

// --- Scheduler ---------------------------------------------------------------------------

/** Scheduled pages without a job, across tenants (SECURITY DEFINER: ids only). */
export async function unqueuedSchedules(tx: Tx, limit: number) {
  const { rows } = await tx.query<{ tenant_id: string; page_id: string }>('SELECT * FROM cms.unqueued_schedules($1)', [limit]);
  return rows;
}

/** The page's schedule if it still has no job, locked for the rest of the transaction. */
export async function unqueuedScheduleForUpdate(tx: Tx, pageId: string) {
  const { rows } = await tx.query<{ publish_at: Date }>(
    'SELECT publish_at FROM cms.pages WHERE id = $1 AND publish_at IS NOT NULL AND publish_job_id IS NULL FOR UPDATE',
    [pageId],
  );
  return rows[0] ?? null;
}

export async function setPublishJob(tx: Tx, pageId: string, jobId: string) {
  await tx.query('UPDATE cms.pages SET publish_job_id = $2 WHERE id = $1', [pageId, jobId]);
}

/**
 * Publishes the page's scheduled revision if `jobId` is still its publishing job: rescheduled,
 * unscheduled or already published (by this job before, or by hand), nothing happens. FOR UPDATE
 * SKIP LOCKED: a page another process is publishing right now is skipped, and once it committed
 * the schedule is gone, so a page is never published twice. 'published', 'gone', or 'early'
 * (its time has not come: the caller retries later).
 */
export async function publishIfScheduled(tx: Tx, pageId: string, jobId: string): Promise<'published' | 'gone' | 'early'> {
  const { rows } = await tx.query<{ id: string; scheduled_revision_id: string; due: boolean }>(
    `SELECT id, scheduled_revision_id, publish_at <= now() AS due FROM cms.pages
     WHERE id = $1 AND publish_job_id = $2 AND publish_at IS NOT NULL FOR UPDATE SKIP LOCKED`,
    [pageId, jobId],
  );
  const row = rows[0];
  if (!row) return 'gone';
  if (!row.due) return 'early';
  await publish(tx, row.id, row.scheduled_revision_id);
  return 'published';
}

// --- Snippets ----------------------------------------------------------------------------

export const snippetsByIds = selectByKeys<SnippetRow>(SNIPPETS, { key: 'id' });

export async function snippetByKey(tx: Tx, key: string) {
  const { rows } = await tx.query<SnippetRow>(`SELECT ${SNIPPETS.columns} FROM cms.snippets WHERE key = $1`, [key]);
  return rows[0] ?? null;
}

/** `%text%` for ILIKE, with LIKE's wildcards in `text` escaped. */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export function snippetsPage(tx: Tx, search: string | null, page: ListRequest, key: string | null = null) {
  const where: string[] = [];
  const p = new Params();
  if (search) {
    const like = p.add(containing(search));
    where.push(`(key ILIKE ${like} OR title ILIKE ${like})`);
  }
  if (key) where.push(`key = ${p.add(key)}`);
  return readList<SnippetRow>(tx, { columns: SNIPPETS.columns, from: SNIPPETS.name, where, orderBy: 'key', values: p.values }, page);
}

/** Null when the key is taken. */
export async function insertSnippet(tx: Tx, snippet: { key: string; title: string; body: BlockData[] }, by: string | null) {
  const { rows } = await tx.query<SnippetRow>(
    `INSERT INTO cms.snippets (tenant_id, key, title, body, created_by, updated_by)
     VALUES (${CURRENT_TENANT}, $1, $2, $3::jsonb, $4, $4) ON CONFLICT (tenant_id, key) DO NOTHING RETURNING ${SNIPPETS.columns}`,
    [snippet.key, snippet.title, JSON.stringify(snippet.body), by],
  );
  return rows[0] ?? null;
}

/** 'missing' when there is no such snippet, 'taken' when the new key is another snippet's. */
export async function updateSnippet(
  tx: Tx,
  id: string,
  snippet: { key: string; title: string; body: BlockData[] },
  by: string | null,
): Promise<SnippetRow | 'missing' | 'taken'> {
  const clash = await tx.query('SELECT 1 FROM cms.snippets WHERE key = $1 AND id <> $2', [snippet.key, id]);
  if (clash.rows.length) return 'taken';
  const { rows } = await tx.query<SnippetRow>(
    `UPDATE cms.snippets SET key = $2, title = $3, body = $4::jsonb, updated_by = $5, updated_at = now()
     WHERE id = $1 RETURNING ${SNIPPETS.columns}`,
    [id, snippet.key, snippet.title, JSON.stringify(snippet.body), by],
  );
  return rows[0] ?? 'missing';
}

export const deleteSnippet = (tx: Tx, id: string) => deleteRow(tx, SNIPPETS, id);

/** Which of these snippet and asset ids exist in the tenant. */
export async function existingReferences(tx: Tx, refs: { assetIds: string[]; snippetIds: string[] }) {
  const { rows } = await tx.query<{ kind: 'asset' | 'snippet'; id: string }>(
    `SELECT 'asset' AS kind, id FROM cms.media_assets WHERE id = ANY($1::uuid[])
     UNION ALL SELECT 'snippet', id FROM cms.snippets WHERE id = ANY($2::uuid[])`,
    [refs.assetIds, refs.snippetIds],
  );
  return {
    assetIds: new Set(rows.filter((r) => r.kind === 'asset').map((r) => r.id)),
    snippetIds: new Set(rows.filter((r) => r.kind === 'snippet').map((r) => r.id)),
  };
}

// --- Media -------------------------------------------------------------------------------

export const assetsByIds = selectByKeys<AssetRow>(ASSETS, { key: 'id' });

export interface AssetFilter {
  kind?: 'image' | 'document' | null;
  tag?: string | null;
  search?: string | null;
}

export function assetsPage(tx: Tx, filter: AssetFilter, page: ListRequest) {
  const where: string[] = [];
  const p = new Params();
  if (filter.kind) where.push(`kind = ${p.add(filter.kind)}`);
  if (filter.tag) where.push(`${p.add(filter.tag.toLowerCase())} = ANY(tags)`);
  if (filter.search) {
    const like = p.add(containing(filter.search));
    where.push(`(filename ILIKE ${like} OR alt_text ILIKE ${like})`);
  }
  return readList<AssetRow>(tx, { columns: ASSETS.columns, from: ASSETS.name, where, orderBy: 'created_at DESC, id', values: p.values }, page);
}

export async function insertAsset(
  tx: Tx,
  asset: {
    id: string;
    kind: 'image' | 'document';
    filename: string;
    mimeType: string;
    size: number;
    checksum: string;
    width: number | null;
    height: number | null;
    altText: string | null;
    tags: string[];
    storageKey: string;
    uploadedBy: string | null;
  },
) {
  const { rows } = await tx.query<AssetRow>(
    `INSERT INTO cms.media_assets (tenant_id, id, kind, filename, mime_type, size_bytes, checksum, width, height, alt_text, tags, storage_key, uploaded_by)
     VALUES (${CURRENT_TENANT}, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ${ASSETS.columns}`,
    [
      asset.id,
      asset.kind,
      asset.filename,
      asset.mimeType,
      asset.size,
      asset.checksum,
      asset.width,
      asset.height,
      asset.altText,
      asset.tags,
      asset.storageKey,
      asset.uploadedBy,
    ],
  );
  return rows[0]!;
}

export async function updateAsset(tx: Tx, id: string, fields: { altText?: string | null; tags?: string[] }) {
  const { rows } = await tx.query<AssetRow>(
    `UPDATE cms.media_assets SET
       alt_text = CASE WHEN $2 THEN $3 ELSE alt_text END,
       tags = CASE WHEN $4 THEN $5::text[] ELSE tags END,
       updated_at = now()
     WHERE id = $1 RETURNING ${ASSETS.columns}`,
    [id, fields.altText !== undefined, fields.altText ?? null, fields.tags !== undefined, fields.tags ?? []],
  );
  return rows[0] ?? null;
}

export async function deleteAsset(tx: Tx, id: string) {
  const { rows } = await tx.query<{ storage_key: string }>('DELETE FROM cms.media_assets WHERE id = $1 RETURNING storage_key', [id]);
  return rows[0] ?? null;
}
