import type { Tx } from '../kit/db/database.ts';
import type { ListRequest } from '../kit/connection.ts';
import { readPage } from '../kit/db/list.ts';
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

const TENANT_COLUMNS = 'id, slug, name, saleor_channel, created_at';
const ACCOUNT_COLUMNS = 'id, email, name, created_at';

export async function tenantsByIds(tx: Tx, ids: readonly string[]) {
  const { rows } = await tx.query<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM auth.tenants WHERE id = ANY($1::uuid[])`, [ids]);
  return rows;
}

export async function accountsByIds(tx: Tx, ids: readonly string[]) {
  const { rows } = await tx.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM auth.accounts WHERE id = ANY($1::uuid[])`, [ids]);
  return rows;
}

/** Memberships in the current tenant of these accounts. */
export async function membershipsByAccountIds(tx: Tx, accountIds: readonly string[]) {
  const { rows } = await tx.query<MembershipRow>(
    `SELECT tenant_id, account_id, role, created_at FROM auth.memberships
     WHERE tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid AND account_id = ANY($1::uuid[])`,
    [accountIds],
  );
  return rows;
}

/** One page of the current tenant's members, oldest first (the total only when asked for). */
export function membersPage(tx: Tx, page: ListRequest) {
  return readPage<MembershipRow>(
    tx,
    {
      rows: 'SELECT tenant_id, account_id, role, created_at FROM auth.memberships ORDER BY created_at, account_id',
      count: 'SELECT count(*) AS n FROM auth.memberships',
      values: [],
    },
    page,
  );
}

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
     FROM auth.refresh_tokens WHERE tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
       AND token_hash = $1 FOR UPDATE`,
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
    `INSERT INTO auth.memberships (tenant_id, account_id, role)
     VALUES (NULLIF(current_setting('app.tenant_id', true), '')::uuid, $1, $2)
     ON CONFLICT (tenant_id, account_id) DO NOTHING
     RETURNING tenant_id, account_id, role, created_at`,
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
    `SELECT tenant_id, account_id, role, created_at FROM auth.memberships
     WHERE account_id = $1 OR role = 'owner' ORDER BY account_id FOR UPDATE`,
    [accountId],
  );
  return {
    target: rows.find((r) => r.account_id === accountId) ?? null,
    owners: rows.filter((r) => r.role === 'owner').length,
  };
}

export async function updateRole(tx: Tx, accountId: string, role: Role) {
  const { rows } = await tx.query<MembershipRow>(
    `UPDATE auth.memberships SET role = $2 WHERE account_id = $1 RETURNING tenant_id, account_id, role, created_at`,
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
     ON CONFLICT (slug) DO NOTHING RETURNING ${TENANT_COLUMNS}`,
    [tenant.id, tenant.slug, tenant.name, tenant.saleorChannel],
  );
  return rows[0] ?? null;
}
