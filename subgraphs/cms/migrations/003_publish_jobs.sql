-- Up Migration

-- Scheduled publishing runs on the kit's job system (kit/jobs): scheduling a page enqueues a
-- delayed job in the same transaction and keeps its id here; unscheduling cancels it; the job
-- publishes the page only while it is still the page's job (so a job that runs twice, or after a
-- reschedule, publishes nothing more).
ALTER TABLE cms.pages ADD COLUMN publish_job_id uuid;

-- Schedules without a job (written before the job system): the CMS enqueues theirs when it
-- starts. Ids only; the jobs are enqueued per tenant through RLS.
CREATE FUNCTION cms.unqueued_schedules(p_limit integer)
RETURNS TABLE (tenant_id uuid, page_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, cms AS $$
  SELECT tenant_id, id FROM cms.pages
  WHERE publish_at IS NOT NULL AND publish_job_id IS NULL
  ORDER BY publish_at, tenant_id, id
  LIMIT LEAST(GREATEST(p_limit, 1), 1000)
$$;

REVOKE ALL ON FUNCTION cms.unqueued_schedules(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cms.unqueued_schedules(integer) TO bizosaas_app;

-- The polling scheduler's scan is gone with it.
DROP FUNCTION cms.due_scheduled_pages(integer);

-- Down Migration
CREATE FUNCTION cms.due_scheduled_pages(p_limit integer)
RETURNS TABLE (tenant_id uuid, page_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, cms AS $$
  SELECT tenant_id, id FROM cms.pages
  WHERE publish_at IS NOT NULL AND publish_at <= now()
  ORDER BY publish_at, tenant_id, id
  LIMIT LEAST(GREATEST(p_limit, 1), 1000)
$$;
REVOKE ALL ON FUNCTION cms.due_scheduled_pages(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cms.due_scheduled_pages(integer) TO bizosaas_app;
DROP FUNCTION cms.unqueued_schedules(integer);
ALTER TABLE cms.pages DROP COLUMN publish_job_id;
