-- Up Migration

-- Durable backfills of a Saleor channel's orders (subgraphs/bi/webhooks/backfill-job.ts): one
-- row per backfill, in the tenant whose channel it reads, holding where it got to. A job on the
-- kit's job system pages through Saleor a step at a time, storing the cursor after each step, so
-- a crash or a restart resumes from the last step stored (the upsert of order facts is
-- idempotent: a step read twice writes nothing new). Started by a platform administrator, who is
-- usually no member of that tenant: started_by has no foreign key to the memberships.
CREATE TABLE bi.saleor_backfills (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  channel text NOT NULL CONSTRAINT saleor_backfills_channel_length CHECK (char_length(channel) BETWEEN 1 AND 100),
  status text NOT NULL DEFAULT 'QUEUED'
    CONSTRAINT saleor_backfills_status_check CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED')),
  -- Saleor's cursor after the last step stored; null before the first and once finished.
  cursor text CONSTRAINT saleor_backfills_cursor_length CHECK (char_length(cursor) <= 1000),
  read integer NOT NULL DEFAULT 0,
  written integer NOT NULL DEFAULT 0,
  -- Steps stored so far: a step's job proceeds only while this is still its step, so an attempt
  -- retried after its step was stored (its process died before pg-boss heard) does nothing.
  step integer NOT NULL DEFAULT 0,
  -- Why it failed, without internals.
  error text CONSTRAINT saleor_backfills_error_length CHECK (char_length(error) <= 500),
  started_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  PRIMARY KEY (tenant_id, id)
);
-- One backfill of a channel at a time: starting another while one runs returns the running one.
CREATE UNIQUE INDEX saleor_backfills_one_active ON bi.saleor_backfills (tenant_id, channel) WHERE status IN ('QUEUED', 'RUNNING');
-- `saleorBackfill(channel)`: the channel's latest.
CREATE INDEX saleor_backfills_by_channel ON bi.saleor_backfills (tenant_id, channel, created_at DESC);

SELECT kit.tenant_table('bi.saleor_backfills', app_grants => ARRAY['SELECT', 'INSERT', 'UPDATE']);

-- Down Migration

DROP TABLE bi.saleor_backfills;
