-- Up Migration

-- Daily rollups of the order facts (subgraphs/bi/datasets.ts, FactRollup; engine/rollup.ts): one
-- row per tenant, UTC day of created_at and value of each dimension, with the day's row count and,
-- per measure, its sum, non-null count, min and max. A chart that groups and filters only by these
-- dimensions over whole days reads a few thousand rows here instead of a million facts (a year of
-- order charts: 0.2-1 s on the facts, issue 16 aims at 250 ms).
--
-- Kept in step by statement triggers on the facts: the days a statement touched (its transition
-- tables) are recomputed from the facts in the same transaction, so a chart is never staler than
-- the facts and the cache generation that a write bumps is enough. Recomputing whole days (a
-- day is a few thousand facts at most) keeps it exact for min and max, which a running delta could
-- not; a per-tenant-and-day advisory lock makes concurrent writers of one day take turns (the one
-- that waited then recomputes from facts that include the other's). Tenant tables: the app role's
-- writes recompute under its tenant's row-level security, the owner's (migrations, demo data) any.

CREATE TABLE bi.orders_daily (
  tenant_id uuid NOT NULL,
  day date NOT NULL,
  channel text NOT NULL,
  status text NOT NULL,
  paid boolean NOT NULL,
  currency text NOT NULL,
  facts bigint NOT NULL,
  total_gross_sum numeric NOT NULL,
  total_gross_count bigint NOT NULL,
  total_gross_min numeric NOT NULL,
  total_gross_max numeric NOT NULL,
  total_net_sum numeric NOT NULL,
  total_net_count bigint NOT NULL,
  total_net_min numeric NOT NULL,
  total_net_max numeric NOT NULL,
  PRIMARY KEY (tenant_id, day, channel, status, paid, currency)
);
SELECT kit.tenant_table('bi.orders_daily', app_grants => ARRAY['SELECT', 'INSERT', 'DELETE']);

CREATE TABLE bi.order_lines_daily (
  tenant_id uuid NOT NULL,
  day date NOT NULL,
  product_id text,
  product_name text NOT NULL,
  currency text NOT NULL,
  facts bigint NOT NULL,
  quantity_sum numeric NOT NULL,
  quantity_count bigint NOT NULL,
  quantity_min integer NOT NULL,
  quantity_max integer NOT NULL,
  unit_price_gross_sum numeric NOT NULL,
  unit_price_gross_count bigint NOT NULL,
  unit_price_gross_min numeric NOT NULL,
  unit_price_gross_max numeric NOT NULL,
  total_gross_sum numeric NOT NULL,
  total_gross_count bigint NOT NULL,
  total_gross_min numeric NOT NULL,
  total_gross_max numeric NOT NULL,
  -- A product may be gone (product_id null), so the dimensions cannot be the key: a row id can.
  id bigint GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (tenant_id, day, id)
);
SELECT kit.tenant_table('bi.order_lines_daily', app_grants => ARRAY['SELECT', 'INSERT', 'DELETE']);

-- The tenants' days given (in pairs), recomputed from the facts: one range read over the span of
-- the days, kept to the days given. (Not a join per day: inside a trigger of a bulk insert the
-- planner still has the table's statistics from before it, and would scan the table per day.)
CREATE FUNCTION bi.refresh_orders_daily(p_tenants uuid[], p_days date[]) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, bi
-- Planned for the days given (one day's index range, or a bulk load's whole span), never a generic plan.
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  v_from timestamptz := (SELECT min(d) FROM unnest(p_days) d)::timestamp AT TIME ZONE 'UTC';
  v_to timestamptz := ((SELECT max(d) FROM unnest(p_days) d) + 1)::timestamp AT TIME ZONE 'UTC';
  v_tenants uuid[] := ARRAY(SELECT DISTINCT t FROM unnest(p_tenants) t);
BEGIN
  PERFORM kit.lock_tenant_days('bi.orders_daily', p_tenants, p_days);

  DELETE FROM bi.orders_daily r
  WHERE r.tenant_id = ANY(v_tenants) AND r.day >= (v_from AT TIME ZONE 'UTC')::date AND r.day < (v_to AT TIME ZONE 'UTC')::date
    AND (r.tenant_id, r.day) IN (SELECT t, d FROM unnest(p_tenants, p_days) AS u(t, d));
  INSERT INTO bi.orders_daily
  SELECT o.tenant_id, (o.created_at AT TIME ZONE 'UTC')::date, o.channel, o.status, o.paid, o.currency, count(*),
    sum(o.total_gross), count(o.total_gross), min(o.total_gross), max(o.total_gross),
    sum(o.total_net), count(o.total_net), min(o.total_net), max(o.total_net)
  FROM bi.orders o
  WHERE o.tenant_id = ANY(v_tenants) AND o.created_at >= v_from AND o.created_at < v_to
    AND (o.tenant_id, (o.created_at AT TIME ZONE 'UTC')::date) IN (SELECT t, d FROM unnest(p_tenants, p_days) AS u(t, d))
  GROUP BY 1, 2, 3, 4, 5, 6;
END
$$;

-- The same for the order lines.
CREATE FUNCTION bi.refresh_order_lines_daily(p_tenants uuid[], p_days date[]) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, bi
-- Planned for the days given (one day's index range, or a bulk load's whole span), never a generic plan.
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  v_from timestamptz := (SELECT min(d) FROM unnest(p_days) d)::timestamp AT TIME ZONE 'UTC';
  v_to timestamptz := ((SELECT max(d) FROM unnest(p_days) d) + 1)::timestamp AT TIME ZONE 'UTC';
  v_tenants uuid[] := ARRAY(SELECT DISTINCT t FROM unnest(p_tenants) t);
BEGIN
  PERFORM kit.lock_tenant_days('bi.order_lines_daily', p_tenants, p_days);

  DELETE FROM bi.order_lines_daily r
  WHERE r.tenant_id = ANY(v_tenants) AND r.day >= (v_from AT TIME ZONE 'UTC')::date AND r.day < (v_to AT TIME ZONE 'UTC')::date
    AND (r.tenant_id, r.day) IN (SELECT t, d FROM unnest(p_tenants, p_days) AS u(t, d));
  INSERT INTO bi.order_lines_daily (tenant_id, day, product_id, product_name, currency, facts, quantity_sum, quantity_count, quantity_min, quantity_max,
    unit_price_gross_sum, unit_price_gross_count, unit_price_gross_min, unit_price_gross_max, total_gross_sum, total_gross_count, total_gross_min, total_gross_max)
  SELECT l.tenant_id, (l.created_at AT TIME ZONE 'UTC')::date, l.product_id, l.product_name, l.currency, count(*),
    sum(l.quantity), count(l.quantity), min(l.quantity), max(l.quantity),
    sum(l.unit_price_gross), count(l.unit_price_gross), min(l.unit_price_gross), max(l.unit_price_gross),
    sum(l.total_gross), count(l.total_gross), min(l.total_gross), max(l.total_gross)
  FROM bi.order_lines l
  WHERE l.tenant_id = ANY(v_tenants) AND l.created_at >= v_from AND l.created_at < v_to
    AND (l.tenant_id, (l.created_at AT TIME ZONE 'UTC')::date) IN (SELECT t, d FROM unnest(p_tenants, p_days) AS u(t, d))
  GROUP BY 1, 2, 3, 4, 5;
END
$$;

-- The trigger of both fact tables: the days its statement's rows (old and new) fall on, in that
-- table's rollup (the order lines' rollup holds none of the order's columns).
CREATE FUNCTION bi.sync_order_rollups() RETURNS trigger
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, bi AS $$
DECLARE
  v_tenants uuid[];
  v_days date[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(tenant_id), array_agg(day) INTO v_tenants, v_days
    FROM (SELECT DISTINCT tenant_id, (created_at AT TIME ZONE 'UTC')::date AS day FROM new_rows) k;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(tenant_id), array_agg(day) INTO v_tenants, v_days
    FROM (SELECT DISTINCT tenant_id, (created_at AT TIME ZONE 'UTC')::date AS day FROM old_rows) k;
  ELSE
    SELECT array_agg(tenant_id), array_agg(day) INTO v_tenants, v_days
    FROM (
      SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date AS day FROM old_rows
      UNION
      SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date FROM new_rows
    ) k;
  END IF;
  IF v_tenants IS NULL THEN
    RETURN NULL;
  ELSIF TG_TABLE_NAME = 'orders' THEN
    PERFORM bi.refresh_orders_daily(v_tenants, v_days);
  ELSE
    PERFORM bi.refresh_order_lines_daily(v_tenants, v_days);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER orders_rollup_insert AFTER INSERT ON bi.orders
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bi.sync_order_rollups();
CREATE TRIGGER orders_rollup_update AFTER UPDATE ON bi.orders
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bi.sync_order_rollups();
CREATE TRIGGER orders_rollup_delete AFTER DELETE ON bi.orders
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION bi.sync_order_rollups();
CREATE TRIGGER order_lines_rollup_insert AFTER INSERT ON bi.order_lines
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bi.sync_order_rollups();
CREATE TRIGGER order_lines_rollup_update AFTER UPDATE ON bi.order_lines
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bi.sync_order_rollups();
CREATE TRIGGER order_lines_rollup_delete AFTER DELETE ON bi.order_lines
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION bi.sync_order_rollups();

-- The facts already stored.
INSERT INTO bi.orders_daily
SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date, channel, status, paid, currency, count(*),
  sum(total_gross), count(total_gross), min(total_gross), max(total_gross),
  sum(total_net), count(total_net), min(total_net), max(total_net)
FROM bi.orders
GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO bi.order_lines_daily (tenant_id, day, product_id, product_name, currency, facts, quantity_sum, quantity_count, quantity_min, quantity_max,
    unit_price_gross_sum, unit_price_gross_count, unit_price_gross_min, unit_price_gross_max, total_gross_sum, total_gross_count, total_gross_min, total_gross_max)
SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date, product_id, product_name, currency, count(*),
  sum(quantity), count(quantity), min(quantity), max(quantity),
  sum(unit_price_gross), count(unit_price_gross), min(unit_price_gross), max(unit_price_gross),
  sum(total_gross), count(total_gross), min(total_gross), max(total_gross)
FROM bi.order_lines
GROUP BY 1, 2, 3, 4, 5;

-- Down Migration
DROP TRIGGER order_lines_rollup_delete ON bi.order_lines;
DROP TRIGGER order_lines_rollup_update ON bi.order_lines;
DROP TRIGGER order_lines_rollup_insert ON bi.order_lines;
DROP TRIGGER orders_rollup_delete ON bi.orders;
DROP TRIGGER orders_rollup_update ON bi.orders;
DROP TRIGGER orders_rollup_insert ON bi.orders;
DROP FUNCTION bi.sync_order_rollups();
DROP FUNCTION bi.refresh_order_lines_daily(uuid[], date[]);
DROP FUNCTION bi.refresh_orders_daily(uuid[], date[]);
DROP TABLE bi.order_lines_daily;
DROP TABLE bi.orders_daily;
