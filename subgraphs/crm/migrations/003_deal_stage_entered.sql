-- Up Migration

-- When a deal entered its current stage: how long it has been there (the agents' pipeline
-- analyst compares that with the stage's norm). NULL means "since its creation" (store.ts reads
-- coalesce(stage_entered_at, created_at)), so inserts and the demo data need no value; moveDeal
-- sets it when the stage changes, and so does moving a deleted stage's deals.
ALTER TABLE crm.deals ADD COLUMN stage_entered_at timestamptz;

-- Deals moved before this column existed: their latest stage-change note (moveDeal logs one,
-- `Stage: A → B`, in the same transaction as the move). The owner may only read deals
-- (owner_functions); this one UPDATE gets a policy of its own for the length of the migration.
CREATE POLICY backfill_stage_entered ON crm.deals FOR UPDATE TO bizosaas_owner USING (true) WITH CHECK (true);
UPDATE crm.deals d SET stage_entered_at = m.at
FROM (
  SELECT tenant_id, deal_id, max(created_at) AS at
  FROM crm.activities
  WHERE deal_id IS NOT NULL AND type = 'note' AND done AND subject LIKE 'Stage: % → %'
  GROUP BY tenant_id, deal_id
) m
WHERE d.tenant_id = m.tenant_id AND d.id = m.deal_id;
DROP POLICY backfill_stage_entered ON crm.deals;

-- Down Migration

ALTER TABLE crm.deals DROP COLUMN stage_entered_at;
