import { rule } from 'graphql-shield';
import type { Context } from '../kit/context.ts';
import { forbidden, unauthenticated } from '../kit/errors.ts';
import { allow, and, isAdmin, isEditor, isMember, type Permissions } from '../kit/shield.ts';

/**
 * Who may call what in the CMS subgraph (row-level security then decides which rows exist):
 *
 * | what                                                        | who                         |
 * |-------------------------------------------------------------|-----------------------------|
 * | publishedContentPage(s): published pages of a site          | anyone, no token            |
 * | contentPages, contentPage, snippets, mediaAssets, revisions | members (drafts)            |
 * | create/update/move/publish/unpublish/revert/schedule pages, |                             |
 * | snippets, media (also `POST /media`)                        | editors, admins, owners     |
 * | deleteContentPage, deleteSnippet, deleteMediaAsset          | admins, owners              |
 *
 * Pages, snippets and media reached from a public read are readable field by field; the fields
 * that reveal the editorial state (status, schedule, revisions, authors, tags) also need a member
 * of the object's own tenant.
 */

/**
 * The parent row belongs to the caller's tenant. It looks at the row, so never `contextual`; and
 * not `strict` either: graphql-shield keys that cache by an object-hash (SHA-1) of the whole row
 * with its body, which cost far more than this comparison (19% of the CMS subgraph's CPU on a
 * content page).
 */
const ofCallersTenant = rule('ofCallersTenant', { cache: 'no_cache' })((parent: { tenant_id?: string }, _args, ctx: Context) => {
  if (!ctx.principal.accountId) return unauthenticated();
  return parent.tenant_id !== undefined && parent.tenant_id === ctx.principal.tenantId ? true : forbidden();
});
const memberOfTenant = and(isMember, ofCallersTenant);

export const permissions: Permissions = {
  Query: {
    contentPages: isMember,
    contentPage: isMember,
    snippets: isMember,
    snippet: isMember,
    mediaAssets: isMember,
    mediaAsset: isMember,
    contentSite: isMember,
    publishedContentPage: allow,
    publishedContentPages: allow,
  },
  Mutation: {
    createContentPage: isEditor,
    updateContentPage: isEditor,
    moveContentPage: isEditor,
    publishContentPage: isEditor,
    unpublishContentPage: isEditor,
    revertContentPage: isEditor,
    scheduleContentPage: isEditor,
    cancelContentPageSchedule: isEditor,
    deleteContentPage: isAdmin,
    createSnippet: isEditor,
    updateSnippet: isEditor,
    deleteSnippet: isAdmin,
    updateMediaAsset: isEditor,
    deleteMediaAsset: isAdmin,
  },
  ContentPage: {
    '*': allow,
    status: memberOfTenant,
    publishAt: memberOfTenant,
    hasUnpublishedChanges: memberOfTenant,
    author: memberOfTenant,
    revisions: memberOfTenant,
    latestRevision: memberOfTenant,
    liveRevision: memberOfTenant,
    scheduledRevision: memberOfTenant,
  },
  ContentPageRevision: memberOfTenant,
  Snippet: allow,
  MediaAsset: { '*': allow, tags: memberOfTenant, uploadedBy: memberOfTenant },
  ContentSite: isMember,
  HeadingBlock: allow,
  ParagraphBlock: allow,
  ImageBlock: allow,
  ProductBlock: allow,
  CallToActionBlock: allow,
  QuoteBlock: allow,
  EmbedBlock: allow,
  SnippetBlock: allow,
  Product: allow,
  Account: allow,
};
