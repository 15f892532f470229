import type { Tx } from '../../kit/db/database.ts';
import { CURRENT_TENANT } from '../../kit/db/tenant.ts';
import { DASHBOARDS, type DashboardRow } from '../store.ts';

// The SQL of share links (bi.share_links, 003_share_links.sql). Every function runs inside a
// tenant transaction: the admin's (create, revoke, list) or the link's own tenant (the anonymous
// read, share/scope.ts), so row-level security decides which links exist.

export interface ShareLinkRow {
  id: string;
  dashboard_id: string;
  created_by: string | null;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

const COLUMNS = 'id, dashboard_id, created_by, created_at, expires_at, revoked_at';

/** Whether the tenant has this dashboard, and whether it is published; null when it has none. */
export async function dashboardPublished(tx: Tx, dashboardId: string): Promise<boolean | null> {
  const { rows } = await tx.query<{ published: boolean }>('SELECT published FROM bi.dashboards WHERE id = $1', [dashboardId]);
  return rows[0]?.published ?? null;
}

/** A new link of the dashboard, expiring `seconds` after now (the transaction's now, as created_at). */
export async function insertShareLink(tx: Tx, dashboardId: string, seconds: number, createdBy: string | null): Promise<ShareLinkRow> {
  const { rows } = await tx.query<ShareLinkRow>(
    `INSERT INTO bi.share_links (tenant_id, dashboard_id, created_by, expires_at)
     VALUES (${CURRENT_TENANT}, $1, $2, now() + make_interval(secs => $3))
     RETURNING ${COLUMNS}`,
    [dashboardId, createdBy, seconds],
  );
  return rows[0]!;
}

/** Revokes the link (a revoked one keeps its first revocation time); its id, or null when the tenant has no such link. */
export async function revokeShareLink(tx: Tx, id: string): Promise<string | null> {
  const { rows } = await tx.query<{ id: string }>('UPDATE bi.share_links SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING id', [id]);
  return rows[0]?.id ?? null;
}

/** The links of these dashboards, newest first (a DataLoader batch: one statement, off share_links_by_dashboard). */
export async function linksOfDashboards(tx: Tx, dashboardIds: readonly string[]): Promise<ShareLinkRow[]> {
  const { rows } = await tx.query<ShareLinkRow>(
    `SELECT ${COLUMNS} FROM bi.share_links WHERE dashboard_id = ANY($1::uuid[]) ORDER BY dashboard_id, created_at DESC, id DESC`,
    [dashboardIds],
  );
  return rows;
}

const DASHBOARD_OF_LINK = `SELECT ${DASHBOARDS.columns.split(', ').map((c) => `d.${c}`).join(', ')}
  FROM bi.share_links l JOIN bi.dashboards d ON d.tenant_id = l.tenant_id AND d.id = l.dashboard_id
  WHERE l.id = $1 AND l.dashboard_id = $2 AND l.revoked_at IS NULL AND l.expires_at > now() AND d.published`;

/**
 * The dashboard a link shows, checked on every use in one statement: the link exists in the
 * tenant, is of this dashboard, is neither revoked nor expired, and the dashboard is published.
 * Null otherwise, whichever of these failed.
 */
export async function dashboardOfLink(tx: Tx, linkId: string, dashboardId: string): Promise<DashboardRow | null> {
  const { rows } = await tx.query<DashboardRow>(DASHBOARD_OF_LINK, [linkId, dashboardId]);
  return rows[0] ?? null;
}
