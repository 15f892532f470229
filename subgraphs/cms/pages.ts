import type { Tx } from '../kit/db/database.ts';
import { inputError } from '../kit/errors.ts';
import {
  blocksText,
  isUuid,
  missingReferenceErrors,
  references,
  validateBlocks,
  validateProductRefs,
  type BlockData,
  type CmsInputError,
  type ProductRef,
} from './blocks.ts';
import type { CmsErrorCode, ContentBlockInput, ContentPageCreateInput, ContentPageUpdateInput, ProductReferenceInput } from './__generated__/resolvers-types.ts';
import type { CmsContext } from './loaders.ts';
import * as store from './store.ts';

// The page workflow: tree changes, revisions, publishing and scheduling. Bad input and broken
// rules come back as payload errors; each operation is one transaction, so nothing is half-done.

export type Outcome<T> = { value: T; errors: [] } | { value: null; errors: CmsInputError[] };
export const ok = <T>(value: T): Outcome<T> => ({ value, errors: [] });
export const fail = (field: string | null, message: string, code: CmsErrorCode): Outcome<never> => ({
  value: null,
  errors: [inputError(field, message, code)],
});
const failAll = (errors: CmsInputError[]): Outcome<never> => ({ value: null, errors });

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
 * fields keep their value; SEO fields given as null are cleared.
 */
async function buildContent(
  tx: Tx,
  input: ContentInput,
  base: store.RevisionContent | null,
): Promise<Outcome<store.RevisionContent>> {
  const errors: CmsInputError[] = [];
  const site = await store.currentSite(tx);
  const defaultChannel = site?.saleor_channel ?? null;

  let title = base?.title ?? '';
  if (input.title != null || !base) {
    title = input.title?.trim() ?? '';
    if (!title) errors.push(inputError('title', 'A title is required.', 'REQUIRED'));
    else if (title.length > 255) errors.push(inputError('title', 'At most 255 characters.', 'INVALID'));
  }
  const optional = (field: string, value: string | null | undefined, previous: string | null, max: number) => {
    if (value === undefined) return previous;
    const text = value?.trim() || null;
    if (text && text.length > max) errors.push(inputError(field, `At most ${max} characters.`, 'INVALID'));
    return text;
  };
  const seoTitle = optional('seoTitle', input.seoTitle, base?.seoTitle ?? null, 255);
  const seoDescription = optional('seoDescription', input.seoDescription, base?.seoDescription ?? null, 1000);

  let body: BlockData[] = base?.body ?? [];
  if (input.body != null) {
    const checked = validateBlocks(input.body, { defaultChannel, allowSnippets: true });
    errors.push(...checked.errors);
    body = checked.blocks;
  }
  let featuredProducts: ProductRef[] = base?.featuredProducts ?? [];
  if (input.featuredProducts != null) {
    const checked = validateProductRefs(input.featuredProducts, defaultChannel);
    errors.push(...checked.errors);
    featuredProducts = checked.refs;
  }
  if (errors.length) return failAll(errors);
  if (input.body != null) {
    const refs = references(body);
    if (refs.assetIds.length || refs.snippetIds.length) {
      const missing = missingReferenceErrors(body, await store.existingReferences(tx, refs));
      if (missing.length) return failAll(missing);
    }
  }
  return ok({ title, seoTitle, seoDescription, body, featuredProducts, text: blocksText(body) });
}

const contentOf = (revision: store.RevisionRow): store.RevisionContent => ({
  title: revision.title,
  seoTitle: revision.seo_title,
  seoDescription: revision.seo_description,
  body: revision.body,
  featuredProducts: revision.featured_products,
  text: blocksText(revision.body),
});

/** A page of the caller's tenant, locked for the rest of the transaction. */
async function lockedPage(tx: Tx, id: string, field = 'id') {
  const page = isUuid(id) ? await store.pageForUpdate(tx, id) : null;
  return page ? ok(page) : fail(field, 'No such page.', 'NOT_FOUND');
}

export async function createPage(ctx: CmsContext, input: ContentPageCreateInput): Promise<Outcome<string>> {
  const slug = input.slug.trim();
  if (!SLUG.test(slug)) return fail('slug', 'Use 1-100 lower-case letters, digits and dashes (not at the ends).', 'INVALID');
  const locale = input.locale?.trim() || 'en';
  if (!LOCALE.test(locale)) return fail('locale', 'Use a language tag such as "en" or "de-CH".', 'INVALID');
  return ctx.tx(async (tx) => {
    const content = await buildContent(tx, input, null);
    if (!content.value) return content;
    await store.lockTree(tx);
    let parent: store.PageRow | null = null;
    if (input.parentId) {
      const found = await lockedPage(tx, input.parentId, 'parentId');
      if (!found.value) return found;
      parent = found.value;
    }
    const parentId = parent?.id ?? null;
    if (await store.siblingSlugTaken(tx, parentId, slug, null)) {
      return fail('slug', `A sibling page already has the slug "${slug}".`, 'UNIQUE');
    }
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
    await store.insertRevision(tx, id, content.value, ctx.principal.accountId);
    return ok(id);
  });
}

/** Every save is a new revision (the latest draft); a slug change moves the page's URL and its subtree's. */
export async function updatePage(ctx: CmsContext, id: string, input: ContentPageUpdateInput): Promise<Outcome<string>> {
  const slug = input.slug?.trim();
  if (slug != null && !SLUG.test(slug)) return fail('slug', 'Use 1-100 lower-case letters, digits and dashes (not at the ends).', 'INVALID');
  const locale = input.locale?.trim();
  if (locale != null && !LOCALE.test(locale)) return fail('locale', 'Use a language tag such as "en" or "de-CH".', 'INVALID');
  return ctx.tx(async (tx) => {
    // The tree lock comes before any page lock, in every operation (no deadlocks).
    if (slug != null) await store.lockTree(tx);
    const found = await lockedPage(tx, id);
    if (!found.value) return found;
    const page = found.value;
    const latest = page.latest_revision_id ? await store.revisionOfPage(tx, page.id, page.latest_revision_id) : null;
    const content = await buildContent(tx, input, latest ? contentOf(latest) : null);
    if (!content.value) return content;
    if (slug != null && slug !== page.slug) {
      if (await store.siblingSlugTaken(tx, page.parent_id, slug, page.id)) {
        return fail('slug', `A sibling page already has the slug "${slug}".`, 'UNIQUE');
      }
      await store.relocateSubtree(tx, page, {
        parentId: page.parent_id,
        slug,
        urlPath: `${parentPath(page.url_path)}/${slug}`,
        depth: page.depth,
        position: page.position,
      });
    }
    if (locale != null) await store.updatePageFields(tx, page.id, { locale });
    await store.insertRevision(tx, page.id, content.value, ctx.principal.accountId);
    return ok(page.id);
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
  return ctx.tx(async (tx) => {
    await store.lockTree(tx);
    const found = await lockedPage(tx, id);
    if (!found.value) return found;
    const page = found.value;
    let parent: store.PageRow | null = null;
    if (parentId) {
      if (isUuid(parentId) && (await store.isDescendantOrSelf(tx, page, parentId))) {
        return fail('parentId', 'A page cannot move under itself or one of its descendants.', 'INVALID_MOVE');
      }
      const target = await lockedPage(tx, parentId, 'parentId');
      if (!target.value) return target;
      parent = target.value;
    }
    const newParentId = parent?.id ?? null;
    const sameParent = newParentId === page.parent_id;
    if (!sameParent && (await store.siblingSlugTaken(tx, newParentId, page.slug, page.id))) {
      return fail('parentId', `A page there already has the slug "${page.slug}".`, 'UNIQUE');
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
    return ok(page.id);
  });
}

/** The revision to publish or schedule: `revisionId` (of this page), else the latest. */
async function pickRevision(tx: Tx, page: store.PageRow, revisionId: string | null | undefined) {
  const id = revisionId ?? page.latest_revision_id;
  const revision = id && isUuid(id) ? await store.revisionOfPage(tx, page.id, id) : null;
  return revision ? ok(revision) : fail('revisionId', 'No such revision of this page.', 'NOT_FOUND');
}

export async function publishPage(ctx: CmsContext, id: string, revisionId: string | null | undefined): Promise<Outcome<string>> {
  return ctx.tx(async (tx) => {
    const found = await lockedPage(tx, id);
    if (!found.value) return found;
    const revision = await pickRevision(tx, found.value, revisionId);
    if (!revision.value) return revision;
    await store.publish(tx, found.value.id, revision.value.id);
    return ok(found.value.id);
  });
}

export async function unpublishPage(ctx: CmsContext, id: string): Promise<Outcome<string>> {
  return ctx.tx(async (tx) => {
    const found = await lockedPage(tx, id);
    if (!found.value) return found;
    await store.unpublish(tx, found.value.id);
    return ok(found.value.id);
  });
}

/** The old revision's content becomes a new revision: history is never rewritten. */
export async function revertPage(ctx: CmsContext, id: string, revisionId: string): Promise<Outcome<string>> {
  return ctx.tx(async (tx) => {
    const found = await lockedPage(tx, id);
    if (!found.value) return found;
    const revision = await pickRevision(tx, found.value, revisionId);
    if (!revision.value) return revision;
    await store.insertRevision(tx, found.value.id, contentOf(revision.value), ctx.principal.accountId);
    return ok(found.value.id);
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
  return ctx.tx(async (tx) => {
    const found = await lockedPage(tx, id);
    if (!found.value) return found;
    const revision = await pickRevision(tx, found.value, revisionId);
    if (!revision.value) return revision;
    await store.schedule(tx, found.value.id, revision.value.id, when);
    return ok(found.value.id);
  });
}

export async function cancelSchedule(ctx: CmsContext, id: string): Promise<Outcome<string>> {
  return ctx.tx(async (tx) => {
    const found = await lockedPage(tx, id);
    if (!found.value) return found;
    await store.schedule(tx, found.value.id, null, null);
    return ok(found.value.id);
  });
}

/** Deletes the page with its subtree; the remaining siblings close the gap. */
export async function deletePage(ctx: CmsContext, id: string): Promise<Outcome<string>> {
  return ctx.tx(async (tx) => {
    await store.lockTree(tx);
    const found = await lockedPage(tx, id);
    if (!found.value) return found;
    await store.deletePage(tx, found.value.id);
    await store.setPositions(tx, await store.siblingIds(tx, found.value.parent_id));
    return ok(found.value.id);
  });
}
