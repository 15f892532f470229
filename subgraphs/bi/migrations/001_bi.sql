-- Up Migration

-- Charts and dashboards of each tenant. The facts they read are not here: other subgraphs
-- publish them as views (crm.lead_facts, cms.page_facts, ...) and Saleor's order facts arrive in
-- bi.orders / bi.order_lines (002_order_facts.sql). Runs as bizosaas_owner; the app role sees rows
-- only through the tenant_isolation policies of kit.tenant_table().
--
-- Tenant tables in the kit's form: tenant_id leads every key and index, foreign keys reference
-- (tenant_id, id) so no row can point into another tenant, and owners must be members of the
-- row's tenant (auth.memberships; see dependsOn in index.ts).

-- A chart: what it computes (`definition`, checked against its dataset by the engine's
-- validateChart before it is written) and how it is drawn (`type`). `dataset` repeats the
-- definition's, for the chart list's filter.
CREATE TABLE bi.charts (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name text NOT NULL CONSTRAINT charts_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
  description text CONSTRAINT charts_description_length CHECK (char_length(description) <= 2000),
  type text NOT NULL CONSTRAINT charts_type_check CHECK (type IN ('BIG_NUMBER', 'LINE', 'BAR', 'AREA', 'PIE', 'TABLE')),
  dataset text NOT NULL CONSTRAINT charts_dataset_check CHECK (dataset ~ '^[a-z][a-z0-9_]{0,62}$'),
  definition jsonb NOT NULL CONSTRAINT charts_definition_check
    CHECK (jsonb_typeof(definition) = 'object' AND definition->>'dataset' = dataset AND pg_column_size(definition) <= 65536),
  owner_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT charts_owner_fkey FOREIGN KEY (tenant_id, owner_id)
    REFERENCES auth.memberships (tenant_id, account_id) ON DELETE SET NULL (owner_id)
);
-- The list's order, newest first: a page reads straight off it.
CREATE INDEX charts_by_created ON bi.charts (tenant_id, created_at DESC, id DESC);
CREATE INDEX charts_owner ON bi.charts (tenant_id, owner_id);

SELECT kit.tenant_table('bi.charts');

-- A dashboard: charts on a 12-column grid, filters applied to every chart that has their column,
-- and whether members other than analysts see it (`published`). New dashboards are unpublished.
CREATE TABLE bi.dashboards (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  title text NOT NULL CONSTRAINT dashboards_title_length CHECK (char_length(title) BETWEEN 1 AND 200),
  -- Lower-case letters, digits and dashes; never a UUID's shape, so `dashboard(idOrSlug)` is unambiguous.
  slug text NOT NULL CONSTRAINT dashboards_slug_check
    CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(slug) <= 100
      AND slug !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'),
  description text CONSTRAINT dashboards_description_length CHECK (char_length(description) <= 2000),
  published boolean NOT NULL DEFAULT false,
  native_filters jsonb NOT NULL DEFAULT '[]' CONSTRAINT dashboards_native_filters_check
    CHECK (jsonb_typeof(native_filters) = 'array' AND jsonb_array_length(native_filters) <= 50),
  owner_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT dashboards_slug_key UNIQUE (tenant_id, slug),
  CONSTRAINT dashboards_owner_fkey FOREIGN KEY (tenant_id, owner_id)
    REFERENCES auth.memberships (tenant_id, account_id) ON DELETE SET NULL (owner_id)
);
CREATE INDEX dashboards_by_created ON bi.dashboards (tenant_id, created_at DESC, id DESC);
CREATE INDEX dashboards_owner ON bi.dashboards (tenant_id, owner_id);

SELECT kit.tenant_table('bi.dashboards');

-- A chart's place on a dashboard (12 columns; rows of any number). A chart is on a dashboard at
-- most once; deleting either side removes the placement.
CREATE TABLE bi.dashboard_charts (
  tenant_id uuid NOT NULL,
  dashboard_id uuid NOT NULL,
  chart_id uuid NOT NULL,
  x smallint NOT NULL CONSTRAINT dashboard_charts_x_check CHECK (x BETWEEN 0 AND 11),
  y smallint NOT NULL CONSTRAINT dashboard_charts_y_check CHECK (y BETWEEN 0 AND 10000),
  width smallint NOT NULL CONSTRAINT dashboard_charts_width_check CHECK (width BETWEEN 1 AND 12),
  height smallint NOT NULL CONSTRAINT dashboard_charts_height_check CHECK (height BETWEEN 1 AND 24),
  PRIMARY KEY (tenant_id, dashboard_id, chart_id),
  CONSTRAINT dashboard_charts_fits CHECK (x + width <= 12),
  CONSTRAINT dashboard_charts_dashboard_fkey FOREIGN KEY (tenant_id, dashboard_id)
    REFERENCES bi.dashboards (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT dashboard_charts_chart_fkey FOREIGN KEY (tenant_id, chart_id)
    REFERENCES bi.charts (tenant_id, id) ON DELETE CASCADE
);
-- deleteChart's cascade, and "which dashboards show this chart".
CREATE INDEX dashboard_charts_chart ON bi.dashboard_charts (tenant_id, chart_id);

SELECT kit.tenant_table('bi.dashboard_charts');

-- Down Migration

DROP TABLE bi.dashboard_charts;
DROP TABLE bi.dashboards;
DROP TABLE bi.charts;
