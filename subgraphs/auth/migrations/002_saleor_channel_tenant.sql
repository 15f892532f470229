-- Up Migration

-- The tenant of a Saleor channel, for what arrives with no tenant: a Saleor webhook (bi's
-- POST /webhooks/saleor) and a backfill of a channel's orders. SECURITY DEFINER because the caller
-- has no tenant yet (auth.tenants is under row-level security); as narrow as its callers: one
-- channel slug in, one tenant id out, nothing else of the tenant.
--
-- Nothing makes a channel belong to one tenant only (createTenant takes any slug), so a channel
-- that several tenants name is ambiguous: the function answers null, as for an unknown channel,
-- and the caller ignores the order rather than hand it to either tenant.
CREATE FUNCTION auth.tenant_of_saleor_channel(p_channel text)
RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, auth AS $$
  SELECT CASE WHEN count(*) = 1 THEN (array_agg(id))[1] END
  FROM auth.tenants
  WHERE saleor_channel = p_channel
$$;

-- Every webhook looks its channel up.
CREATE INDEX tenants_saleor_channel_idx ON auth.tenants (saleor_channel);

REVOKE ALL ON FUNCTION auth.tenant_of_saleor_channel(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.tenant_of_saleor_channel(text) TO bizosaas_app;

-- Down Migration
DROP INDEX auth.tenants_saleor_channel_idx;
DROP FUNCTION auth.tenant_of_saleor_channel(text);
