import { isUuid } from '../../kit/formats.ts';
import type { BiContext } from '../loaders.ts';
import { fail, reject, write, type Outcome } from '../mutations.ts';
import { shareLinkSecret } from './settings.ts';
import * as store from './store.ts';
import { signShareToken } from './token.ts';

// Admins create and revoke share links (permissions.ts). The token is made here, once, and
// returned in the payload; bi keeps only the link's row, which each use of the token checks.

/** A link's lifetime when none is given (7 days), and the longest (90 days, also a CHECK). */
export const DEFAULT_LIFETIME_SECONDS = 7 * 86_400;
export const MAX_LIFETIME_SECONDS = 90 * 86_400;

const CONSTRAINTS = {
  share_links_dashboard_fkey: { field: 'dashboardId', code: 'NOT_FOUND', message: 'No such dashboard.' },
  share_links_lifetime: { field: 'expiresInSeconds', code: 'TOO_LARGE', message: 'A share link lives at most 90 days.' },
} as const;

export interface CreatedShareLink {
  shareLink: store.ShareLinkRow;
  token: string;
}

export async function createShareLink(
  ctx: BiContext,
  { dashboardId, expiresInSeconds }: { dashboardId: string; expiresInSeconds?: number | null },
): Promise<Outcome<CreatedShareLink>> {
  if (!isUuid(dashboardId)) return fail('dashboardId', 'No such dashboard.', 'NOT_FOUND');
  const seconds = expiresInSeconds ?? DEFAULT_LIFETIME_SECONDS;
  if (seconds < 1) return fail('expiresInSeconds', 'A share link lives at least 1 second.', 'INVALID');
  if (seconds > MAX_LIFETIME_SECONDS) return fail('expiresInSeconds', `A share link lives at most ${MAX_LIFETIME_SECONDS} seconds (90 days).`, 'TOO_LARGE');
  const tenantId = ctx.principal.tenantId!;
  const secret = shareLinkSecret(ctx.deps.settings);
  return write(
    ctx.tx,
    async (tx) => {
      const published = await store.dashboardPublished(tx, dashboardId.toLowerCase());
      if (published === null) reject('dashboardId', 'No such dashboard.', 'NOT_FOUND');
      // A link shows only a published dashboard (unpublishing takes its links offline): one of a
      // draft would be a link that shows nothing, so it is refused rather than made.
      if (!published) reject('dashboardId', 'Publish the dashboard before sharing it.', 'INVALID');
      const shareLink = await store.insertShareLink(tx, dashboardId.toLowerCase(), seconds, ctx.principal.accountId);
      const token = await signShareToken(
        secret,
        { linkId: shareLink.id, tenantId, dashboardId: shareLink.dashboard_id, expiresAt: shareLink.expires_at },
        shareLink.created_at,
      );
      return { shareLink, token };
    },
    CONSTRAINTS,
  );
}

/** Revoked at once: the next use of its token reads the row and finds it revoked. */
export async function revokeShareLink(ctx: BiContext, { id }: { id: string }): Promise<Outcome<string>> {
  if (!isUuid(id)) return fail('id', 'No such share link.', 'NOT_FOUND');
  return write(ctx.tx, async (tx) => (await store.revokeShareLink(tx, id.toLowerCase())) ?? reject('id', 'No such share link.', 'NOT_FOUND'));
}

/** Neither revoked nor expired (at `now`). */
export const isActive = (link: store.ShareLinkRow, now = Date.now()) => !link.revoked_at && link.expires_at.getTime() > now;
