import { z } from 'zod';
import { requireShareLinkSecretInProduction, shareLinkSettings } from './share/settings.ts';
import { webhookSettings } from './webhooks/settings.ts';

/**
 * The bi subgraph's own settings (environment variables, validated when it starts; a bad value
 * stops it with one line naming the variable). Read as `ctx.deps.settings` / `deps.settings`.
 */
export const biSettings = z.object({
  // Saleor's webhooks and the backfill (webhooks/settings.ts).
  ...webhookSettings.shape,
  // Share links' signing secret (share/settings.ts).
  ...shareLinkSettings.shape,
}).superRefine(requireShareLinkSecretInProduction);

export type BiSettings = z.infer<typeof biSettings>;
