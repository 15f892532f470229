-- Up Migration

-- cms's fact view: the read-only facts cms publishes for BI (subgraphs/bi/datasets.ts builds the
-- pages dataset on it). Part of cms's contract: bi reads this view, never cms's tables.
--
-- security_invoker: the view reads with the rights of whoever queries it, so the row-level
-- security of cms.pages and cms.page_revisions (tenant_isolation for the app role) filters every
-- BI query; without it the view would read as its owner and show every tenant's pages.
--
-- cms has one page model (no Wagtail page types), so a page's kind is told by its place in the
-- tree: `section` is its top-level slug ('about' for /about/team), `depth` 0 for a top-level page.
-- published_at is when the page first went live (first_published_at); last_published_at the
-- latest publication.
CREATE VIEW cms.page_facts WITH (security_invoker = true) AS
SELECT
  p.tenant_id,
  p.id,
  p.status,
  p.locale,
  p.depth,
  split_part(p.url_path, '/', 2) AS section,
  p.url_path,
  p.author_id,
  p.first_published_at AS published_at,
  p.last_published_at,
  p.publish_at AS scheduled_at,
  -- As ContentPage.hasUnpublishedChanges: the latest revision is not the live one.
  p.latest_revision_id IS DISTINCT FROM p.live_revision_id AS has_unpublished_changes,
  (SELECT count(*) FROM cms.page_revisions r WHERE r.tenant_id = p.tenant_id AND r.page_id = p.id)::integer AS revision_count,
  p.created_at,
  p.updated_at
FROM cms.pages p;

GRANT SELECT ON cms.page_facts TO bizosaas_app;

-- Down Migration
DROP VIEW cms.page_facts;
