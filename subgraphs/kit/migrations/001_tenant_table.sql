-- Up Migration

-- What every subgraph's migrations share, applied before any of them (schema kit, its own
-- history table). Runs as bizosaas_owner, like every migration.
--
-- kit.tenant_table(table) makes a table a tenant table, in the one form every subgraph uses:
--   * row-level security ENABLEd and FORCEd (FORCE: the policies bind the owner too, so a
--     SECURITY DEFINER function cannot read more than its owner policy allows);
--   * policy tenant_isolation: the app role (bizosaas_app) sees and writes only rows whose
--     tenant column equals the transaction-local app.tenant_id that the kit's withTenant() sets
--     (no tenant set: no rows). The setting is read through a scalar subquery, which PostgreSQL
--     evaluates once per statement (an InitPlan) instead of once per row, so a scan of many rows
--     (a count, a sequential scan) does not parse the setting into a uuid for each (counting the
--     demo tenant's 300 leads took 0.51 ms read per row, 0.14 ms read once); index scans use it
--     as they would a constant;
--   * policy owner_functions (owner_access): what the owner role may do to the rows: 'ALL' for
--     migrations, demo data and SECURITY DEFINER functions that write; 'SELECT' for definer
--     functions that only read; 'NONE' for a table no definer function touches;
--   * the app role's privileges (app_grants): USAGE on the table's schema, and each entry of
--     app_grants on the table, e.g. 'SELECT', 'INSERT' or 'SELECT (id, name)' for some columns.
--
-- A subgraph's migration declares a tenant table after creating it:
--   SELECT kit.tenant_table('bi.reports');
--   SELECT kit.tenant_table('crm.lead_forms', app_grants => ARRAY['SELECT (tenant_id, id, name)', 'INSERT'], owner_access => 'SELECT');
-- A table that is not isolated by tenant this way (auth.accounts) writes its own RLS and grants.

CREATE FUNCTION kit.tenant_table(
  tbl regclass,
  app_grants text[] DEFAULT ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  owner_access text DEFAULT 'ALL',
  tenant_column name DEFAULT 'tenant_id'
) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
  v_schema name;
  v_table text;
  v_grant text;
  -- The tenant of the transaction, once per statement (see above).
  v_tenant constant text := '(SELECT NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)';
BEGIN
  SELECT n.nspname, format('%I.%I', n.nspname, c.relname) INTO v_schema, v_table
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.oid = tbl AND c.relkind IN ('r', 'p');
  IF v_table IS NULL THEN
    RAISE EXCEPTION 'kit.tenant_table(%): not a table', tbl;
  END IF;
  -- A misspelt or nullable tenant column would make a policy that hides every row, or lets rows
  -- without a tenant in: refuse it here, at migration time.
  IF NOT EXISTS (
    SELECT FROM pg_attribute
    WHERE attrelid = tbl AND attname = tenant_column AND atttypid = 'uuid'::regtype AND attnotnull AND NOT attisdropped
  ) THEN
    RAISE EXCEPTION 'kit.tenant_table(%): no NOT NULL uuid column "%"', v_table, tenant_column;
  END IF;
  IF owner_access IS NULL OR owner_access NOT IN ('ALL', 'SELECT', 'NONE') THEN
    RAISE EXCEPTION 'kit.tenant_table(%): owner_access must be ALL, SELECT or NONE, not %', v_table, owner_access;
  END IF;
  -- Each grant is a privilege, optionally with a column list: nothing else reaches the GRANT.
  FOREACH v_grant IN ARRAY coalesce(app_grants, '{}') LOOP
    IF v_grant IS NULL OR v_grant !~* '^\s*(SELECT|INSERT|UPDATE|DELETE|REFERENCES)(\s*\(\s*[a-z_][a-z0-9_]*(\s*,\s*[a-z_][a-z0-9_]*)*\s*\))?\s*$' THEN
      RAISE EXCEPTION 'kit.tenant_table(%): not a table privilege: %', v_table, v_grant;
    END IF;
  END LOOP;

  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', v_table);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', v_table);
  EXECUTE format('CREATE POLICY tenant_isolation ON %s TO bizosaas_app USING (%I = %s) WITH CHECK (%I = %s)',
    v_table, tenant_column, v_tenant, tenant_column, v_tenant);
  IF owner_access = 'ALL' THEN
    EXECUTE format('CREATE POLICY owner_functions ON %s TO bizosaas_owner USING (true) WITH CHECK (true)', v_table);
  ELSIF owner_access = 'SELECT' THEN
    EXECUTE format('CREATE POLICY owner_functions ON %s FOR SELECT TO bizosaas_owner USING (true)', v_table);
  END IF;

  EXECUTE format('GRANT USAGE ON SCHEMA %I TO bizosaas_app', v_schema);
  IF cardinality(app_grants) > 0 THEN
    EXECUTE format('GRANT %s ON %s TO bizosaas_app', array_to_string(app_grants, ', '), v_table);
  END IF;
END
$$;

-- Only migrations (the owner, who owns it) call it.
REVOKE ALL ON FUNCTION kit.tenant_table(regclass, text[], text, name) FROM PUBLIC;

-- Down Migration
DROP FUNCTION kit.tenant_table(regclass, text[], text, name);
