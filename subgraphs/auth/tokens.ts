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
}

/** A 15-minute access token for one tenant: claims iss, aud, sub, tid, roles, iat, exp, jti. */
export async function signAccessToken(
  { config, settings }: Pick<SubgraphDeps<AuthSettings>, 'config' | 'settings'>,
  key: SigningKey,
  claims: { accountId: string; tenantId: string; roles: Role[] },
): Promise<IssuedAccessToken> {
  const token = await new SignJWT({ tid: claims.tenantId, roles: claims.roles })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(config.AUTH_ISSUER)
    .setAudience(config.AUTH_AUDIENCE)
    .setSubject(claims.accountId)
    .setIssuedAt()
    .setExpirationTime(`${settings.ACCESS_TOKEN_TTL_SECONDS}s`)
    .setJti(randomUUID())
    .sign(key.key);
  return { token, expiresIn: settings.ACCESS_TOKEN_TTL_SECONDS };
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
