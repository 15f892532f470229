-- Up Migration

-- The order facts' daily rollups (008) recomputed by the kit's kit.refresh_daily, which every daily
-- rollup shares (kit migration 005): same days, same rows, same locks; the triggers of 008 call these.
-- Bodies parsed at creation (not strings), so PostgreSQL records that they use kit.refresh_daily.
CREATE OR REPLACE FUNCTION bi.refresh_orders_daily(p_tenants uuid[], p_days date[]) RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog
BEGIN ATOMIC
  SELECT kit.refresh_daily('bi.orders_daily', 'bi.orders', 'created_at', ARRAY['channel', 'status', 'paid', 'currency'],
    ARRAY['total_gross', 'total_net'], p_tenants, p_days);
END;

CREATE OR REPLACE FUNCTION bi.refresh_order_lines_daily(p_tenants uuid[], p_days date[]) RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog
BEGIN ATOMIC
  SELECT kit.refresh_daily('bi.order_lines_daily', 'bi.order_lines', 'created_at', ARRAY['product_id', 'product_name', 'currency'],
    ARRAY['quantity', 'unit_price_gross', 'total_gross'], p_tenants, p_days);
END;

-- Down Migration
-- Nothing to undo: the functions keep 008's signature and results (the same rows from the
-- same facts); 008's Down drops them, and while they exist kit.refresh_daily cannot be dropped.
