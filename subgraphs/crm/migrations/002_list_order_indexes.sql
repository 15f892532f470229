-- Up Migration

-- Lists sort by the column and then the id in the same direction (store.ts orderBy), e.g.
-- `created_at DESC, id DESC`. The 001 indexes had the id ascending, which no list order matches,
-- so PostgreSQL read and sorted every row of the tenant for each page. These match forwards
-- (DESC) and backwards (ASC), and a page stops after its rows.
DROP INDEX crm.leads_created_idx;
CREATE INDEX leads_created_idx ON crm.leads (tenant_id, created_at DESC, id DESC);
DROP INDEX crm.leads_updated_idx;
CREATE INDEX leads_updated_idx ON crm.leads (tenant_id, updated_at DESC, id DESC);
DROP INDEX crm.contacts_created_idx;
CREATE INDEX contacts_created_idx ON crm.contacts (tenant_id, created_at DESC, id DESC);
DROP INDEX crm.deals_created_idx;
CREATE INDEX deals_created_idx ON crm.deals (tenant_id, created_at DESC, id DESC);
DROP INDEX crm.activities_created_idx;
CREATE INDEX activities_created_idx ON crm.activities (tenant_id, created_at DESC, id DESC);

-- Down Migration
DROP INDEX crm.leads_created_idx;
CREATE INDEX leads_created_idx ON crm.leads (tenant_id, created_at DESC, id);
DROP INDEX crm.leads_updated_idx;
CREATE INDEX leads_updated_idx ON crm.leads (tenant_id, updated_at DESC, id);
DROP INDEX crm.contacts_created_idx;
CREATE INDEX contacts_created_idx ON crm.contacts (tenant_id, created_at DESC, id);
DROP INDEX crm.deals_created_idx;
CREATE INDEX deals_created_idx ON crm.deals (tenant_id, created_at DESC, id);
DROP INDEX crm.activities_created_idx;
CREATE INDEX activities_created_idx ON crm.activities (tenant_id, created_at DESC, id);
