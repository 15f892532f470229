import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { hit, peek, reset } from '../kit/rate-limit.ts';
import { tenantKey } from '../kit/redis.ts';
import { rateLimited, unauthenticated } from '../kit/errors.ts';
import type { Role } from '../kit/principal.ts';
import { revokeAccessTokens, type Revocation } from '../kit/revocation.ts';
import type { AuthContext } from './loaders.ts';
import type { SigningKey } from './signing-keys.ts';
import { verifyPassword } from './passwords.ts';
import * as store from './store.ts';
import { hashRefreshToken, newRefreshToken, signAccessToken, tenantOfRefreshToken } from './tokens.ts';

export interface Session {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  errors: [];
}

const INVALID_CREDENTIALS = 'Invalid email or password.';
const INVALID_REFRESH = 'Invalid or expired refresh token.';

/** Issues an access token and a new refresh token (in `familyId`, or a new family). */
async function issue(
  ctx: AuthContext,
  key: SigningKey,
  grant: { accountId: string; tenantId: string; role: Role; familyId?: string },
): Promise<Session> {
  const { settings } = ctx.deps;
  const refresh = newRefreshToken(grant.tenantId);
  const familyId = grant.familyId ?? randomUUID();
  const account = await ctx.deps.db.withTenant({ tenantId: grant.tenantId, accountId: grant.accountId }, async (tx) => {
    await store.insertRefreshToken(tx, {
      tenantId: grant.tenantId,
      familyId,
      accountId: grant.accountId,
      hash: refresh.hash,
      ttlSeconds: settings.REFRESH_TOKEN_TTL_SECONDS,
    });
    // The platform-admin flag goes into the token: the gateway decides on it (Saleor's App-only data).
    return store.ownAccount(tx, grant.accountId);
  });
  const access = await signAccessToken(ctx.deps, key, {
    accountId: grant.accountId,
    tenantId: grant.tenantId,
    roles: [grant.role],
    sessionId: familyId,
    platformAdmin: account?.is_platform_admin === true,
  });
  return { accessToken: access.token, refreshToken: refresh.token, tokenType: 'Bearer', expiresIn: access.expiresIn, errors: [] };
}

/**
 * Ends access tokens before they expire: the gateway and the subgraphs refuse them within about
 * half a second (kit/revocation.ts). Called once the revocation in PostgreSQL has committed.
 */
export async function revokeAccess(ctx: AuthContext, revocations: readonly Revocation[]): Promise<void> {
  await revokeAccessTokens(
    ctx.deps.redis,
    { prefix: ctx.deps.config.REDIS_PREFIX, accessTokenTtlSeconds: ctx.deps.settings.ACCESS_TOKEN_TTL_SECONDS, log: ctx.log },
    revocations,
  );
}

/** Ends the caller's access tokens in every tenant of its account (a new password). */
export async function revokeAccountEverywhere(ctx: AuthContext): Promise<void> {
  const accountId = ctx.principal.accountId!;
  const memberships = await ctx.tx((tx) => store.myMemberships(tx));
  const tenants = new Set([ctx.principal.tenantId!, ...memberships.map((m) => m.tenant_id)]);
  await revokeAccess(ctx, [...tenants].map((tenantId) => ({ tenantId, accountId })));
}

/**
 * Password login. Throttled per client IP (every attempt) and per account (failures), in Redis.
 * Unknown email, wrong password, no membership in the asked tenant: one and the same error.
 */
export async function login(
  ctx: AuthContext,
  key: SigningKey,
  input: { email: string; password: string; tenantSlug?: string | null },
): Promise<Session> {
  const { config, settings } = ctx.deps;
  const email = input.email.trim().toLowerCase();
  const ipKey = tenantKey(config.REDIS_PREFIX, 'login', 'ip', ctx.clientIp);
  const accountKey = tenantKey(config.REDIS_PREFIX, 'login', 'account', email);
  const ip = await hit(ctx.deps.redis, ipKey, settings.LOGIN_MAX_ATTEMPTS_PER_IP, settings.LOGIN_WINDOW_SECONDS);
  if (!ip.allowed) throw rateLimited(ip.retryAfterSeconds);
  if ((await peek(ctx.deps.redis, accountKey)) >= settings.LOGIN_MAX_FAILURES_PER_ACCOUNT) {
    throw rateLimited(Math.max(1, await ctx.deps.redis.ttl(accountKey).catch(() => settings.LOGIN_WINDOW_SECONDS)));
  }

  const candidates = email.length <= 254 ? await ctx.tx((tx) => store.loginCandidates(tx, email)) : [];
  const ok = await verifyPassword(candidates[0]?.password_hash ?? null, input.password);
  const membership = ok
    ? candidates.find((c) => c.tenant_id && (!input.tenantSlug || c.tenant_slug === input.tenantSlug))
    : undefined;
  if (!membership?.tenant_id || !membership.role) {
    if (!ok) await hit(ctx.deps.redis, accountKey, Number.MAX_SAFE_INTEGER, settings.LOGIN_WINDOW_SECONDS);
    throw unauthenticated(INVALID_CREDENTIALS);
  }
  await reset(ctx.deps.redis, accountKey);
  return issue(ctx, key, { accountId: membership.account_id, tenantId: membership.tenant_id, role: membership.role });
}

/**
 * Rotates a refresh token. A token that was already rotated (or revoked) is a sign of theft:
 * its whole family is revoked, which logs out the thief and the victim alike.
 */
export async function refreshSession(ctx: AuthContext, key: SigningKey, refreshToken: string): Promise<Session> {
  const tenantId = tenantOfRefreshToken(refreshToken);
  if (!tenantId) throw unauthenticated(INVALID_REFRESH);
  const grant = await ctx.deps.db.withTenant({ tenantId, accountId: null }, async (tx) => {
    const row = await store.refreshTokenForUpdate(tx, hashRefreshToken(refreshToken));
    if (!row) return null;
    if (row.rotated_at || row.revoked_at) {
      await store.revokeFamily(tx, row.family_id);
      return { kind: 'revoked' as const, familyId: row.family_id, reused: true };
    }
    if (row.expires_at.getTime() <= Date.now()) return null;
    await store.markRotated(tx, row.id);
    // The role may have changed (or the membership ended) since the last token.
    const membership = await store.membershipsByAccountIds(tx, [row.account_id]);
    if (!membership[0]) {
      await store.revokeFamily(tx, row.family_id);
      return { kind: 'revoked' as const, familyId: row.family_id, reused: false };
    }
    return { kind: 'granted' as const, accountId: row.account_id, tenantId, role: membership[0].role, familyId: row.family_id };
  });
  if (grant?.kind === 'revoked') {
    // The family's access tokens too: a thief's (or the victim's) end with the refresh tokens.
    await revokeAccess(ctx, [{ tenantId, sessionId: grant.familyId }]);
    if (grant.reused) ctx.log.warn({ requestId: ctx.requestId, tenant: tenantId }, 'refresh token reuse: family revoked');
    throw unauthenticated(INVALID_REFRESH);
  }
  if (!grant) throw unauthenticated(INVALID_REFRESH);
  return issue(ctx, key, grant);
}

/**
 * Revokes the refresh token's family and its access tokens. Unknown tokens are not an error
 * (idempotent logout).
 */
export async function logout(ctx: AuthContext, refreshToken: string): Promise<void> {
  const tenantId = tenantOfRefreshToken(refreshToken);
  if (!tenantId) return;
  const familyId = await ctx.deps.db.withTenant({ tenantId, accountId: null }, async (tx) => {
    const row = await store.refreshTokenForUpdate(tx, hashRefreshToken(refreshToken));
    if (row) await store.revokeFamily(tx, row.family_id);
    return row?.family_id ?? null;
  });
  if (familyId) await revokeAccess(ctx, [{ tenantId, sessionId: familyId }]);
}

/** New tokens for another tenant of the same account (membership checked under that tenant). */
export async function switchTenant(ctx: AuthContext, key: SigningKey, tenantSlug: string): Promise<Session> {
  const accountId = ctx.principal.accountId!;
  const memberships = await ctx.tx((tx) => store.myMemberships(tx));
  const target = memberships.find((m) => m.slug === tenantSlug);
  if (!target) {
    throw new GraphQLError('You are not a member of that tenant.', { extensions: { code: 'FORBIDDEN' } });
  }
  return issue(ctx, key, { accountId, tenantId: target.tenant_id, role: target.role });
}
