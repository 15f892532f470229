import { forgetAccountEmails } from '../kit/accounts.ts';
import { randomUUID } from 'node:crypto';
import type { Tx } from '../kit/db/database.ts';
import { EMAIL, SALEOR_CHANNEL } from '../kit/formats.ts';
import type { Outcome } from '../kit/mutations/outcome.ts';
import { STANDARD_ERROR_CODES, subgraphMutations } from '../kit/mutations/subgraph-mutations.ts';
import type { Role } from '../kit/principal.ts';
import type { AuthErrorCode } from './__generated__/resolvers-types.ts';
import type { AuthContext } from './loaders.ts';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.ts';
import { revokeAccess, revokeAccountEverywhere } from './sessions.ts';
import * as store from './store.ts';

// Member management and account changes. Bad input and broken rules come back as payload
// errors (field, message, code); nothing is half-written because each runs in one transaction.
// The writes check first (ON CONFLICT DO NOTHING for a taken slug or an existing member); the
// named constraints cover what races past the checks.
const { write, reject, fail } = subgraphMutations<AuthErrorCode>(STANDARD_ERROR_CODES, {
  constraints: {
    tenants_slug_key: { field: 'slug', code: 'UNIQUE', message: 'This slug is taken.' },
    accounts_email_key: { field: 'email', code: 'UNIQUE', message: 'An account with this email exists.' },
  },
});

const SLUG = /^[a-z0-9][a-z0-9-]{1,62}$/;
const NAME_RULE = 'Name must be 1 to 200 characters.';
const MAX_NAME = 200;

export async function inviteMember(
  ctx: AuthContext,
  input: { email: string; role: Role; name?: string | null; password?: string | null },
): Promise<Outcome<store.MembershipRow, AuthErrorCode>> {
  const email = input.email.trim().toLowerCase();
  if (!EMAIL.test(email)) return fail('email', 'Enter a valid email address.', 'INVALID');
  if (input.role === 'owner' && !ctx.principal.roles.includes('owner')) {
    return fail('role', 'Only an owner can add another owner.', 'NOT_ALLOWED');
  }
  const name = (input.name ?? email.split('@')[0]!).trim();
  if (!name || name.length > MAX_NAME) return fail('name', NAME_RULE, 'INVALID');
  let passwordHash: string | null = null;
  if (input.password != null) {
    const problem = passwordProblem(input.password);
    if (problem) return fail('password', problem, 'PASSWORD_TOO_WEAK');
    passwordHash = await hashPassword(input.password);
  }
  return write(ctx.tx, async (tx) => {
    let accountId = await store.accountIdByEmail(tx, email);
    if (!accountId) {
      if (!passwordHash) return reject('password', 'A password is required for a new account.', 'REQUIRED');
      accountId = await store.createAccount(tx, { email, name, passwordHash });
    }
    return (await store.insertMembership(tx, accountId, input.role)) ?? reject('email', 'This account is already a member of the tenant.', 'UNIQUE');
  });
}

/**
 * The role of member `accountId` of the caller's tenant, and how many owners the tenant has,
 * with those rows locked for the rest of the transaction; rejects when there is no such member.
 */
async function lockedMember(tx: Tx, accountId: string) {
  const { target, owners } = await store.lockMembershipAndOwners(tx, accountId);
  return { role: (target ?? reject('accountId', 'No such member in this tenant.', 'NOT_FOUND')).role, owners };
}

export async function updateMemberRole(
  ctx: AuthContext,
  accountId: string,
  role: Role,
): Promise<Outcome<store.MembershipRow, AuthErrorCode>> {
  const callerIsOwner = ctx.principal.roles.includes('owner');
  const updated = await write(ctx.tx, async (tx) => {
    const target = await lockedMember(tx, accountId);
    if ((target.role === 'owner' || role === 'owner') && !callerIsOwner) {
      reject('role', 'Only an owner can grant or take away the owner role.', 'NOT_ALLOWED');
    }
    if (target.role === 'owner' && role !== 'owner' && target.owners <= 1) {
      reject('role', 'The tenant must keep at least one owner.', 'LAST_OWNER');
    }
    return (await store.updateRole(tx, accountId, role))!;
  });
  // Tokens carry roles: the member's end now, and a refresh gives one with the new role.
  if (updated.value) await revokeAccess(ctx, [{ tenantId: ctx.principal.tenantId!, accountId }]);
  return updated;
}

export async function removeMember(ctx: AuthContext, accountId: string): Promise<Outcome<string, AuthErrorCode>> {
  const callerIsOwner = ctx.principal.roles.includes('owner');
  const removed = await write(ctx.tx, async (tx) => {
    const target = await lockedMember(tx, accountId);
    if (target.role === 'owner' && !callerIsOwner) reject('accountId', 'An admin cannot remove an owner.', 'NOT_ALLOWED');
    if (target.role === 'owner' && target.owners <= 1) reject('accountId', 'The last owner cannot leave the tenant.', 'LAST_OWNER');
    await store.deleteMembership(tx, accountId);
    return accountId;
  });
  if (removed.value) {
    await revokeAccess(ctx, [{ tenantId: ctx.principal.tenantId!, accountId }]);
    // The other subgraphs' cached answers may show this account's email to the tenant.
    await forgetAccountEmails(ctx.deps.redis, ctx.deps.config.REDIS_PREFIX, ctx.principal.tenantId!);
  }
  return removed;
}

export async function changePassword(
  ctx: AuthContext,
  currentPassword: string,
  newPassword: string,
): Promise<Outcome<true, AuthErrorCode>> {
  const accountId = ctx.principal.accountId!;
  const problem = passwordProblem(newPassword);
  if (problem) return fail('newPassword', problem, 'PASSWORD_TOO_WEAK');
  const account = await ctx.tx((tx) => store.ownAccount(tx, accountId));
  if (!account || !(await verifyPassword(account.password_hash, currentPassword))) {
    return fail('currentPassword', 'The current password is not correct.', 'INVALID');
  }
  const hash = await hashPassword(newPassword);
  const changed = await write(ctx.tx, async (tx) => {
    await store.updatePassword(tx, accountId, hash);
    await store.revokeMySessions(tx);
    return true as const;
  });
  if (changed.value) await revokeAccountEverywhere(ctx);
  return changed;
}

/** Platform administrators create tenants; the creator becomes the first owner. */
export async function createTenant(
  ctx: AuthContext,
  input: { slug: string; name: string; saleorChannel: string },
): Promise<Outcome<store.TenantRow, AuthErrorCode>> {
  const accountId = ctx.principal.accountId!;
  const account = await ctx.tx((tx) => store.ownAccount(tx, accountId));
  if (!account?.is_platform_admin) return fail(null, 'Only platform administrators can create tenants.', 'NOT_ALLOWED');
  const slug = input.slug.trim();
  const name = input.name.trim();
  if (!SLUG.test(slug)) return fail('slug', 'Use 2-63 lower-case letters, digits and dashes.', 'INVALID');
  if (!name || name.length > MAX_NAME) return fail('name', NAME_RULE, 'INVALID');
  if (!SALEOR_CHANNEL.test(input.saleorChannel)) return fail('saleorChannel', 'Not a valid Saleor channel slug.', 'INVALID');
  const tenantId = randomUUID();
  // The new tenant's own scope: RLS only lets a transaction write rows of its tenant.
  const created = await write(
    (fn) => ctx.deps.db.withTenant({ tenantId, accountId }, fn),
    async (tx) => {
      const tenant = (await store.insertTenant(tx, { id: tenantId, slug, name, saleorChannel: input.saleorChannel })) ?? reject('slug', 'This slug is taken.', 'UNIQUE');
      await store.insertMembership(tx, accountId, 'owner');
      return tenant;
    },
  );
  if (created.value) ctx.touchedTenants.add(tenantId);
  return created;
}
