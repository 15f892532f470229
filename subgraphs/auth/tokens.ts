import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SubgraphDeps } from '../kit/deps.ts';
import { isUuid } from '../kit/formats.ts';
import type { Role } from '../kit/principal.ts';
import type { AuthSettings } from './settings.ts';
import type { SigningKey } from './signing-keys.ts';

export interface IssuedAccessToken {
  token: string;
  expiresIn: number;
  /** Its `exp` (seconds since the epoch). */
  expiresAt: number;
}

/**
 * A 15-minute access token for one tenant: claims iss, aud, sub, tid, roles, sid (the session:
 * its refresh-token family), platform_admin (only when true), iat, exp, jti. `iat` carries milliseconds (a JSON number, as RFC
 * 7519 allows): revocation stamps (kit/revocation.ts) void the tokens issued before a moment,
 * and the token a refresh or login issues right after one must not be among them.
 * A delegated token (a run of the agents subgraph acting for a member) lives at most
 * `ttlSeconds` and carries `act: {sub: <actor>}`.
 */
export async function signAccessToken(
  { config, settings }: Pick<SubgraphDeps<AuthSettings>, 'config' | 'settings'>,
  key: SigningKey,
  claims: { accountId: string; tenantId: string; roles: Role[]; sessionId: string; platformAdmin: boolean },
  // A delegated token (delegation.ts): who acts for the account (`act`, RFC 8693) and a shorter life.
  delegation?: { actor: string; ttlSeconds: number },
): Promise<IssuedAccessToken> {
  const issuedAt = Date.now() / 1000;
  const ttlSeconds = delegation ? Math.min(delegation.ttlSeconds, settings.ACCESS_TOKEN_TTL_SECONDS) : settings.ACCESS_TOKEN_TTL_SECONDS;
  const expiresAt = Math.floor(issuedAt) + ttlSeconds;
  const token = await new SignJWT({
    tid: claims.tenantId,
    roles: claims.roles,
    sid: claims.sessionId,
    ...(claims.platformAdmin ? { platform_admin: true } : {}),
    ...(delegation ? { act: { sub: delegation.actor } } : {}),
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(config.AUTH_ISSUER)
    .setAudience(config.AUTH_AUDIENCE)
    .setSubject(claims.accountId)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .setJti(randomUUID())
    .sign(key.key);
  return { token, expiresIn: ttlSeconds, expiresAt };
}

/**
 * Refresh tokens are opaque: `<tenant id>.<256 random bits>`. The tenant part tells the server
 * which tenant's table to look in (row-level security needs it); only the SHA-256 of the whole
 * token is stored.
 */
export function newRefreshToken(tenantId: string): { token: string; hash: Buffer } {
  const token = `${tenantId}.${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashRefreshToken(token) };
}

export const hashRefreshToken = (token: string) => createHash('sha256').update(token).digest();

export function tenantOfRefreshToken(token: string): string | null {
  const [tenantId, secret] = token.split('.');
  return isUuid(tenantId) && secret && /^[\w-]{43}$/.test(secret) ? tenantId : null;
}
