-- Up Migration

-- The leads' daily rollup (004) recomputed by the kit's kit.refresh_daily, which every daily rollup
-- shares (kit migration 005): same days, same rows, same locks; the triggers of 004 call this.
CREATE OR REPLACE FUNCTION crm.refresh_leads_daily(p_tenants uuid[], p_days date[]) RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog
-- A body parsed at creation (not a string), so PostgreSQL records that it uses kit.refresh_daily.
BEGIN ATOMIC
  SELECT kit.refresh_daily('crm.leads_daily', 'crm.leads', 'created_at', ARRAY['status', 'source'], ARRAY['score'], p_tenants, p_days);
END;

-- Down Migration
-- Nothing to undo: the function keeps 004's signature and result (the same rows from the
-- same facts); 004's Down drops it, and while it exists kit.refresh_daily cannot be dropped.
