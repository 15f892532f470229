import { accountField } from '../../kit/accounts.ts';
import { ONE_STATEMENT } from '../../kit/db/database.ts';
import { notFound } from '../../kit/errors.ts';
import { spreadPayloadResolver } from '../../kit/mutations/payload.ts';
import { payloadResolver } from '../../kit/mutations/payload.ts';
import type { BiContext } from '../loaders.ts';
import type { DashboardModel } from '../mappers.ts';
import { createShareLink, isActive, revokeShareLink } from './links.ts';
import { share, shareContext } from './scope.ts';
import { shareLinkSecret } from './settings.ts';
import * as store from './store.ts';
import { verifyShareToken } from './token.ts';

/**
 * `sharedDashboard(token)`: the token's signature and expiry first (no database read for a
 * forged, tampered or expired one), then the link's row in its tenant, on every use. Every
 * failure is the same NOT_FOUND, so a caller cannot tell a revoked link from an expired one or
 * from garbage.
 */
export async function sharedDashboard(_root: unknown, args: { token: string }, ctx: BiContext): Promise<DashboardModel> {
  const claims = await verifyShareToken(shareLinkSecret(ctx.deps.settings), args.token.trim());
  if (!claims) throw notFound('Shared dashboard');
  const scoped = shareContext(ctx, claims.tenantId);
  const dashboard = await scoped.tx((tx) => store.dashboardOfLink(tx, claims.linkId, claims.dashboardId), ONE_STATEMENT);
  if (!dashboard) throw notFound('Shared dashboard');
  return share(dashboard, scoped);
}

/** Dashboard.shareLinks (admins; never through a share link: permissions.ts). */
export const shareLinksOf = (dashboard: DashboardModel, _args: unknown, ctx: BiContext) => ctx.loaders.shareLinks.load(dashboard.id);

export const shareLinkResolvers = {
  ShareLink: {
    createdAt: (link: store.ShareLinkRow) => link.created_at,
    expiresAt: (link: store.ShareLinkRow) => link.expires_at,
    revokedAt: (link: store.ShareLinkRow) => link.revoked_at,
    active: (link: store.ShareLinkRow) => isActive(link),
    createdBy: accountField('created_by'),
  },
};

export const shareLinkMutations = {
  createShareLink: spreadPayloadResolver({ shareLink: null, token: null })(createShareLink),
  revokeShareLink: payloadResolver('deletedId')(revokeShareLink),
};
