-- Up Migration

-- kit.refresh_daily(rollup, facts, time column, dimensions, measures, tenants, days): the given
-- (tenant, UTC day) pairs of a daily rollup recomputed from its facts, for every rollup the
-- subgraphs keep (crm.leads_daily, bi.orders_daily, bi.order_lines_daily; the datasets' FactRollup
-- in subgraphs/bi/datasets.ts describes the same shape). A rollup has the columns tenant_id, day,
-- its dimensions, facts (the day's row count) and, per measure m, m_sum, m_count (non-null),
-- m_min and m_max. Its statement triggers call this in the writer's transaction (so a chart is
-- never staler than the facts), after kit.lock_tenant_days: concurrent writers of one day take
-- turns, the one that waited recomputing from facts that include the other's. Whole days, not
-- deltas: min and max stay exact.
--
-- One range read over the span of the days, kept to the days given (not a join per day: inside a
-- trigger of a bulk insert the planner still has the table's statistics from before it, and would
-- scan the table per day). Dynamic SQL, so each call is planned for its days (one day's index
-- range, or a bulk load's whole span); parsing it each call costs about 0.1 ms a refresh over the
-- static SQL of each rollup's own function that this replaced (a one-day refresh of the leads'
-- rollup in a transaction: 1.29 against 1.18 ms). Identifiers are quoted, the tables are
-- regclass: callers name their own tables; it runs with the caller's rights (the app role's
-- writes under its tenant's row-level security).
CREATE FUNCTION kit.refresh_daily(
  p_rollup regclass, p_facts regclass, p_time_column text, p_dimensions text[], p_measures text[],
  p_tenants uuid[], p_days date[]
) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
  v_from timestamptz := (SELECT min(d) FROM unnest(p_days) d)::timestamp AT TIME ZONE 'UTC';
  v_to timestamptz := ((SELECT max(d) FROM unnest(p_days) d) + 1)::timestamp AT TIME ZONE 'UTC';
  v_tenants uuid[] := ARRAY(SELECT DISTINCT t FROM unnest(p_tenants) t);
  v_day text := format('(f.%I AT TIME ZONE ''UTC'')::date', p_time_column);
  -- The rollup's columns, the aggregates that fill them and the GROUP BY of the dimensions, built
  -- by loops (plpgsql's cheap path for simple expressions) rather than queries.
  v_columns text := 'tenant_id, day';
  v_values text := 'f.tenant_id, ' || v_day;
  v_group text := '1, 2';
  v_position int := 2;
  v_name text;
BEGIN
  FOREACH v_name IN ARRAY coalesce(p_dimensions, '{}') LOOP
    v_position := v_position + 1;
    v_columns := v_columns || ', ' || quote_ident(v_name);
    v_values := v_values || ', f.' || quote_ident(v_name);
    v_group := v_group || ', ' || v_position;
  END LOOP;
  v_columns := v_columns || ', facts';
  v_values := v_values || ', count(*)';
  FOREACH v_name IN ARRAY coalesce(p_measures, '{}') LOOP
    v_columns := v_columns || format(', %I, %I, %I, %I', v_name || '_sum', v_name || '_count', v_name || '_min', v_name || '_max');
    v_values := v_values || format(', sum(f.%1$I), count(f.%1$I), min(f.%1$I), max(f.%1$I)', v_name);
  END LOOP;

  -- The lock key names the rollup schema-qualified (crm.leads_daily), as the search_path of
  -- pg_catalog alone prints a regclass: the keys the rollups' own functions took before.
  PERFORM kit.lock_tenant_days(p_rollup::text, p_tenants, p_days);
  EXECUTE format(
    'DELETE FROM %s r WHERE r.tenant_id = ANY($1) AND r.day >= $2 AND r.day < $3'
    ' AND (r.tenant_id, r.day) IN (SELECT t, d FROM unnest($4::uuid[], $5::date[]) AS u(t, d))', p_rollup)
  USING v_tenants, (v_from AT TIME ZONE 'UTC')::date, (v_to AT TIME ZONE 'UTC')::date, p_tenants, p_days;
  EXECUTE format(
    'INSERT INTO %s (%s) SELECT %s FROM %s f WHERE f.tenant_id = ANY($1) AND f.%I >= $2 AND f.%I < $3'
    ' AND (f.tenant_id, %s) IN (SELECT t, d FROM unnest($4::uuid[], $5::date[]) AS u(t, d)) GROUP BY %s',
    p_rollup, v_columns, v_values, p_facts, p_time_column, p_time_column, v_day, v_group)
  USING v_tenants, v_from, v_to, p_tenants, p_days;
END
$$;

REVOKE ALL ON FUNCTION kit.refresh_daily(regclass, regclass, text, text[], text[], uuid[], date[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kit.refresh_daily(regclass, regclass, text, text[], text[], uuid[], date[]) TO bizosaas_app;

-- Down Migration
DROP FUNCTION kit.refresh_daily(regclass, regclass, text, text[], text[], uuid[], date[]);
