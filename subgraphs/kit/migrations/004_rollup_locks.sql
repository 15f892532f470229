-- Up Migration

-- kit.lock_tenant_days(rollup, tenants, days): the transaction-scoped advisory locks of the given
-- (tenant, UTC day) pairs of one rollup, taken in a fixed order (so two writers of several days
-- never wait on each other in a circle). A rollup refreshed from its facts (crm.leads_daily,
-- bi.orders_daily, bi.order_lines_daily) takes them first: concurrent writers of one day then take
-- turns, and the one that waited recomputes from facts that include the other's.
CREATE FUNCTION kit.lock_tenant_days(p_rollup text, p_tenants uuid[], p_days date[]) RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog AS $$
  SELECT count(pg_advisory_xact_lock(k.lock))::int * 0 FROM (
    SELECT DISTINCT hashtextextended(p_rollup || ':' || t || ':' || d, 0) AS lock FROM unnest(p_tenants, p_days) AS u(t, d)
    ORDER BY 1
  ) k;
$$;

GRANT EXECUTE ON FUNCTION kit.lock_tenant_days(text, uuid[], date[]) TO bizosaas_app;

-- Down Migration
DROP FUNCTION kit.lock_tenant_days(text, uuid[], date[]);
