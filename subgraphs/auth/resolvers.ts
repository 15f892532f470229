import { setCacheHint } from '../kit/cache.ts';
import { listConnection, toListRequest } from '../kit/connection.ts';
import { pageStatements } from '../kit/db/list.ts';
import { loadOrNotFound } from '../kit/loaders.ts';
import { okPayloadOf, payloadOf } from '../kit/mutations/payload.ts';
import type { Resolvers } from './__generated__/resolvers-types.ts';
import * as members from './members.ts';
import { fromGraphQLRole, toGraphQLRole } from './roles.ts';
import * as sessions from './sessions.ts';
import { signingKey } from './signing-keys.ts';
import * as store from './store.ts';

export const resolvers: Resolvers = {
  Query: {
    viewer: (_root, _args, ctx, info) => {
      // Per-account data: cached under the account, never shared within the tenant.
      setCacheHint(info, { scope: 'PRIVATE' });
      const { accountId, tenantId } = ctx.principal;
      return accountId && tenantId ? { accountId, tenantId } : null;
    },
    tenant: (_root, _args, ctx) => loadOrNotFound(ctx.loaders.tenant, ctx.principal.tenantId!, 'Tenant'),
    members: async (_root, args, ctx, info) => {
      const page = toListRequest(args, info);
      return listConnection(await ctx.tx((tx) => store.membersPage(tx, page), pageStatements(page)), page);
    },
  },

  Mutation: {
    login: async (_root, args, ctx) => sessions.login(ctx, await signingKey(ctx.deps), args),
    refreshSession: async (_root, args, ctx) =>
      sessions.refreshSession(ctx, await signingKey(ctx.deps), args.refreshToken),
    logout: async (_root, args, ctx) => {
      await sessions.logout(ctx, args.refreshToken);
      return { ok: true, errors: [] };
    },
    switchTenant: async (_root, args, ctx) =>
      sessions.switchTenant(ctx, await signingKey(ctx.deps), args.tenantSlug),
    changePassword: async (_root, args, ctx) => okPayloadOf(await members.changePassword(ctx, args.currentPassword, args.newPassword)),
    inviteMember: async (_root, { input }, ctx) =>
      payloadOf('membership', await members.inviteMember(ctx, { ...input, role: fromGraphQLRole(input.role) })),
    updateMemberRole: async (_root, args, ctx) =>
      payloadOf('membership', await members.updateMemberRole(ctx, args.accountId, fromGraphQLRole(args.role))),
    removeMember: async (_root, args, ctx) => payloadOf('removedAccountId', await members.removeMember(ctx, args.accountId)),
    createTenant: async (_root, { input }, ctx) => payloadOf('tenant', await members.createTenant(ctx, input)),
  },

  Viewer: {
    account: (viewer, _args, ctx) => loadOrNotFound(ctx.loaders.account, viewer.accountId, 'Account'),
    tenant: (viewer, _args, ctx) => loadOrNotFound(ctx.loaders.tenant, viewer.tenantId, 'Tenant'),
    roles: async (viewer, _args, ctx) => {
      const membership = await ctx.loaders.membership.load(viewer.accountId);
      return membership ? [toGraphQLRole(membership.role)] : [];
    },
    memberships: async (viewer, _args, ctx) => {
      const rows = await ctx.tx((tx) => store.myMemberships(tx));
      return rows.map((row) => ({
        tenant_id: row.tenant_id,
        account_id: viewer.accountId,
        role: row.role,
        created_at: row.created_at,
        // Pre-loaded, so Membership.tenant needs no look-up (and works for other tenants).
        tenant: { id: row.tenant_id, slug: row.slug, name: row.name, saleor_channel: row.saleor_channel, created_at: row.tenant_created_at },
      }));
    },
  },

  Account: {
    __resolveReference: (reference, ctx) => ctx.loaders.account.load(reference.id),
    createdAt: (account) => account.created_at,
    role: async (account, _args, ctx) => {
      const membership = await ctx.loaders.membership.load(account.id);
      return membership ? toGraphQLRole(membership.role) : null;
    },
    // Saleor answers the gateway with its App's rights: the link to a Saleor customer (and so to
    // their orders) is the caller's own, or any for a platform administrator; null otherwise.
    // Per account in the response cache (PRIVATE), as it depends on who asks.
    saleorUser: (account, _args, ctx, info) => {
      setCacheHint(info, { scope: 'PRIVATE' });
      return account.id === ctx.principal.accountId || ctx.principal.platformAdmin ? { email: account.email } : null;
    },
  },

  Tenant: {
    __resolveReference: (reference, ctx) => ctx.loaders.tenant.load(reference.id),
    saleorChannel: (tenant) => tenant.saleor_channel,
    createdAt: (tenant) => tenant.created_at,
  },

  Membership: {
    account: (membership, _args, ctx) => loadOrNotFound(ctx.loaders.account, membership.account_id, 'Account'),
    tenant: (membership, _args, ctx) =>
      (membership as store.MembershipRow & { tenant?: store.TenantRow }).tenant ?? loadOrNotFound(ctx.loaders.tenant, membership.tenant_id, 'Tenant'),
    role: (membership) => toGraphQLRole(membership.role),
    createdAt: (membership) => membership.created_at,
  },
};
