import { rule } from 'graphql-shield';
import { sharedReads } from '../../kit/db/shared-reads.ts';
import { forbidden, unauthenticated } from '../../kit/errors.ts';
import type { Context } from '../../kit/context.ts';
import { ANONYMOUS, type Role } from '../../kit/principal.ts';
import { createLoaders, type BiContext } from '../loaders.ts';

/*
 * What a share link's reader may reach, and in which tenant.
 *
 * The request's own context is never changed: its principal (anonymous, or whoever is logged in)
 * keeps every root field, `_entities` and every object it reaches exactly as closed as before.
 * Instead, `sharedDashboard` builds a *share context* for the link's tenant (a tenant
 * transaction runner scoped to that tenant with no account, so row-level security is in force
 * and shows that tenant's rows only, and loaders of its own) and ties it to the objects it
 * returns: the dashboard, its placements and their charts. Only objects the server made through
 * that path carry it (a WeakMap keyed by the object: nothing a client sends, no representation
 * of `_entities`, can forge one). Their field resolvers read through it (`contextOf`), and the
 * shield admits an anonymous caller to exactly these objects' fields (`isMemberOrShared`) and to
 * the plain values under them (`isMemberOrShareRequest`), which only those fields return.
 */

const shareContexts = new WeakMap<object, BiContext>();
/** The tenant of each share context: its chart data are cached under it. */
const shareTenants = new WeakMap<BiContext, string>();
/** The request each share context was made in. */
const requestOf = new WeakMap<BiContext, object>();
/** Requests in which a share link was verified (its row found: `share` was called). */
const shareRequests = new WeakSet<object>();

/** A context reading the link's tenant: RLS scoped to it, no account, no roles, loaders of its own. */
export function shareContext(ctx: BiContext, tenantId: string): BiContext {
  const scoped = {
    principal: ANONYMOUS,
    requestId: ctx.requestId,
    clientIp: ctx.clientIp,
    authorization: undefined,
    log: ctx.log,
    deps: ctx.deps,
    tx: sharedReads(ctx.deps.db, { tenantId, accountId: null }),
    touchedTenants: new Set<string>(),
  } as Omit<BiContext, 'loaders'> as BiContext;
  scoped.loaders = createLoaders(scoped);
  shareTenants.set(scoped, tenantId);
  requestOf.set(scoped, ctx);
  return scoped;
}

/** `child` is reached through `parent`'s share link (when `parent` is); returns `child`. */
export function inherit<T extends object>(parent: object, child: T): T {
  const scoped = shareContexts.get(parent);
  if (scoped) shareContexts.set(child, scoped);
  return child;
}

/** Ties `object` (what a verified link shows) to its share context; returns `object`. */
export function share<T extends object>(object: T, scoped: BiContext): T {
  shareContexts.set(object, scoped);
  const request = requestOf.get(scoped);
  if (request) shareRequests.add(request);
  return object;
}

/** The context `parent`'s fields read through: its share context, else the request's. */
export const contextOf = (parent: object, ctx: BiContext): BiContext => shareContexts.get(parent) ?? ctx;

/** The tenant chart data of this context are cached under, when it is a share context (else the principal's). */
export const chartTenantOf = (ctx: BiContext): string | undefined => shareTenants.get(ctx);

// Rules: `no_cache` where the answer depends on the object (a `contextual` answer is kept for
// the whole request, whatever the object).
// Each is one plain function rather than graphql-shield's or/and of the kit's rules: those
// evaluate every branch and build an error for each that fails, on every field of every chart a
// member reads (a list of 100 charts went from 9 to 140 ms). A member passes at once.
const MEMBER_ROLES: readonly Role[] = ['owner', 'admin', 'editor', 'analyst', 'viewer'];
const ADMIN_ROLES: readonly Role[] = ['owner', 'admin'];
const hasRole = (ctx: Context, roles: readonly Role[]) => !!ctx.principal.accountId && ctx.principal.roles.some((role) => roles.includes(role));
const refusal = (ctx: Context) => (ctx.principal.accountId ? forbidden() : unauthenticated());
const isShared = (parent: unknown) => typeof parent === 'object' && parent !== null && shareContexts.has(parent);

/** A member of the token's tenant (the kit's isMember), or an object reached through a verified share link. */
export const isMemberOrShared = rule('isMemberOrShared', { cache: 'no_cache' })((parent: unknown, _args, ctx: Context) =>
  hasRole(ctx, MEMBER_ROLES) || isShared(parent) ? true : refusal(ctx),
);

/**
 * A member, or a request that verified a share link (for the plain values under its objects'
 * fields). Contextual, so the kit's fast path skips it once passed: it looks at the request only,
 * and a plain value is reached only under a field whose own rule passed, which for a caller who
 * is not a member means under an object of a link already verified, so once true it stays true.
 */
export const isMemberOrShareRequest = rule('isMemberOrShareRequest', { cache: 'contextual' })((_parent, _args, ctx: Context) =>
  hasRole(ctx, MEMBER_ROLES) || shareRequests.has(ctx) ? true : refusal(ctx),
);

/** A member, on an object not reached through a share link (who owns it stays the tenant's). */
export const isMemberNotShared = rule('isMemberNotShared', { cache: 'no_cache' })((parent: unknown, _args, ctx: Context) =>
  hasRole(ctx, MEMBER_ROLES) && !isShared(parent) ? true : refusal(ctx),
);

/** An admin or owner, on an object not reached through a share link (its links stay the tenant's). */
export const isAdminNotShared = rule('isAdminNotShared', { cache: 'no_cache' })((parent: unknown, _args, ctx: Context) =>
  hasRole(ctx, ADMIN_ROLES) && !isShared(parent) ? true : refusal(ctx),
);
