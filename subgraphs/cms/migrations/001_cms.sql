-- Up Migration

-- Content pages (a tree per tenant) with immutable revisions, snippets, the media library and
-- each tenant's public site key. Runs as bizosaas_owner; the app role (bizosaas_app) sees rows
-- only through the row-level security policies below.

-- A tenant's public site: anonymous storefront reads name a site by its key or by the tenant
-- slug (copied here by the owner: the cms schema never reads auth's tables). Written by the owner
-- only (demo data, operators), so no tenant can claim another's key or slug.
CREATE TABLE cms.sites (
  tenant_id uuid NOT NULL,
  site_key text NOT NULL CHECK (site_key ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  tenant_slug text CHECK (tenant_slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- Default Saleor channel of product references that name none.
  saleor_channel text CHECK (saleor_channel ~ '^[a-z0-9][a-z0-9_-]{0,99}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id)
);
-- Global look-up keys (like auth.tenants.slug), read only through cms.resolve_site().
CREATE UNIQUE INDEX sites_site_key_key ON cms.sites (site_key);
CREATE UNIQUE INDEX sites_tenant_slug_key ON cms.sites (tenant_slug);

CREATE TABLE cms.pages (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  parent_id uuid,
  position integer NOT NULL CHECK (position >= 0),
  slug text NOT NULL CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,98}[a-z0-9])?$'),
  -- '/' || slugs from the top level down: unique in the tenant, which also makes slugs unique
  -- among siblings. Kept in step by moves and slug changes (one statement per subtree).
  url_path text NOT NULL CHECK (url_path ~ '^(/[a-z0-9-]+)+$'),
  depth integer NOT NULL CHECK (depth >= 0),
  locale text NOT NULL CHECK (locale ~ '^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8}){0,3}$'),
  author_id uuid,
  latest_revision_id uuid,
  live_revision_id uuid,
  scheduled_revision_id uuid,
  publish_at timestamptz,
  first_published_at timestamptz,
  last_published_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  status text NOT NULL GENERATED ALWAYS AS (
    CASE WHEN publish_at IS NOT NULL THEN 'scheduled' WHEN live_revision_id IS NOT NULL THEN 'published' ELSE 'draft' END
  ) STORED,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, parent_id) REFERENCES cms.pages (tenant_id, id) ON DELETE CASCADE,
  CHECK (parent_id IS DISTINCT FROM id),
  CHECK ((publish_at IS NULL) = (scheduled_revision_id IS NULL))
);
CREATE UNIQUE INDEX pages_url_path_key ON cms.pages (tenant_id, url_path);
CREATE INDEX pages_parent_idx ON cms.pages (tenant_id, parent_id, position);
-- The scheduler's cross-tenant scan (cms.due_scheduled_pages): the one index not led by tenant_id.
CREATE INDEX pages_publish_at_idx ON cms.pages (publish_at) WHERE publish_at IS NOT NULL;

-- Immutable: the app role may insert and read revisions, never change them.
CREATE TABLE cms.page_revisions (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  page_id uuid NOT NULL,
  number integer NOT NULL CHECK (number >= 1),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 255),
  seo_title text CHECK (length(seo_title) <= 255),
  seo_description text CHECK (length(seo_description) <= 1000),
  body jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(body) = 'array'),
  featured_products jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(featured_products) = 'array'),
  -- Title (A), SEO fields (B) and block text (C), written with the revision.
  search tsvector NOT NULL,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, page_id, id),
  UNIQUE (tenant_id, page_id, number),
  FOREIGN KEY (tenant_id, page_id) REFERENCES cms.pages (tenant_id, id) ON DELETE CASCADE
);

-- A page's revision pointers can only name revisions of that same page.
ALTER TABLE cms.pages
  ADD FOREIGN KEY (tenant_id, id, latest_revision_id) REFERENCES cms.page_revisions (tenant_id, page_id, id),
  ADD FOREIGN KEY (tenant_id, id, live_revision_id) REFERENCES cms.page_revisions (tenant_id, page_id, id),
  ADD FOREIGN KEY (tenant_id, id, scheduled_revision_id) REFERENCES cms.page_revisions (tenant_id, page_id, id);

CREATE TABLE cms.snippets (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  key text NOT NULL CHECK (key ~ '^[a-z0-9][a-z0-9.-]{0,99}$'),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 255),
  body jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(body) = 'array'),
  created_by uuid,
  updated_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX snippets_key_key ON cms.snippets (tenant_id, key);

CREATE TABLE cms.media_assets (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  kind text NOT NULL CHECK (kind IN ('image', 'document')),
  filename text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
  mime_type text NOT NULL,
  size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
  checksum text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
  width integer CHECK (width > 0),
  height integer CHECK (height > 0),
  alt_text text CHECK (length(alt_text) <= 500),
  tags text[] NOT NULL DEFAULT '{}',
  -- Where the bytes are in media storage (disk path or object key below the tenant's prefix).
  storage_key text NOT NULL,
  uploaded_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX media_assets_created_idx ON cms.media_assets (tenant_id, created_at DESC, id);

-- Row-level security (kit.tenant_table): each table isolated by tenant_id for the app role. The
-- owner runs only migrations, demo data (it writes the sites) and the SECURITY DEFINER functions
-- below: owner_access ALL, the default. The app role only reads sites; page revisions are
-- immutable, so it may insert and read them, never change them.
SELECT kit.tenant_table('cms.sites', app_grants => ARRAY['SELECT']);
SELECT kit.tenant_table('cms.pages');
SELECT kit.tenant_table('cms.page_revisions', app_grants => ARRAY['SELECT', 'INSERT']);
SELECT kit.tenant_table('cms.snippets');
SELECT kit.tenant_table('cms.media_assets');

-- Anonymous storefront reads: the tenant of a site key (preferred) or tenant slug. Returns the
-- tenant id and default channel only; the caller then reads as that tenant, through RLS.
CREATE FUNCTION cms.resolve_site(p_site text)
RETURNS TABLE (tenant_id uuid, saleor_channel text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, cms AS $$
  SELECT s.tenant_id, s.saleor_channel FROM (
    SELECT tenant_id, saleor_channel, 0 AS rank FROM cms.sites WHERE site_key = p_site
    UNION ALL
    SELECT tenant_id, saleor_channel, 1 AS rank FROM cms.sites WHERE tenant_slug = p_site
  ) s ORDER BY s.rank LIMIT 1
$$;

-- The scheduler: (tenant, page) pairs whose scheduled revision is due, oldest first. Ids only;
-- publishing happens per tenant through RLS, locking each page with FOR UPDATE SKIP LOCKED.
CREATE FUNCTION cms.due_scheduled_pages(p_limit integer)
RETURNS TABLE (tenant_id uuid, page_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, cms AS $$
  SELECT tenant_id, id FROM cms.pages
  WHERE publish_at IS NOT NULL AND publish_at <= now()
  ORDER BY publish_at, tenant_id, id
  LIMIT LEAST(GREATEST(p_limit, 1), 1000)
$$;

REVOKE ALL ON FUNCTION cms.resolve_site(text), cms.due_scheduled_pages(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cms.resolve_site(text), cms.due_scheduled_pages(integer) TO bizosaas_app;

-- Down Migration
DROP SCHEMA cms CASCADE;
