import { z } from 'zod';
import { subgraphUrl, type Config, type Env } from '../../kit/config.ts';

/**
 * bi's settings for Saleor's webhooks and the backfill (part of bi's `settings`). Saleor itself
 * is the shared SALEOR_API_URL / SALEOR_APP_TOKEN (kit/config.ts); without SALEOR_API_URL, the
 * stand-in at SALEOR_URL (else http://127.0.0.1:<SALEOR_PORT or 8000>/graphql).
 */
export const webhookSettings = z.object({
  /** Where Saleor's public keys are. Default: `<Saleor's origin>/.well-known/jwks.json`, where Saleor serves them. */
  SALEOR_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** The largest webhook body bi reads (413 beyond); Saleor's own example reads at most 1 MB. */
  SALEOR_WEBHOOK_MAX_BYTES: z.coerce.number().int().min(1024).max(16 * 1024 * 1024).default(1024 * 1024),
  /**
   * Days a webhook delivery is remembered (bi.saleor_events: a delivery seen again changes nothing);
   * older ones are deleted daily (webhooks/retention.ts). 0 keeps them forever. Saleor retries a
   * failed delivery for hours, not weeks; a replay of a forgotten one still changes nothing.
   */
  BI_SALEOR_EVENTS_RETENTION_DAYS: z.coerce.number().int().min(0).max(3650).default(30),
});

export type WebhookSettings = z.infer<typeof webhookSettings>;

/** Saleor's GraphQL URL: the real Saleor's, or the stand-in's. */
export const saleorApiUrl = (config: Pick<Config, 'SALEOR_API_URL'>, env: Env): string =>
  config.SALEOR_API_URL ?? subgraphUrl('saleor', `http://127.0.0.1:${env.SALEOR_PORT || 8000}/graphql`, env);

/** Saleor serves its JWKS at the root of its domain, whatever the path of its API. */
export const saleorJwksUrl = (settings: WebhookSettings, config: Pick<Config, 'SALEOR_API_URL'>, env: Env): string =>
  settings.SALEOR_JWKS_URL ?? new URL('/.well-known/jwks.json', saleorApiUrl(config, env)).toString();
