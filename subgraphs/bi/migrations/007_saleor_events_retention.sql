-- Up Migration

-- bi.saleor_events keeps one row per webhook delivered (order, event, Saleor's event key) so a
-- delivery seen before changes nothing. Past a few days Saleor no longer retries a delivery, and
-- a replay of an old one changes nothing anyway (an order's stored state is only replaced by a
-- newer one: webhooks/store.ts), so old rows are only weight: the retention job
-- (webhooks/retention.ts) deletes those received before BI_SALEOR_EVENTS_RETENTION_DAYS.

-- Migrations run in one transaction, where CREATE INDEX CONCURRENTLY cannot: this build blocks
-- webhook inserts while it runs (0.5 s for a million deliveries, measured). A delivery that waits
-- past Saleor's timeout is retried by Saleor, so nothing is lost; on a large table, build it
-- first without the lock and this statement does nothing:
--   CREATE INDEX CONCURRENTLY IF NOT EXISTS saleor_events_received_at_idx ON bi.saleor_events (received_at);
CREATE INDEX IF NOT EXISTS saleor_events_received_at_idx ON bi.saleor_events (received_at);

-- Every tenant's rows received before p_before (never within the last day, whatever the caller
-- asks: the rows that stop Saleor's retries of today's deliveries stay), at most p_limit of them
-- (oldest first), deleted; how many. SECURITY DEFINER (the owner's policy covers every tenant) because retention is not
-- a tenant's request: the app role gets this one narrow function, not the rows.
CREATE FUNCTION bi.prune_saleor_events(p_before timestamptz, p_limit integer) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, bi AS $$
DECLARE
  v_deleted integer;
BEGIN
  DELETE FROM bi.saleor_events e
  WHERE (e.tenant_id, e.order_id, e.event, e.event_key) IN (
    SELECT o.tenant_id, o.order_id, o.event, o.event_key FROM bi.saleor_events o
    WHERE o.received_at < LEAST(p_before, now() - interval '1 day')
    ORDER BY o.received_at
    LIMIT LEAST(GREATEST(p_limit, 1), 10000)
  );
  GET DIAGNOSTICS v_deleted = ROW_COUNT;
  RETURN v_deleted;
END
$$;

REVOKE ALL ON FUNCTION bi.prune_saleor_events(timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bi.prune_saleor_events(timestamptz, integer) TO bizosaas_app;

-- Down Migration
DROP FUNCTION bi.prune_saleor_events(timestamptz, integer);
DROP INDEX bi.saleor_events_received_at_idx;
