-- Up Migration

-- Share links of dashboards (subgraphs/bi/share/): an anonymous caller holding a link's token
-- reads that one dashboard, its charts and their data, until the link expires or is revoked.
-- The token itself is never stored: it is a signed JWT naming this row (its id, the tenant and
-- the dashboard), so a forged or tampered token is refused before any read, and this row decides
-- on every use whether the link still works (revoked_at, expires_at): revocation is at once.
-- Runs as bizosaas_owner; the app role sees rows only through kit.tenant_table()'s policies, and
-- a link is read in its own tenant's transaction (the tenant the verified token names).

CREATE TABLE bi.share_links (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  dashboard_id uuid NOT NULL,
  -- The admin who created it; stays when they leave the tenant (the link is the tenant's).
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  -- At most 90 days (createShareLink's limit, kept here too).
  CONSTRAINT share_links_lifetime CHECK (expires_at > created_at AND expires_at <= created_at + interval '90 days'),
  CONSTRAINT share_links_revoked CHECK (revoked_at IS NULL OR revoked_at >= created_at),
  -- A deleted dashboard takes its links with it: its tokens then find no row.
  CONSTRAINT share_links_dashboard_fkey FOREIGN KEY (tenant_id, dashboard_id)
    REFERENCES bi.dashboards (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT share_links_created_by_fkey FOREIGN KEY (tenant_id, created_by)
    REFERENCES auth.memberships (tenant_id, account_id) ON DELETE SET NULL (created_by)
);
-- Dashboard.shareLinks (newest first) and the dashboard's cascade.
CREATE INDEX share_links_by_dashboard ON bi.share_links (tenant_id, dashboard_id, created_at DESC, id DESC);
CREATE INDEX share_links_created_by ON bi.share_links (tenant_id, created_by);

-- Links are created and revoked, never edited otherwise nor deleted by the app (their dashboard's
-- deletion removes them): the app role may set revoked_at only.
SELECT kit.tenant_table('bi.share_links', app_grants => ARRAY['SELECT', 'INSERT', 'UPDATE (revoked_at)']);

-- Down Migration

DROP TABLE bi.share_links;
