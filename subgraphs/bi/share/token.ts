import { jwtVerify, SignJWT } from 'jose';
import { isUuid } from '../../kit/formats.ts';

/*
 * A share link's token: an HS256 JWT signed with BI_SHARE_LINK_SECRET, naming the link (jti),
 * its tenant (tid) and its dashboard (dsh), expiring with the link (exp). Why a JWT and not an
 * opaque random token stored hashed: the link's row lives in a tenant table that row-level
 * security shows only inside its tenant's transaction, so the token must say which tenant to
 * open, and must prove it cheaply; the signature refuses garbage and tampered tokens (another
 * tenant, another dashboard, a later expiry) without a database read. The row then decides on
 * every use (revoked, expired, dashboard gone or unpublished): the token alone never suffices.
 * Symmetric, because only bi signs and only bi verifies.
 */

const ISSUER = 'bizosaas-bi';
const AUDIENCE = 'bi-share-link';
/** Far above a real token (about 300 characters): anything longer is refused unparsed. */
const MAX_TOKEN_LENGTH = 1024;

export interface ShareClaims {
  linkId: string;
  tenantId: string;
  dashboardId: string;
  /** When the link expires. */
  expiresAt: Date;
}

const keys = new Map<string, Uint8Array>();
const keyOf = (secret: string) => {
  let key = keys.get(secret);
  if (!key) keys.set(secret, (key = new TextEncoder().encode(secret)));
  return key;
};

export function signShareToken(secret: string, claims: ShareClaims, issuedAt: Date): Promise<string> {
  return new SignJWT({ tid: claims.tenantId, dsh: claims.dashboardId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setJti(claims.linkId)
    .setIssuedAt(Math.floor(issuedAt.getTime() / 1000))
    // Whole seconds, never later than the row's expiry: the row's check is the exact one.
    .setExpirationTime(Math.floor(claims.expiresAt.getTime() / 1000))
    .sign(keyOf(secret));
}

/**
 * The claims of a token this secret signed that has not expired (at `now`), else null: any
 * failure (not a JWT, another algorithm, a bad signature, expired, claims that are not UUIDs)
 * reads the same. No database is read here.
 */
export async function verifyShareToken(secret: string, token: string, now: Date = new Date()): Promise<ShareClaims | null> {
  if (!token || token.length > MAX_TOKEN_LENGTH) return null;
  try {
    const { payload } = await jwtVerify(token, keyOf(secret), {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['HS256'],
      requiredClaims: ['jti', 'exp', 'tid', 'dsh'],
      currentDate: now,
    });
    const { jti, tid, dsh, exp } = payload;
    if (!isUuid(jti) || !isUuid(tid) || !isUuid(dsh)) return null;
    return { linkId: jti.toLowerCase(), tenantId: tid.toLowerCase(), dashboardId: dsh.toLowerCase(), expiresAt: new Date(exp! * 1000) };
  } catch {
    return null;
  }
}
