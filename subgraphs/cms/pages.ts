import type { Tx } from '../kit/db/database.ts';
import { isUuid } from '../kit/formats.ts';
import { fail, ok } from '../kit/mutations/outcome.ts';
import { InputProblems } from '../kit/mutations/problems.ts';
import { rejectAll } from '../kit/mutations/rejected.ts';
import { blocksText, missingReferenceErrors, references, validateBlocks, validateProductRefs, type BlockData, type ProductRef } from './blocks.ts';
import type { CmsErrorCode, ContentBlockInput, ContentPageCreateInput, ContentPageUpdateInput, ProductReferenceInput } from './__generated__/resolvers-types.ts';
import type { CmsContext } from './loaders.ts';
import { reject, write, type Outcome } from './mutations.ts';
import * as store from './store.ts';
import { cancelJob, sendJob } from '../kit/jobs/index.ts';
import { publishQueue } from './scheduler.ts';

// The page workflow: tree changes, revisions, publishing and scheduling. Bad input and broken
// rules come back as payload errors; each operation is one transaction, so nothing is half-done.

// media.ts answers with these too.
export { fail, ok, type Outcome };

const SLUG = /^[a-z0-9]([a-z0-9-]{0,98}[a-z0-9])?$/;
const LOCALE = /^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8}){0,3}$/;

/** `/about/team/` or `about/team` -> `/about/team`; null when it cannot be a page path. */
export function normalizePath(path: string): string | null {
  const trimmed = path.trim().replace(/\/+$/, '');
  const withSlash = trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
  return /^(\/[a-z0-9-]+)+$/.test(withSlash) && withSlash.length <= 2000 ? withSlash : null;
}

const parentPath = (urlPath: string) => urlPath.slice(0, urlPath.lastIndexOf('/'));

interface ContentInput {
  title?: string | null;
  seoTitle?: string | null;
  seoDescription?: string | null;
  body?: readonly ContentBlockInput[] | null;
  featuredProducts?: readonly ProductReferenceInput[] | null;
}

/**
 * Validates content fields on top of `base` (the latest revision, for an update). Omitted
 * fields keep their value; SEO fields given as null are cleared. Rejects with every problem.
 */
async function buildContent(tx: Tx, input: ContentInput, base: store.RevisionContent | null): Promise<store.RevisionContent> {
  const problems = new InputProblems<CmsErrorCode>();
  const site = await store.currentSite(tx);
  const defaultChannel = site?.saleor_channel ?? null;

  let title = base?.title ?? '';
  if (input.title != null || !base) {
    title = input.title?.trim() ?? '';
    if (!title) problems.add('title', 'A title is required.', 'REQUIRED');
    else if (title.length > 255) problems.add('title', 'At most 255 characters.', 'INVALID');
  }
  const optional = (field: string, value: string | null | undefined, previous: string | null, max: number) => {
    if (value === undefined) return previous;
    const text = value?.trim() || null;
    if (text && text.length > max) problems.add(field, `At most ${max} characters.`, 'INVALID');
    return text;
  };
  const seoTitle = optional('seoTitle', input.seoTitle, base?.seoTitle ?? null, 255);
  const seoDescription = optional('seoDescription', input.seoDescription, base?.seoDescription ?? null, 1000);

  let body: BlockData[] = base?.body ?? [];
  if (input.body != null) {
    const checked = validateBlocks(input.body, { defaultChannel, allowSnippets: true });
    problems.list.push(...checked.errors);
    body = checked.blocks;
  }
  let featuredProducts: ProductRef[] = base?.featuredProducts ?? [];
  if (input.featuredProducts != null) {
    const checked = validateProductRefs(input.featuredProducts, defaultChannel);
    problems.list.push(...checked.errors);
    featuredProducts = checked.refs;
  }
  if (problems.any) rejectAll(problems.list);
  if (input.body != null) {
    const refs = references(body);
    if (refs.assetIds.length || refs.snippetIds.length) {
      const missing = missingReferenceErrors(body, await store.existingReferences(tx, refs));
      if (missing.length) rejectAll(missing);
    }
  }
  return { title, seoTitle, seoDescription, body, featuredProducts, text: blocksText(body) };
}

const contentOf = (revision: store.RevisionRow): store.RevisionContent => ({
  title: revision.title,
  seoTitle: revision.seo_title,
  seoDescription: revision.seo_description,
  body: revision.body,
  featuredProducts: revision.featured_products,
  text: blocksText(revision.body),
});

/** A page of the caller's tenant, locked for the rest of the transaction; rejects when there is none. */
async function lockedPage(tx: Tx, id: string, field = 'id'): Promise<store.PageRow> {
  return (isUuid(id) ? await store.pageForUpdate(tx, id) : null) ?? reject(field, 'No such page.', 'NOT_FOUND');
}

const SLUG_RULE = 'Use 1-100 lower-case letters, digits and dashes (not at the ends).';
const LOCALE_RULE = 'Use a language tag such as "en" or "de-CH".';
const slugTaken = (slug: string) => reject('slug', `A sibling page already has the slug "${slug}".`, 'UNIQUE');

export async function createPage(ctx: CmsContext, input: ContentPageCreateInput): Promise<Outcome<string>> {
  const slug = input.slug.trim();
  if (!SLUG.test(slug)) return fail('slug', SLUG_RULE, 'INVALID');
  const locale = input.locale?.trim() || 'en';
  if (!LOCALE.test(locale)) return fail('locale', LOCALE_RULE, 'INVALID');
  return write(ctx.tx, async (tx) => {
    const content = await buildContent(tx, input, null);
    await store.lockTree(tx);
    const parent = input.parentId ? await lockedPage(tx, input.parentId, 'parentId') : null;
    const parentId = parent?.id ?? null;
    if (await store.siblingSlugTaken(tx, parentId, slug, null)) slugTaken(slug);
    const position = (await store.siblingIds(tx, parentId)).length;
    const id = await store.insertPage(tx, {
      parentId,
      position,
      slug,
      urlPath: `${parent?.url_path ?? ''}/${slug}`,
      depth: parent ? parent.depth + 1 : 0,
      locale,
      authorId: ctx.principal.accountId,
    });
    await store.insertRevision(tx, id, content, ctx.principal.accountId);
    return id;
  });
}

/** Every save is a new revision (the latest draft); a slug change moves the page's URL and its subtree's. */
export async function updatePage(ctx: CmsContext, id: string, input: ContentPageUpdateInput): Promise<Outcome<string>> {
  const slug = input.slug?.trim();
  if (slug != null && !SLUG.test(slug)) return fail('slug', SLUG_RULE, 'INVALID');
  const locale = input.locale?.trim();
  if (locale != null && !LOCALE.test(locale)) return fail('locale', LOCALE_RULE, 'INVALID');
  return write(ctx.tx, async (tx) => {
    // The tree lock comes before any page lock, in every operation (no deadlocks).
    if (slug != null) await store.lockTree(tx);
    const page = await lockedPage(tx, id);
    const latest = page.latest_revision_id ? await store.revisionOfPage(tx, page.id, page.latest_revision_id) : null;
    const content = await buildContent(tx, input, latest ? contentOf(latest) : null);
    if (slug != null && slug !== page.slug) {
      if (await store.siblingSlugTaken(tx, page.parent_id, slug, page.id)) slugTaken(slug);
      await store.relocateSubtree(tx, page, {
        parentId: page.parent_id,
        slug,
        urlPath: `${parentPath(page.url_path)}/${slug}`,
        depth: page.depth,
        position: page.position,
      });
    }
    if (locale != null) await store.updatePageFields(tx, page.id, { locale });
    await store.insertRevision(tx, page.id, content, ctx.principal.accountId);
    return page.id;
  });
}

/** Moves a page (and its subtree) under another parent or the top level, at a sibling position. */
export async function movePage(
  ctx: CmsContext,
  id: string,
  parentId: string | null | undefined,
  position: number | null | undefined,
): Promise<Outcome<string>> {
  if (position != null && position < 0) return fail('position', 'Positions start at 0.', 'INVALID');
  return write(ctx.tx, async (tx) => {
    await store.lockTree(tx);
    const page = await lockedPage(tx, id);
    let parent: store.PageRow | null = null;
    if (parentId) {
      if (isUuid(parentId) && (await store.isDescendantOrSelf(tx, page, parentId))) {
        reject('parentId', 'A page cannot move under itself or one of its descendants.', 'INVALID_MOVE');
      }
      parent = await lockedPage(tx, parentId, 'parentId');
    }
    const newParentId = parent?.id ?? null;
    const sameParent = newParentId === page.parent_id;
    if (!sameParent && (await store.siblingSlugTaken(tx, newParentId, page.slug, page.id))) {
      reject('parentId', `A page there already has the slug "${page.slug}".`, 'UNIQUE');
    }
    const siblings = (await store.siblingIds(tx, newParentId)).filter((s) => s !== page.id);
    const at = Math.min(position ?? siblings.length, siblings.length);
    if (!sameParent) {
      await store.relocateSubtree(tx, page, {
        parentId: newParentId,
        slug: page.slug,
        urlPath: `${parent?.url_path ?? ''}/${page.slug}`,
        depth: parent ? parent.depth + 1 : 0,
        position: at,
      });
      await store.setPositions(tx, (await store.siblingIds(tx, page.parent_id)).filter((s) => s !== page.id));
    }
    await store.setPositions(tx, [...siblings.slice(0, at), page.id, ...siblings.slice(at)]);
    return page.id;
  });
}

/** The revision to publish or schedule: `revisionId` (of this page), else the latest; rejects when there is none. */
async function pickRevision(tx: Tx, page: store.PageRow, revisionId: string | null | undefined): Promise<store.RevisionRow> {
  const id = revisionId ?? page.latest_revision_id;
  return (id && isUuid(id) ? await store.revisionOfPage(tx, page.id, id) : null) ?? reject('revisionId', 'No such revision of this page.', 'NOT_FOUND');
}

export function publishPage(ctx: CmsContext, id: string, revisionId: string | null | undefined): Promise<Outcome<string>> {
  return write(ctx.tx, async (tx) => {
    const page = await lockedPage(tx, id);
    const revision = await pickRevision(tx, page, revisionId);
    await store.publish(tx, page.id, revision.id);
    return page.id;
  });
}

export function unpublishPage(ctx: CmsContext, id: string): Promise<Outcome<string>> {
  return write(ctx.tx, async (tx) => {
    const page = await lockedPage(tx, id);
    await store.unpublish(tx, page.id);
    return page.id;
  });
}

/** The old revision's content becomes a new revision: history is never rewritten. */
export function revertPage(ctx: CmsContext, id: string, revisionId: string): Promise<Outcome<string>> {
  return write(ctx.tx, async (tx) => {
    const page = await lockedPage(tx, id);
    const revision = await pickRevision(tx, page, revisionId);
    await store.insertRevision(tx, page.id, contentOf(revision), ctx.principal.accountId);
    return page.id;
  });
}

export async function schedulePage(
  ctx: CmsContext,
  id: string,
  at: Date | string,
  revisionId: string | null | undefined,
): Promise<Outcome<string>> {
  const when = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(when.getTime())) return fail('at', 'Not a date and time (use ISO 8601).', 'INVALID');
  if (when.getTime() <= Date.now()) return fail('at', 'The time must be in the future.', 'INVALID');
  return write(ctx.tx, async (tx) => {
    const page = await lockedPage(tx, id);
    const revision = await pickRevision(tx, page, revisionId);
    // The job that publishes it, in this transaction: it exists exactly when the schedule does.
    if (page.publish_job_id) await cancelJob(tx, publishQueue, page.publish_job_id);
    const jobId = await sendJob(tx, publishQueue, { pageId: page.id }, { startAfter: when });
    await store.schedule(tx, page.id, revision.id, when, jobId);
    return page.id;
  });
}

export function cancelSchedule(ctx: CmsContext, id: string): Promise<Outcome<string>> {
  return write(ctx.tx, async (tx) => {
    const page = await lockedPage(tx, id);
    if (page.publish_job_id) await cancelJob(tx, publishQueue, page.publish_job_id);
    await store.schedule(tx, page.id, null, null, null);
    return page.id;
  });
}

/** Deletes the page with its subtree; the remaining siblings close the gap. */
export function deletePage(ctx: CmsContext, id: string): Promise<Outcome<string>> {
  return write(ctx.tx, async (tx) => {
    await store.lockTree(tx);
    const page = await lockedPage(tx, id);
    await store.deletePage(tx, page.id);
    await store.setPositions(tx, await store.siblingIds(tx, page.parent_id));
    return page.id;
  });
}
