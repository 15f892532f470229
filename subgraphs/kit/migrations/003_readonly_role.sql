-- Up Migration

-- The read-only role bizosaas_readonly (kit/db/roles.ts; created by the superuser with the other
-- two: db:setup, the embedded start) reads tenant tables under row-level security, for people
-- inspecting data in an SQL admin UI (docker compose profile `admin`):
--   * policy tenant_readonly: SELECT only, rows whose tenant column equals app.tenant_id, as the
--     app role's tenant_isolation (no tenant set: no rows; `SET app.tenant_id = '<uuid>'` in the
--     session shows that tenant's);
--   * the same SELECT privileges the app role has on the table (whole table, or the columns it
--     was given: a lead form's key hash stays out of reach), USAGE on its schema; nothing else.
-- It owns nothing, is neither superuser nor BYPASSRLS, and is granted no other table (auth.accounts,
-- with password hashes, is not a tenant table). kit.tenant_table gives every new tenant table the
-- same (below); this migration gives it to the tables that exist already. Where the role does not
-- exist (a database set up before it), nothing is done: db:setup again creates it, and a later
-- call of kit.readonly_access(table) catches a table up.

CREATE FUNCTION kit.readonly_access(tbl regclass, tenant_column name DEFAULT 'tenant_id') RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
DECLARE
  v_schema name;
  v_table text;
  v_columns text;
  v_tenant constant text := '(SELECT NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)';
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bizosaas_readonly') THEN
    RETURN;
  END IF;
  SELECT n.nspname, format('%I.%I', n.nspname, c.relname) INTO v_schema, v_table
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = tbl;
  EXECUTE format('DROP POLICY IF EXISTS tenant_readonly ON %s', v_table);
  EXECUTE format('CREATE POLICY tenant_readonly ON %s FOR SELECT TO bizosaas_readonly USING (%I = %s)', v_table, tenant_column, v_tenant);
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO bizosaas_readonly', v_schema);
  EXECUTE format('REVOKE ALL ON %s FROM bizosaas_readonly', v_table);
  IF has_table_privilege('bizosaas_app', tbl, 'SELECT') THEN
    EXECUTE format('GRANT SELECT ON %s TO bizosaas_readonly', v_table);
  ELSE
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO v_columns
    FROM pg_attribute a
    WHERE a.attrelid = tbl AND a.attnum > 0 AND NOT a.attisdropped AND has_column_privilege('bizosaas_app', tbl, a.attnum, 'SELECT');
    IF v_columns IS NOT NULL THEN
      EXECUTE format('GRANT SELECT (%s) ON %s TO bizosaas_readonly', v_columns, v_table);
    END IF;
  END IF;
END
$$;
REVOKE ALL ON FUNCTION kit.readonly_access(regclass, name) FROM PUBLIC;

-- kit.tenant_table as before (001), then the read-only access.
ALTER FUNCTION kit.tenant_table(regclass, text[], text, name) RENAME TO tenant_table_001;
CREATE FUNCTION kit.tenant_table(
  tbl regclass,
  app_grants text[] DEFAULT ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  owner_access text DEFAULT 'ALL',
  tenant_column name DEFAULT 'tenant_id'
) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
BEGIN
  PERFORM kit.tenant_table_001(tbl, app_grants, owner_access, tenant_column);
  PERFORM kit.readonly_access(tbl, tenant_column);
END
$$;
REVOKE ALL ON FUNCTION kit.tenant_table(regclass, text[], text, name) FROM PUBLIC;

-- The tenant tables that exist already (a database migrated before this): those with the policy.
SELECT kit.readonly_access(format('%I.%I', p.schemaname, p.tablename)::regclass,
  substring(p.qual FROM '^\((\w+) = ')::name)
FROM pg_policies p WHERE p.policyname = 'tenant_isolation';

-- Down Migration
DROP FUNCTION kit.tenant_table(regclass, text[], text, name);
ALTER FUNCTION kit.tenant_table_001(regclass, text[], text, name) RENAME TO tenant_table;
DROP FUNCTION kit.readonly_access(regclass, name);
