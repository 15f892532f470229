import { z } from 'zod';

/**
 * bi's settings for share links (part of bi's `settings`). The tokens are HS256 JWTs signed with
 * BI_SHARE_LINK_SECRET: every bi process must share it, and changing it invalidates every link.
 * Development and tests use a fixed default so that separately started processes agree; in
 * production it must be set (at least 32 characters), or bi stops at start with one line naming it.
 */
export const shareLinkSettings = z.object({
  BI_SHARE_LINK_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  // Read only to require the secret in production (the shared config parses it too).
  NODE_ENV: z.string().optional(),
});

/** The secret of development and tests: public, so never accepted in production (see below). */
export const DEVELOPMENT_SHARE_LINK_SECRET = 'bizosaas-development-share-link-secret-not-for-production';

/** A refinement of bi's settings: BI_SHARE_LINK_SECRET is required when NODE_ENV=production. */
export function requireShareLinkSecretInProduction(settings: z.infer<typeof shareLinkSettings>, ctx: z.RefinementCtx): void {
  if (settings.NODE_ENV !== 'production') return;
  if (!settings.BI_SHARE_LINK_SECRET) ctx.addIssue({ code: 'custom', path: ['BI_SHARE_LINK_SECRET'], message: 'required when NODE_ENV=production' });
  else if (settings.BI_SHARE_LINK_SECRET === DEVELOPMENT_SHARE_LINK_SECRET)
    ctx.addIssue({ code: 'custom', path: ['BI_SHARE_LINK_SECRET'], message: 'the development default is public: set a secret of your own' });
}

export const shareLinkSecret = (settings: z.infer<typeof shareLinkSettings>): string => settings.BI_SHARE_LINK_SECRET ?? DEVELOPMENT_SHARE_LINK_SECRET;
