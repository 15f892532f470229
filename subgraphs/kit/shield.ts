import { allow, deny, rule, shield, and, or, not, chain } from 'graphql-shield';
import type { IRules } from 'graphql-shield';
import type { Role } from './principal.ts';
import type { Context } from './context.ts';
import { forbidden, unauthenticated } from './errors.ts';

export { allow, deny, and, or, not, chain };
export type Permissions = IRules;

/*
 * Rules that look only at the caller (its token) are `contextual`: evaluated once per request.
 * A rule that looks at a row must use `strict` or `no_cache`, never `contextual`.
 */

export const isAuthenticated = rule({ cache: 'contextual' })((_parent, _args, ctx: Context) =>
  ctx.principal.accountId ? true : unauthenticated(),
);

/** A member of the token's tenant with one of `roles`. */
export const hasRole = (...roles: Role[]) =>
  rule(`hasRole(${roles.join(',')})`, { cache: 'contextual' })((_parent, _args, ctx: Context) => {
    if (!ctx.principal.accountId) return unauthenticated();
    return ctx.principal.roles.some((r) => roles.includes(r)) ? true : forbidden();
  });

/** Role ladder of DESIGN.md: reading is open to every member. */
export const isMember = hasRole('owner', 'admin', 'editor', 'analyst', 'viewer');
export const isEditor = hasRole('owner', 'admin', 'editor');
export const isAnalyst = hasRole('owner', 'admin', 'analyst');
export const isAdmin = hasRole('owner', 'admin');
export const isOwner = hasRole('owner');

/**
 * graphql-shield with deny by default. `_service` (composition) and `_entities` (the gateway's
 * entity fetches) are allowed explicitly: the entity types' own rules still apply to every
 * field, and `__resolveReference` reads through the tenant transaction.
 */
export function buildShield(permissions: Permissions) {
  const query = ((permissions as Record<string, unknown>).Query ?? {}) as Record<string, unknown>;
  return shield(
    {
      ...permissions,
      Query: { ...query, _service: allow, _entities: allow },
      _Service: allow,
    } as IRules,
    {
      fallbackRule: deny,
      fallbackError: () => forbidden(),
      allowExternalErrors: true,
      debug: false,
    },
  );
}
