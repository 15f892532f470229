import type { ListRequest } from '../kit/connection.ts';
import type { Tx } from '../kit/db/database.ts';
import { readList } from '../kit/db/list.ts';
import { selectByKeys } from '../kit/db/select-by-keys.ts';
import type { Table } from '../kit/db/table.ts';
import { CURRENT_TENANT } from '../kit/db/tenant.ts';
import type { Role } from '../kit/principal.ts';

// All SQL of the auth subgraph. Every function runs inside the caller's tenant transaction
// (ctx.tx): row-level security decides which rows exist.

export interface TenantRow {
  id: string;
  slug: string;
  name: string;
  saleor_channel: string;
  created_at: Date;
}

export interface AccountRow {
  id: string;
  email: string;
  name: string;
  created_at: Date;
}

export interface MembershipRow {
  tenant_id: string;
  account_id: string;
  role: Role;
  created_at: Date;
}

export interface RefreshTokenRow {
  id: string;
  tenant_id: string;
  family_id: string;
  account_id: string;
  expires_at: Date;
  rotated_at: Date | null;
  revoked_at: Date | null;
}

export interface LoginCandidate {
  account_id: string;
  password_hash: string;
  tenant_id: string | null;
  tenant_slug: string | null;
  role: Role | null;
}

export interface MyMembershipRow {
  tenant_id: string;
  slug: string;
  name: string;
  saleor_channel: string;
  tenant_created_at: Date;
  role: Role;
  created_at: Date;
}

const TENANTS: Table = { name: 'auth.tenants', columns: 'id, slug, name, saleor_channel, created_at' };
const ACCOUNTS: Table = { name: 'auth.accounts', columns: 'id, email, name, created_at' };
const MEMBERSHIPS: Table = { name: 'auth.memberships', columns: 'tenant_id, account_id, role, created_at' };

export const tenantsByIds = selectByKeys<TenantRow>(TENANTS, { key: 'id' });
export const accountsByIds = selectByKeys<AccountRow>(ACCOUNTS, { key: 'id' });
/** Memberships in the current tenant of these accounts (an account sees its own in every tenant). */
export const membershipsByAccountIds = selectByKeys<MembershipRow>(MEMBERSHIPS, { key: 'account_id', currentTenantOnly: true });

/** One page of the current tenant's members, oldest first (the total only when asked for). */
export const membersPage = (tx: Tx, page: ListRequest) =>
  readList<MembershipRow>(tx, { columns: MEMBERSHIPS.columns, from: MEMBERSHIPS.name, where: [], orderBy: 'created_at, account_id', values: [] }, page);

export async function loginCandidates(tx: Tx, email: string) {
  const { rows } = await tx.query<LoginCandidate>('SELECT * FROM auth.login_candidates($1)', [email]);
  return rows;
}

export async function myMemberships(tx: Tx) {
  const { rows } = await tx.query<MyMembershipRow>('SELECT * FROM auth.my_memberships()');
  return rows;
}

export async function insertRefreshToken(
  tx: Tx,
  token: { tenantId: string; familyId: string; accountId: string; hash: Buffer; ttlSeconds: number },
) {
  await tx.query(
    `INSERT INTO auth.refresh_tokens (tenant_id, family_id, account_id, token_hash, expires_at)
     VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
    [token.tenantId, token.familyId, token.accountId, token.hash, token.ttlSeconds],
  );
}

/** Locks the token row so two concurrent refreshes cannot both rotate it. */
export async function refreshTokenForUpdate(tx: Tx, hash: Buffer) {
  const { rows } = await tx.query<RefreshTokenRow>(
    `SELECT id, tenant_id, family_id, account_id, expires_at, rotated_at, revoked_at
     FROM auth.refresh_tokens WHERE tenant_id = ${CURRENT_TENANT} AND token_hash = $1 FOR UPDATE`,
    [hash],
  );
  return rows[0] ?? null;
}

export async function markRotated(tx: Tx, id: string) {
  await tx.query('UPDATE auth.refresh_tokens SET rotated_at = now() WHERE id = $1', [id]);
}

export async function revokeFamily(tx: Tx, familyId: string) {
  await tx.query('UPDATE auth.refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL', [
    familyId,
  ]);
}

/** The caller's own account row (visible to itself through RLS), with its secrets. */
export async function ownAccount(tx: Tx, accountId: string) {
  const { rows } = await tx.query<{ id: string; password_hash: string; is_platform_admin: boolean }>(
    'SELECT id, password_hash, is_platform_admin FROM auth.accounts WHERE id = $1',
    [accountId],
  );
  return rows[0] ?? null;
}

export async function updatePassword(tx: Tx, accountId: string, hash: string) {
  await tx.query('UPDATE auth.accounts SET password_hash = $2, password_changed_at = now() WHERE id = $1', [
    accountId,
    hash,
  ]);
}

export async function revokeMySessions(tx: Tx) {
  await tx.query('SELECT auth.revoke_my_sessions()');
}

export async function accountIdByEmail(tx: Tx, email: string) {
  const { rows } = await tx.query<{ id: string | null }>('SELECT auth.account_id_by_email($1) AS id', [email]);
  return rows[0]?.id ?? null;
}

export async function createAccount(tx: Tx, account: { email: string; name: string; passwordHash: string; id?: string }) {
  const { rows } = await tx.query<{ id: string }>('SELECT auth.create_account($1, $2, $3, $4) AS id', [
    account.email,
    account.name,
    account.passwordHash,
    account.id ?? null,
  ]);
  return rows[0]!.id;
}

/** Adds a membership in the current tenant; null when the account is already a member. */
export async function insertMembership(tx: Tx, accountId: string, role: Role) {
  const { rows } = await tx.query<MembershipRow>(
    `INSERT INTO auth.memberships (tenant_id, account_id, role) VALUES (${CURRENT_TENANT}, $1, $2)
     ON CONFLICT (tenant_id, account_id) DO NOTHING RETURNING ${MEMBERSHIPS.columns}`,
    [accountId, role],
  );
  return rows[0] ?? null;
}

/**
 * Locks the current tenant's owner rows and the target's membership, so that two concurrent
 * demotions or removals cannot leave a tenant without an owner.
 */
export async function lockMembershipAndOwners(tx: Tx, accountId: string) {
  const { rows } = await tx.query<MembershipRow>(
    `SELECT ${MEMBERSHIPS.columns} FROM auth.memberships WHERE account_id = $1 OR role = 'owner' ORDER BY account_id FOR UPDATE`,
    [accountId],
  );
  return {
    target: rows.find((r) => r.account_id === accountId) ?? null,
    owners: rows.filter((r) => r.role === 'owner').length,
  };
}

export async function updateRole(tx: Tx, accountId: string, role: Role) {
  const { rows } = await tx.query<MembershipRow>(
    `UPDATE auth.memberships SET role = $2 WHERE account_id = $1 RETURNING ${MEMBERSHIPS.columns}`,
    [accountId, role],
  );
  return rows[0] ?? null;
}

export async function deleteMembership(tx: Tx, accountId: string) {
  await tx.query('DELETE FROM auth.memberships WHERE account_id = $1', [accountId]);
  await tx.query('UPDATE auth.refresh_tokens SET revoked_at = now() WHERE account_id = $1 AND revoked_at IS NULL', [
    accountId,
  ]);
}

/** Inserts a tenant; the transaction's app.tenant_id must already be the new id (RLS check). */
export async function insertTenant(tx: Tx, tenant: { id: string; slug: string; name: string; saleorChannel: string }) {
  const { rows } = await tx.query<TenantRow>(
    `INSERT INTO auth.tenants (id, slug, name, saleor_channel) VALUES ($1, $2, $3, $4)
     ON CONFLICT (slug) DO NOTHING RETURNING ${TENANTS.columns}`,
    [tenant.id, tenant.slug, tenant.name, tenant.saleorChannel],
  );
  return rows[0] ?? null;
}
