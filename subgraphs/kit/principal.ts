import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import { isUuid } from './formats.ts';

export const ROLES = ['owner', 'admin', 'editor', 'analyst', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, as proven by a verified access token. Anonymous when there is no valid token. */
export interface Principal {
  accountId: string | null;
  tenantId: string | null;
  roles: readonly Role[];
  tokenId: string | null;
  /** The token's session (its refresh-token family, claim `sid`); null for a token without one. */
  sessionId: string | null;
  /** When the token was issued and when it expires (ms epoch; 0 when anonymous). */
  issuedAt: number;
  expiresAt: number;
  /** The account is a platform administrator (claim `platform_admin`, set when the token was issued). */
  platformAdmin: boolean;
}

export const ANONYMOUS: Principal = Object.freeze({
  accountId: null,
  tenantId: null,
  roles: [],
  tokenId: null,
  sessionId: null,
  issuedAt: 0,
  expiresAt: 0,
  platformAdmin: false,
});

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  /** A JWKS URL (fetched, cached, re-fetched on an unknown `kid`) or a key resolver. */
  keys: string | JWTVerifyGetKey;
  /** Verified tokens remembered (default 10,000); 0 verifies every request. */
  cacheSize?: number;
}

export type TokenVerifier = (authorization: string | undefined) => Promise<Principal>;

/** A compact JWS: base64url header, payload and signature (RFC 7515 section 7.1), none empty. */
const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/**
 * Verifies `Authorization: Bearer <jwt>` against the auth subgraph's keys. Never trusts the
 * network: every subgraph verifies again. Any failure (missing, forged, expired, wrong issuer or
 * audience, malformed claims) yields the anonymous principal.
 *
 * A verified token is remembered (LRU keyed by the exact token string) until its `exp`: a
 * signature check costs about 0.2 ms of CPU through WebCrypto, and one caller sends the same
 * token on every request, to the gateway and to each subgraph of the plan. The cache changes
 * nothing a token proves: the same string always verifies to the same claims until it expires,
 * and an expired entry is never returned. (A signing key withdrawn from the JWKS keeps its
 * already-verified tokens valid until they expire, at most the access-token lifetime; jose's
 * JWKS cache already keeps a key that long.) Failures are not remembered, so the cache cannot be
 * filled with garbage that pushes out real callers any faster than valid tokens could.
 * Whether a valid token has been revoked since is checked apart (kit/revocation.ts).
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const getKey: JWTVerifyGetKey =
    typeof options.keys === 'string'
      ? createRemoteJWKSet(new URL(options.keys), { cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 })
      : options.keys;
  const cacheSize = options.cacheSize ?? 10_000;
  const verified = cacheSize > 0 ? new LRUCache<string, Principal>({ max: cacheSize }) : null;
  return async (authorization) => {
    if (!authorization || !authorization.startsWith('Bearer ')) return ANONYMOUS;
    const token = authorization.slice(7).trim();
    // Not a compact JWS (three base64url parts: no JWT we issue looks otherwise) is anonymous
    // before jose, whose refusal is an Error with a captured stack: the gateway sends Saleor's
    // App token to the Saleor stand-in on every fetch, and that cost 10% of its CPU.
    if (token.length > 4096 || !COMPACT_JWS.test(token)) return ANONYMOUS;
    const known = verified?.get(token);
    if (known) return known;
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
      const principal: Principal = Object.freeze({
        accountId: payload.sub,
        tenantId: payload.tid,
        roles: Object.freeze(roles),
        tokenId: String(payload.jti),
        sessionId: isUuid(payload.sid) ? payload.sid : null,
        // `iat` carries milliseconds (auth/tokens.ts): revocation stamps compare with it.
        issuedAt: Math.round((payload.iat as number) * 1000),
        expiresAt: (payload.exp as number) * 1000,
        platformAdmin: payload.platform_admin === true,
      });
      // Until `exp` (required above), never longer: lru-cache drops the entry at its ttl.
      const ttl = (payload.exp as number) * 1000 - Date.now();
      if (verified && ttl > 0) verified.set(token, principal, { ttl });
      return principal;
    } catch {
      return ANONYMOUS;
    }
  };
}
