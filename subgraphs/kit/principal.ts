import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';

export const ROLES = ['owner', 'admin', 'editor', 'analyst', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, as proven by a verified access token. Anonymous when there is no valid token. */
export interface Principal {
  accountId: string | null;
  tenantId: string | null;
  roles: readonly Role[];
  tokenId: string | null;
}

export const ANONYMOUS: Principal = Object.freeze({ accountId: null, tenantId: null, roles: [], tokenId: null });

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  /** A JWKS URL (fetched, cached, re-fetched on an unknown `kid`) or a key resolver. */
  keys: string | JWTVerifyGetKey;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);

export type TokenVerifier = (authorization: string | undefined) => Promise<Principal>;

/**
 * Verifies `Authorization: Bearer <jwt>` against the auth subgraph's keys. Never trusts the
 * network: every subgraph verifies again. Any failure (missing, forged, expired, wrong issuer or
 * audience, malformed claims) yields the anonymous principal.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const getKey: JWTVerifyGetKey =
    typeof options.keys === 'string'
      ? createRemoteJWKSet(new URL(options.keys), { cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 })
      : options.keys;
  return async (authorization) => {
    if (!authorization || !authorization.startsWith('Bearer ')) return ANONYMOUS;
    const token = authorization.slice(7).trim();
    if (!token || token.length > 4096) return ANONYMOUS;
    try {
      const { payload } = await jwtVerify(token, getKey, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: ['EdDSA', 'ES256'],
        requiredClaims: ['sub', 'tid', 'exp', 'iat', 'jti'],
      });
      const roles = Array.isArray(payload.roles)
        ? payload.roles.filter((r): r is Role => (ROLES as readonly string[]).includes(r as string))
        : [];
      if (!isUuid(payload.sub) || !isUuid(payload.tid)) return ANONYMOUS;
      return { accountId: payload.sub, tenantId: payload.tid, roles, tokenId: String(payload.jti) };
    } catch {
      return ANONYMOUS;
    }
  };
}
