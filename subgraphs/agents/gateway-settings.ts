import { z } from 'zod';
import { subgraphUrl, type Env } from '../kit/config.ts';

/**
 * How runs reach the supergraph with their member's rights (part of the agents subgraph's
 * `settings`): a run asks the auth subgraph for a short-lived token of its member
 * (`POST /internal/delegate` with AUTH_DELEGATION_SECRET, credentials.ts) and calls the gateway
 * with it (gateway-client.ts), so it can never read or write what that member could not.
 */
export const gatewayAccessSettings = z.object({
  /** The gateway's GraphQL URL. Default: `http://127.0.0.1:<GATEWAY_PORT or 8001>/graphql`. */
  AGENTS_GATEWAY_URL: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * The auth subgraph's delegation endpoint (internal: auth's own port, never the gateway).
   * Default: `/internal/delegate` on the auth subgraph's URL (AUTH_URL, else
   * `http://127.0.0.1:<AUTH_PORT or 8007>`).
   */
  AGENTS_AUTH_DELEGATE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * The secret both the auth and the agents subgraph hold (at least 32 characters). Required in
   * production; unset in development: both read DATA_DIR/keys/delegation-secret, generated once.
   */
  AUTH_DELEGATION_SECRET: z.string().min(32).optional(),
  /** The longest one GraphQL call of a run may take at the gateway, ms (default 30 s); past it, the step fails TIMEOUT (retryable). */
  AGENTS_GATEWAY_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /** Retries of a call the gateway refused for load (429, 503), honouring Retry-After (default 3). */
  AGENTS_GATEWAY_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  /**
   * The longest Retry-After a run waits before a retry, seconds (default 60: the gateway's rate
   * limits count per minute, so a run over its tenant's limit waits for the next minute); a
   * longer one fails the call (retryable).
   */
  AGENTS_GATEWAY_MAX_RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).max(600).default(60),
  // Read only to require AUTH_DELEGATION_SECRET in production (the shared config parses it too).
  NODE_ENV: z.string().optional(),
});

/** A refinement of the agents settings: AUTH_DELEGATION_SECRET is required when NODE_ENV=production. */
export function requireDelegationSecretInProduction(settings: z.infer<typeof gatewayAccessSettings>, ctx: z.RefinementCtx): void {
  if (settings.NODE_ENV === 'production' && !settings.AUTH_DELEGATION_SECRET) {
    ctx.addIssue({ code: 'custom', path: ['AUTH_DELEGATION_SECRET'], message: 'required when NODE_ENV=production' });
  }
}

export type GatewayAccessSettings = z.infer<typeof gatewayAccessSettings>;

/** The gateway's GraphQL URL runs call. */
export const agentsGatewayUrl = (settings: Pick<GatewayAccessSettings, 'AGENTS_GATEWAY_URL'>, env: Env): string =>
  settings.AGENTS_GATEWAY_URL ?? `http://127.0.0.1:${env.GATEWAY_PORT || 8001}/graphql`;

/** The auth subgraph's delegation endpoint. */
export const authDelegateUrl = (settings: Pick<GatewayAccessSettings, 'AGENTS_AUTH_DELEGATE_URL'>, env: Env): string =>
  settings.AGENTS_AUTH_DELEGATE_URL ??
  new URL('/internal/delegate', subgraphUrl('auth', `http://127.0.0.1:${env.AUTH_PORT || 8007}/graphql`, env)).toString();
