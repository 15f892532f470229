import { z } from 'zod';

/**
 * The auth subgraph's own settings (environment variables, validated when it starts; a bad value
 * stops it with one line naming the variable). Resolvers read them as `ctx.deps.settings`.
 */
export const authSettings = z.object({
  /** Private signing key (JWK JSON, EdDSA Ed25519 or ES256). Unset in development: generated into DATA_DIR. */
  AUTH_PRIVATE_JWK: z.string().optional(),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(3600).default(30 * 86_400),
  /** Failed logins of one account within the window before it is locked out until the window ends. */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).default(10),
  /** Login attempts from one client IP within the window. */
  LOGIN_MAX_ATTEMPTS_PER_IP: z.coerce.number().int().min(1).default(100),
  LOGIN_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  /**
   * What the agents subgraph presents to POST /internal/delegate for a run's short-lived token
   * (the same value in both processes, at least 32 characters). Required in production; unset in
   * development: generated into DATA_DIR/keys/delegation-secret (kit/delegation-secret.ts).
   */
  AUTH_DELEGATION_SECRET: z.string().min(32).optional(),
});

export type AuthSettings = z.infer<typeof authSettings>;
