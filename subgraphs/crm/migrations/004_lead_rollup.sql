-- Up Migration

-- A daily rollup of the leads for BI (part of crm's contract, like 002's fact views): one row
-- per tenant, UTC day of created_at, status and source, with the day's lead count and the sum,
-- count, min and max of score. The leads dataset's charts that group and filter only by status
-- and source over whole days read it (subgraphs/bi/engine/rollup.ts) instead of the leads: leads
-- per month over a year read about 17,000 rows here instead of 365,000 leads.
--
-- Kept in step by statement triggers on crm.leads: the days a statement touched (old and new
-- rows, so a status change moves its lead between rows) are recomputed from the leads in the
-- same transaction, under a per-tenant-and-day advisory lock (concurrent writers of one day take
-- turns; the one that waited recomputes from leads that include the other's). The app role's
-- writes recompute under its tenant's row-level security.

CREATE TABLE crm.leads_daily (
  tenant_id uuid NOT NULL,
  day date NOT NULL,
  status text NOT NULL,
  source text,
  facts bigint NOT NULL,
  score_sum numeric NOT NULL,
  score_count bigint NOT NULL,
  score_min smallint NOT NULL,
  score_max smallint NOT NULL,
  -- source may be null, so the dimensions cannot be the key: a row id can.
  id bigint GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (tenant_id, day, id)
);
SELECT kit.tenant_table('crm.leads_daily', app_grants => ARRAY['SELECT', 'INSERT', 'DELETE']);

-- The tenants' days given (in pairs), recomputed from the leads: one range read over the span of
-- the days, kept to the days given. (Not a join per day: inside a trigger of a bulk insert the
-- planner still has the table's statistics from before it, and would scan the table per day.)
CREATE FUNCTION crm.refresh_leads_daily(p_tenants uuid[], p_days date[]) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, crm
-- Planned for the days given (one day's index range, or a bulk load's whole span), never a generic plan.
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  v_from timestamptz := (SELECT min(d) FROM unnest(p_days) d)::timestamp AT TIME ZONE 'UTC';
  v_to timestamptz := ((SELECT max(d) FROM unnest(p_days) d) + 1)::timestamp AT TIME ZONE 'UTC';
  v_tenants uuid[] := ARRAY(SELECT DISTINCT t FROM unnest(p_tenants) t);
BEGIN
  PERFORM kit.lock_tenant_days('crm.leads_daily', p_tenants, p_days);
  DELETE FROM crm.leads_daily r
  WHERE r.tenant_id = ANY(v_tenants) AND r.day >= (v_from AT TIME ZONE 'UTC')::date AND r.day < (v_to AT TIME ZONE 'UTC')::date
    AND (r.tenant_id, r.day) IN (SELECT t, d FROM unnest(p_tenants, p_days) AS u(t, d));
  INSERT INTO crm.leads_daily (tenant_id, day, status, source, facts, score_sum, score_count, score_min, score_max)
  SELECT l.tenant_id, (l.created_at AT TIME ZONE 'UTC')::date, l.status, l.source, count(*), sum(l.score), count(l.score), min(l.score), max(l.score)
  FROM crm.leads l
  WHERE l.tenant_id = ANY(v_tenants) AND l.created_at >= v_from AND l.created_at < v_to
    AND (l.tenant_id, (l.created_at AT TIME ZONE 'UTC')::date) IN (SELECT t, d FROM unnest(p_tenants, p_days) AS u(t, d))
  GROUP BY 1, 2, 3, 4;
END
$$;

CREATE FUNCTION crm.sync_leads_daily() RETURNS trigger
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, crm AS $$
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
    -- Only a change of what the rollup holds (most lead edits touch neither).
    SELECT array_agg(tenant_id), array_agg(day) INTO v_tenants, v_days
    FROM (
      SELECT o.tenant_id, (o.created_at AT TIME ZONE 'UTC')::date AS day FROM old_rows o JOIN new_rows n ON n.tenant_id = o.tenant_id AND n.id = o.id
      WHERE (o.status, o.source, o.score, o.created_at) IS DISTINCT FROM (n.status, n.source, n.score, n.created_at)
      UNION
      SELECT n.tenant_id, (n.created_at AT TIME ZONE 'UTC')::date FROM old_rows o JOIN new_rows n ON n.tenant_id = o.tenant_id AND n.id = o.id
      WHERE (o.status, o.source, o.score, o.created_at) IS DISTINCT FROM (n.status, n.source, n.score, n.created_at)
    ) k;
  END IF;
  IF v_tenants IS NOT NULL THEN
    PERFORM crm.refresh_leads_daily(v_tenants, v_days);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER leads_daily_insert AFTER INSERT ON crm.leads
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION crm.sync_leads_daily();
CREATE TRIGGER leads_daily_update AFTER UPDATE ON crm.leads
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION crm.sync_leads_daily();
CREATE TRIGGER leads_daily_delete AFTER DELETE ON crm.leads
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION crm.sync_leads_daily();

INSERT INTO crm.leads_daily (tenant_id, day, status, source, facts, score_sum, score_count, score_min, score_max)
SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date, status, source, count(*), sum(score), count(score), min(score), max(score)
FROM crm.leads
GROUP BY 1, 2, 3, 4;

-- What BI reads (the leads dataset's rollup), with the caller's rights like the fact views.
CREATE VIEW crm.lead_facts_daily WITH (security_invoker = true) AS
SELECT tenant_id, day, status, source, facts, score_sum, score_count, score_min, score_max
FROM crm.leads_daily;
GRANT SELECT ON crm.lead_facts_daily TO bizosaas_app;

-- Down Migration
DROP VIEW crm.lead_facts_daily;
DROP TRIGGER leads_daily_delete ON crm.leads;
DROP TRIGGER leads_daily_update ON crm.leads;
DROP TRIGGER leads_daily_insert ON crm.leads;
DROP FUNCTION crm.sync_leads_daily();
DROP FUNCTION crm.refresh_leads_daily(uuid[], date[]);
DROP TABLE crm.leads_daily;
