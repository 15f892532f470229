-- Up Migration

-- Leads, contacts, deals, pipeline stages, activities and lead-capture forms. Runs as
-- bizosaas_owner; the app role (bizosaas_app) only ever sees rows through the row-level
-- security policies below.
--
-- Keys are tenant-scoped: every primary key is (tenant_id, id) and every foreign key
-- references (tenant_id, id), so no row can point at another tenant's row (an id of another
-- tenant fails the foreign key exactly like an id that does not exist). Owners reference
-- auth.memberships (tenant_id, account_id): only a member of the tenant can own a lead, deal,
-- contact or form, and removing a member clears what it owned (SET NULL on that column only).

-- text[] -> text for the search vectors: array_to_string is only STABLE in general (element
-- output functions), but on text[] it is immutable, which a generated column needs.
CREATE FUNCTION crm.tags_text(text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
  SELECT array_to_string($1, ' ')
$$;

-- Emails are searchable whole and by their parts ("jane", "doe", "example").
CREATE FUNCTION crm.email_text(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
  SELECT coalesce($1, '') || ' ' || translate(coalesce($1, ''), '@._-+', '     ')
$$;

CREATE TABLE crm.pipeline_stages (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  position integer NOT NULL DEFAULT 0,
  probability smallint NOT NULL DEFAULT 0 CHECK (probability BETWEEN 0 AND 100),
  kind text NOT NULL DEFAULT 'open' CHECK (kind IN ('open', 'won', 'lost')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX pipeline_stages_name_key ON crm.pipeline_stages (tenant_id, lower(name));
CREATE INDEX pipeline_stages_position_idx ON crm.pipeline_stages (tenant_id, position, name);

CREATE TABLE crm.leads (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  email text CHECK (length(email) <= 254),
  phone text CHECK (length(phone) <= 50),
  company text CHECK (length(company) <= 200),
  title text CHECK (length(title) <= 200),
  source text CHECK (length(source) <= 100),
  status text NOT NULL DEFAULT 'new'
    CHECK (status IN ('new', 'contacted', 'qualified', 'unqualified', 'converted')),
  score smallint NOT NULL DEFAULT 0 CHECK (score BETWEEN 0 AND 100),
  tags text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 20),
  owner_id uuid,
  notes text CHECK (length(notes) <= 10000),
  lead_form_id uuid,
  converted_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  last_activity_at timestamptz,
  search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', name), 'A')
    || setweight(to_tsvector('simple', crm.email_text(email) || ' ' || coalesce(company, '')), 'B')
    || setweight(to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(source, '') || ' ' || crm.tags_text(tags)), 'C')
    || setweight(to_tsvector('simple', coalesce(notes, '')), 'D')
  ) STORED,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT leads_owner_fkey FOREIGN KEY (tenant_id, owner_id)
    REFERENCES auth.memberships (tenant_id, account_id) ON DELETE SET NULL (owner_id)
);
-- Lists sort by a column and then the id in the same direction (store.ts orderBy), e.g.
-- `created_at DESC, id DESC`. The *_created_idx and *_updated_idx indexes have that order, which
-- a page reads forwards (DESC) or backwards (ASC) and stops after its rows, instead of sorting
-- every row of the tenant.
CREATE INDEX leads_created_idx ON crm.leads (tenant_id, created_at DESC, id DESC);
CREATE INDEX leads_updated_idx ON crm.leads (tenant_id, updated_at DESC, id DESC);
CREATE INDEX leads_status_idx ON crm.leads (tenant_id, status, created_at DESC);
CREATE INDEX leads_owner_idx ON crm.leads (tenant_id, owner_id, created_at DESC);
-- Full text: a plain GIN index (no btree_gin, so no extension to install on PostgreSQL or
-- PGlite); the tenant is a condition next to it (see crm.search_leads below, which is how the
-- app role reaches this index at all).
CREATE INDEX leads_search_idx ON crm.leads USING gin (search);

CREATE TABLE crm.contacts (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  email text CHECK (length(email) <= 254),
  phone text CHECK (length(phone) <= 50),
  company text CHECK (length(company) <= 200),
  title text CHECK (length(title) <= 200),
  tags text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 20),
  owner_id uuid,
  notes text CHECK (length(notes) <= 10000),
  -- The lead this contact was converted from.
  lead_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', name), 'A')
    || setweight(to_tsvector('simple', crm.email_text(email) || ' ' || coalesce(company, '')), 'B')
    || setweight(to_tsvector('simple', coalesce(title, '') || ' ' || crm.tags_text(tags)), 'C')
    || setweight(to_tsvector('simple', coalesce(notes, '')), 'D')
  ) STORED,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT contacts_owner_fkey FOREIGN KEY (tenant_id, owner_id)
    REFERENCES auth.memberships (tenant_id, account_id) ON DELETE SET NULL (owner_id),
  CONSTRAINT contacts_lead_fkey FOREIGN KEY (tenant_id, lead_id)
    REFERENCES crm.leads (tenant_id, id) ON DELETE SET NULL (lead_id)
);
CREATE UNIQUE INDEX contacts_lead_key ON crm.contacts (tenant_id, lead_id);
CREATE INDEX contacts_created_idx ON crm.contacts (tenant_id, created_at DESC, id DESC);
CREATE INDEX contacts_owner_idx ON crm.contacts (tenant_id, owner_id);
CREATE INDEX contacts_search_idx ON crm.contacts USING gin (search);

CREATE TABLE crm.deals (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  amount numeric(14, 2) CHECK (amount >= 0),
  currency text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
  stage_id uuid NOT NULL,
  probability smallint NOT NULL DEFAULT 0 CHECK (probability BETWEEN 0 AND 100),
  expected_close_date date,
  contact_id uuid,
  owner_id uuid,
  -- The lead this deal was converted from.
  lead_id uuid,
  tags text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 20),
  notes text CHECK (length(notes) <= 10000),
  closed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', title), 'A')
    || setweight(to_tsvector('simple', crm.tags_text(tags)), 'C')
    || setweight(to_tsvector('simple', coalesce(notes, '')), 'D')
  ) STORED,
  PRIMARY KEY (tenant_id, id),
  -- A stage with deals cannot be deleted (deletePipelineStage moves them first).
  CONSTRAINT deals_stage_fkey FOREIGN KEY (tenant_id, stage_id) REFERENCES crm.pipeline_stages (tenant_id, id),
  CONSTRAINT deals_contact_fkey FOREIGN KEY (tenant_id, contact_id)
    REFERENCES crm.contacts (tenant_id, id) ON DELETE SET NULL (contact_id),
  CONSTRAINT deals_owner_fkey FOREIGN KEY (tenant_id, owner_id)
    REFERENCES auth.memberships (tenant_id, account_id) ON DELETE SET NULL (owner_id),
  CONSTRAINT deals_lead_fkey FOREIGN KEY (tenant_id, lead_id)
    REFERENCES crm.leads (tenant_id, id) ON DELETE SET NULL (lead_id)
);
CREATE UNIQUE INDEX deals_lead_key ON crm.deals (tenant_id, lead_id);
CREATE INDEX deals_created_idx ON crm.deals (tenant_id, created_at DESC, id DESC);
CREATE INDEX deals_stage_idx ON crm.deals (tenant_id, stage_id);
CREATE INDEX deals_contact_idx ON crm.deals (tenant_id, contact_id, created_at DESC);
CREATE INDEX deals_owner_idx ON crm.deals (tenant_id, owner_id);
CREATE INDEX deals_search_idx ON crm.deals USING gin (search);

-- Saleor products of a deal: the planner sends { id channel } to Saleor, so both are stored.
CREATE TABLE crm.deal_products (
  tenant_id uuid NOT NULL,
  deal_id uuid NOT NULL,
  -- Saleor's global id, base64 of "Product:<pk>".
  product_id text NOT NULL CHECK (length(product_id) BETWEEN 1 AND 200),
  channel text NOT NULL CHECK (channel ~ '^[a-z0-9][a-z0-9_-]{0,99}$'),
  position smallint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, deal_id, product_id, channel),
  CONSTRAINT deal_products_deal_fkey FOREIGN KEY (tenant_id, deal_id)
    REFERENCES crm.deals (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE crm.activities (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  type text NOT NULL CHECK (type IN ('call', 'email', 'meeting', 'note', 'task')),
  subject text NOT NULL CHECK (length(subject) BETWEEN 1 AND 300),
  body text CHECK (length(body) <= 10000),
  due_at timestamptz,
  done boolean NOT NULL DEFAULT false,
  completed_at timestamptz,
  -- Who logged it (from the verified token, never from input); null for system entries. No
  -- foreign key on purpose: the history keeps its author after the member leaves the tenant
  -- (auth then resolves nobody for it, as for any account outside the tenant).
  account_id uuid,
  lead_id uuid,
  contact_id uuid,
  deal_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', subject), 'A') || setweight(to_tsvector('simple', coalesce(body, '')), 'D')
  ) STORED,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT activities_one_subject CHECK (num_nonnulls(lead_id, contact_id, deal_id) = 1),
  CONSTRAINT activities_lead_fkey FOREIGN KEY (tenant_id, lead_id) REFERENCES crm.leads (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT activities_contact_fkey FOREIGN KEY (tenant_id, contact_id) REFERENCES crm.contacts (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT activities_deal_fkey FOREIGN KEY (tenant_id, deal_id) REFERENCES crm.deals (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX activities_created_idx ON crm.activities (tenant_id, created_at DESC, id DESC);
CREATE INDEX activities_lead_idx ON crm.activities (tenant_id, lead_id, created_at DESC) WHERE lead_id IS NOT NULL;
CREATE INDEX activities_contact_idx ON crm.activities (tenant_id, contact_id, created_at DESC) WHERE contact_id IS NOT NULL;
CREATE INDEX activities_deal_idx ON crm.activities (tenant_id, deal_id, created_at DESC) WHERE deal_id IS NOT NULL;
CREATE INDEX activities_account_idx ON crm.activities (tenant_id, account_id);
CREATE INDEX activities_due_idx ON crm.activities (tenant_id, due_at) WHERE NOT done;
CREATE INDEX activities_search_idx ON crm.activities USING gin (search);

-- Lead-capture forms. The key is a random secret shown once; only its SHA-256 is stored.
CREATE TABLE crm.lead_forms (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  key_hash bytea NOT NULL CHECK (length(key_hash) = 32),
  key_prefix text NOT NULL,
  source text NOT NULL CHECK (length(source) BETWEEN 1 AND 100),
  owner_id uuid,
  tags text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 20),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT lead_forms_owner_fkey FOREIGN KEY (tenant_id, owner_id)
    REFERENCES auth.memberships (tenant_id, account_id) ON DELETE SET NULL (owner_id)
);
CREATE UNIQUE INDEX lead_forms_name_key ON crm.lead_forms (tenant_id, lower(name));
-- The one index not led by tenant_id: the anonymous form post knows only the key, and finds
-- its tenant through crm.lead_form_tenant() below.
CREATE UNIQUE INDEX lead_forms_key_hash_key ON crm.lead_forms (key_hash);

ALTER TABLE crm.leads
  ADD CONSTRAINT leads_form_fkey FOREIGN KEY (tenant_id, lead_form_id)
    REFERENCES crm.lead_forms (tenant_id, id) ON DELETE SET NULL (lead_form_id);

-- Row-level security (kit.tenant_table): each table isolated by tenant_id for the app role. The
-- owner runs migrations and the SECURITY DEFINER functions below, which only read: it gets
-- exactly that (owner_access SELECT) on the tables they read, and nothing on the others. The app
-- role never reads a form's key hash (only crm.lead_form_tenant() matches it) and never edits a
-- form.
SELECT kit.tenant_table('crm.pipeline_stages', owner_access => 'NONE');
SELECT kit.tenant_table('crm.leads', owner_access => 'SELECT');
SELECT kit.tenant_table('crm.contacts', owner_access => 'SELECT');
SELECT kit.tenant_table('crm.deals', owner_access => 'SELECT');
SELECT kit.tenant_table('crm.deal_products', owner_access => 'NONE');
SELECT kit.tenant_table('crm.activities', owner_access => 'SELECT');
SELECT kit.tenant_table('crm.lead_forms',
  app_grants => ARRAY['SELECT (tenant_id, id, name, key_prefix, source, owner_id, tags, created_at)', 'INSERT', 'DELETE'],
  owner_access => 'SELECT');

-- Full-text search. `@@` is not LEAKPROOF, so under a row-level security policy PostgreSQL
-- must check the policy first and never uses the GIN index for it (a sequential scan of the
-- tenant's rows instead). These functions run the match as the owner, whose SELECT policy on
-- these tables is `true`, with the tenant condition written out, so the GIN index is used; they
-- return only ids of the caller's tenant (none without app.tenant_id), which the caller's query
-- then reads under RLS as usual. (Tag filters have the same limit and no such path: they are
-- checked on the tenant's rows, found through the btree indexes.)
CREATE FUNCTION crm.search_leads(p_query tsquery) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER ROWS 100 SET search_path = pg_catalog, crm AS $$
  SELECT id FROM crm.leads WHERE tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid AND search @@ p_query
$$;
CREATE FUNCTION crm.search_contacts(p_query tsquery) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER ROWS 100 SET search_path = pg_catalog, crm AS $$
  SELECT id FROM crm.contacts WHERE tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid AND search @@ p_query
$$;
CREATE FUNCTION crm.search_deals(p_query tsquery) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER ROWS 100 SET search_path = pg_catalog, crm AS $$
  SELECT id FROM crm.deals WHERE tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid AND search @@ p_query
$$;
CREATE FUNCTION crm.search_activities(p_query tsquery) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER ROWS 100 SET search_path = pg_catalog, crm AS $$
  SELECT id FROM crm.activities WHERE tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid AND search @@ p_query
$$;

REVOKE ALL ON FUNCTION crm.search_leads(tsquery), crm.search_contacts(tsquery), crm.search_deals(tsquery),
  crm.search_activities(tsquery) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION crm.search_leads(tsquery), crm.search_contacts(tsquery), crm.search_deals(tsquery),
  crm.search_activities(tsquery) TO bizosaas_app;

-- The anonymous lead-form post: the tenant and form of a key (by its SHA-256), nothing else.
CREATE FUNCTION crm.lead_form_tenant(p_key_hash bytea)
RETURNS TABLE (tenant_id uuid, form_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, crm AS $$
  SELECT f.tenant_id, f.id FROM crm.lead_forms f WHERE f.key_hash = p_key_hash
$$;

REVOKE ALL ON FUNCTION crm.lead_form_tenant(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION crm.lead_form_tenant(bytea) TO bizosaas_app;

-- Down Migration
DROP SCHEMA crm CASCADE;
