import { z } from 'zod';

/**
 * The CMS subgraph's own settings (environment variables, validated when it starts; a bad value
 * stops it with one line naming the variable). Read as `ctx.deps.settings` / `deps.settings`.
 */
export const cmsSettings = z.object({
  /** Media uploads: the largest file accepted, in bytes (default 20 MiB). */
  MEDIA_MAX_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(20 * 1024 * 1024),
  /**
   * Public base URL of media URLs (`<base>/media/<tenant>/<asset>/<file>`: a CDN or proxy in front of
   * the CMS's `/media`). Default: the gateway's path `/api/brain/wagtail/media/files/<tenant>/<asset>/<file>`.
   */
  MEDIA_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
});

export type CmsSettings = z.infer<typeof cmsSettings>;
