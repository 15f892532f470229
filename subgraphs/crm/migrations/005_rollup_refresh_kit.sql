-- Up Migration

-- The leads' daily rollup (004) recomputed by the kit's kit.refresh_daily, which every daily rollup
-- shares (kit migration 005): same days, same rows, same locks; the triggers of 004 call this.
CREATE OR REPLACE FUNCTION crm.refresh_leads_daily(p_tenants uuid[], p_days date[]) RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog AS $$
  SELECT kit.refresh_daily('crm.leads_daily', 'crm.leads', 'created_at', ARRAY['status', 'source'], ARRAY['score'], p_tenants, p_days);
$$;

-- Down Migration
-- Nothing to undo: the function keeps 004's signature and result (the same rows from the
-- same facts), and reverting the subgraphs' migrations drops it before the kit's 005 goes.
