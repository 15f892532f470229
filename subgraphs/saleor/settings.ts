import { z } from 'zod';

/**
 * The stand-in's own settings: where it sends Saleor's webhooks and how it signs and retries
 * them (subgraphs/saleor/webhooks/). Read as `ctx.deps.settings` / `deps.settings`.
 */
export const saleorSettings = z.object({
  /**
   * Where order webhooks go: one URL or a comma-separated list, or `none`. Unset: the gateway's
   * public path on this machine (http://127.0.0.1:<GATEWAY_PORT or 8001>/webhooks/saleor), which
   * is what `npm start` needs; anywhere else (docker, one process per service), set it.
   */
  SALEOR_WEBHOOK_TARGET_URL: z.string().optional(),
  /**
   * Saleor's RSA_PRIVATE_KEY: the PEM of the RSA key webhooks are signed with (its public half at
   * /.well-known/jwks.json). Unset: a key generated at start (a restart changes it, and its `kid`).
   */
  SALEOR_RSA_PRIVATE_KEY: z.string().optional(),
  /** First retry after this many ms, doubling each time: Saleor's Celery task has retry_backoff=10 (s). */
  SALEOR_WEBHOOK_RETRY_BACKOFF_MS: z.coerce.number().int().min(1).max(3_600_000).default(10_000),
  /** Retries after the first attempt (Saleor: max_retries=5). */
  SALEOR_WEBHOOK_MAX_RETRIES: z.coerce.number().int().min(0).max(20).default(5),
  /** One delivery attempt's limit, connection and answer (Saleor: 20 s in all). */
  SALEOR_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(20_000),
});

export type SaleorSettings = z.infer<typeof saleorSettings>;
