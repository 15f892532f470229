-- Up Migration

-- Tenants, accounts, memberships and refresh tokens. Runs as bizosaas_owner; the app role
-- (bizosaas_app) only ever sees rows through the row-level security policies below.

CREATE TABLE auth.tenants (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug text NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  saleor_channel text NOT NULL CHECK (saleor_channel ~ '^[a-z0-9][a-z0-9_-]{0,99}$'),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tenants_slug_key ON auth.tenants (slug);

-- An account is a person and may belong to several tenants, so it has no tenant_id: it is
-- visible to itself and to the members of tenants it belongs to (policy below).
CREATE TABLE auth.accounts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  password_hash text NOT NULL,
  is_platform_admin boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  password_changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX accounts_email_key ON auth.accounts (lower(email));

CREATE TABLE auth.memberships (
  tenant_id uuid NOT NULL REFERENCES auth.tenants (id) ON DELETE CASCADE,
  account_id uuid NOT NULL REFERENCES auth.accounts (id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'analyst', 'viewer')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, account_id)
);
-- The one index not led by tenant_id: one account's memberships across tenants (login, the
-- viewer's tenant list), read only through the SECURITY DEFINER functions below.
CREATE INDEX memberships_account_idx ON auth.memberships (account_id, tenant_id);

-- Opaque refresh tokens, stored as SHA-256 hashes. Rotation keeps the family: presenting a
-- rotated token again revokes the whole family (token theft detection).
CREATE TABLE auth.refresh_tokens (
  tenant_id uuid NOT NULL REFERENCES auth.tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  family_id uuid NOT NULL,
  account_id uuid NOT NULL REFERENCES auth.accounts (id) ON DELETE CASCADE,
  token_hash bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  rotated_at timestamptz,
  revoked_at timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX refresh_tokens_hash_key ON auth.refresh_tokens (tenant_id, token_hash);
CREATE INDEX refresh_tokens_family_idx ON auth.refresh_tokens (tenant_id, family_id);
CREATE INDEX refresh_tokens_account_idx ON auth.refresh_tokens (tenant_id, account_id);

-- Row-level security: the app role's policies compare with the transaction-local app.tenant_id /
-- app.account_id set by the kit's withTenant(), each read once per statement (a scalar subquery;
-- see kit.tenant_table, which also grants the app role USAGE on this schema). The owner runs only
-- migrations, the operator's bootstrap and the narrow SECURITY DEFINER functions below: FORCE
-- makes policies apply to it too, so it gets an explicit one (owner_functions).

-- A tenant's row is its own: its tenant column is its id (a new tenant is inserted in its own
-- scope).
SELECT kit.tenant_table('auth.tenants', app_grants => ARRAY['SELECT', 'INSERT', 'UPDATE'], tenant_column => 'id');
SELECT kit.tenant_table('auth.memberships');
SELECT kit.tenant_table('auth.refresh_tokens', app_grants => ARRAY['SELECT', 'INSERT', 'UPDATE']);

-- Accounts belong to no single tenant: an account sees itself and the members of its tenant, and
-- changes only its own name and password.
ALTER TABLE auth.accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY self_or_fellow_member ON auth.accounts FOR SELECT TO bizosaas_app
  USING (
    id = (SELECT NULLIF(current_setting('app.account_id', true), '')::uuid)
    OR EXISTS (SELECT 1 FROM auth.memberships m WHERE m.account_id = accounts.id AND m.tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid))
  );
CREATE POLICY self_update ON auth.accounts FOR UPDATE TO bizosaas_app
  USING (id = (SELECT NULLIF(current_setting('app.account_id', true), '')::uuid))
  WITH CHECK (id = (SELECT NULLIF(current_setting('app.account_id', true), '')::uuid));
CREATE POLICY owner_functions ON auth.accounts TO bizosaas_owner USING (true) WITH CHECK (true);
GRANT SELECT, UPDATE (name, password_hash, password_changed_at) ON auth.accounts TO bizosaas_app;

-- Cross-tenant look-ups that authentication needs before a tenant is known. Each is as narrow
-- as its caller: no function returns another account's data.

-- Login: the account with this email, with each tenant it belongs to (one row with null
-- tenant when it belongs to none), so the password can be checked first.
CREATE FUNCTION auth.login_candidates(p_email text)
RETURNS TABLE (account_id uuid, password_hash text, tenant_id uuid, tenant_slug text, role text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth AS $$
  SELECT a.id, a.password_hash, t.id, t.slug, m.role
  FROM auth.accounts a
  LEFT JOIN auth.memberships m ON m.account_id = a.id
  LEFT JOIN auth.tenants t ON t.id = m.tenant_id
  WHERE lower(a.email) = lower(p_email)
  ORDER BY m.created_at NULLS LAST, t.slug
$$;

-- The current account's (app.account_id) memberships in every tenant.
CREATE FUNCTION auth.my_memberships()
RETURNS TABLE (tenant_id uuid, slug text, name text, saleor_channel text, tenant_created_at timestamptz, role text, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth AS $$
  SELECT t.id, t.slug, t.name, t.saleor_channel, t.created_at, m.role, m.created_at
  FROM auth.memberships m JOIN auth.tenants t ON t.id = m.tenant_id
  WHERE m.account_id = NULLIF(current_setting('app.account_id', true), '')::uuid
  ORDER BY m.created_at, t.slug
$$;

-- Invitations: the id of the account with this email, if any.
CREATE FUNCTION auth.account_id_by_email(p_email text)
RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth AS $$
  SELECT id FROM auth.accounts WHERE lower(email) = lower(p_email)
$$;

-- Creates an account (or returns the existing one with that email, unchanged).
CREATE FUNCTION auth.create_account(p_email text, p_name text, p_password_hash text, p_id uuid DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth AS $$
DECLARE
  v_id uuid;
BEGIN
  INSERT INTO auth.accounts (id, email, name, password_hash)
  VALUES (COALESCE(p_id, gen_random_uuid()), lower(p_email), p_name, p_password_hash)
  ON CONFLICT ((lower(email))) DO NOTHING
  RETURNING id INTO v_id;
  IF v_id IS NULL THEN
    SELECT id INTO v_id FROM auth.accounts WHERE lower(email) = lower(p_email);
  END IF;
  RETURN v_id;
END
$$;

-- changePassword: revoke every refresh token of the current account, in every tenant.
CREATE FUNCTION auth.revoke_my_sessions()
RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, auth AS $$
  WITH revoked AS (
    UPDATE auth.refresh_tokens SET revoked_at = now()
    WHERE account_id = NULLIF(current_setting('app.account_id', true), '')::uuid AND revoked_at IS NULL
    RETURNING 1
  )
  SELECT count(*)::integer FROM revoked
$$;

REVOKE ALL ON FUNCTION auth.login_candidates(text), auth.my_memberships(), auth.account_id_by_email(text),
  auth.create_account(text, text, text, uuid), auth.revoke_my_sessions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.login_candidates(text), auth.my_memberships(), auth.account_id_by_email(text),
  auth.create_account(text, text, text, uuid), auth.revoke_my_sessions() TO bizosaas_app;

-- Down Migration
DROP SCHEMA auth CASCADE;
