-- Up Migration

-- The agents subgraph's tables: agents (what to run, for whom, when), runs (one durable job each,
-- queue `agents-run`) with their events, the insights runs write, the vectors of the tenant's
-- published content pages (for `similar`), and the daily usage behind the run quota and the
-- token budget. Runs as bizosaas_owner; the app role sees rows only through the
-- tenant_isolation policies of kit.tenant_table().
--
-- Tenant tables in the kit's form: tenant_id leads every key and index, foreign keys reference
-- (tenant_id, id) so no row can point into another tenant, and the members a row names must be
-- members of its tenant (auth.memberships; see dependsOn in index.ts). Objects of other subgraphs
-- (an insight's subject, an indexed page) are ids only: no foreign key crosses a subgraph.
--
-- Enumerated values are stored as GraphQL spells them (kind, status, event type), except the
-- trigger ('manual' | 'schedule') and the insight severity ('info' | 'warning' | 'critical'),
-- which are stored as the analysts' contract (analysts/types.ts) and the design spell them.

-- An agent: a kind with its settings (validated by the kind's zod schema before they are
-- written, defaults filled in), an optional five-field cron schedule (UTC, at most hourly), and
-- the member whose rights its scheduled runs act with (owner_id: who created it).
-- schedule_job_id / next_run_at: the pending scheduled run's job and time (runs/).
CREATE TABLE agents.agents (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  kind text NOT NULL CONSTRAINT agents_kind_check
    CHECK (kind IN ('LEAD_SCORER', 'PIPELINE_ANALYST', 'CONTENT_AUDITOR', 'SALES_SUMMARY', 'WRITER')),
  name text NOT NULL CONSTRAINT agents_name_length CHECK (char_length(name) BETWEEN 1 AND 120),
  settings jsonb NOT NULL DEFAULT '{}' CONSTRAINT agents_settings_check
    CHECK (jsonb_typeof(settings) = 'object' AND pg_column_size(settings) <= 65536),
  schedule text CONSTRAINT agents_schedule_length CHECK (char_length(schedule) BETWEEN 9 AND 200),
  enabled boolean NOT NULL DEFAULT true,
  owner_id uuid,
  schedule_job_id uuid,
  next_run_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT agents_name_key UNIQUE (tenant_id, name),
  CONSTRAINT agents_owner_fkey FOREIGN KEY (tenant_id, owner_id)
    REFERENCES auth.memberships (tenant_id, account_id) ON DELETE SET NULL (owner_id)
);
-- `agents` lists newest first: a page reads straight off it (kind / enabled filter the few rows).
CREATE INDEX agents_by_created ON agents.agents (tenant_id, created_at DESC, id DESC);
-- The foreign key's ON DELETE when a member leaves.
CREATE INDEX agents_owner ON agents.agents (tenant_id, owner_id);
-- The scheduled agents of every tenant, in key order (agents.unscheduled_agents below, when a
-- run worker starts): the few enabled agents with a schedule, not every agent.
CREATE INDEX agents_scheduled ON agents.agents (tenant_id, id) WHERE schedule IS NOT NULL AND enabled;

SELECT kit.tenant_table('agents.agents');

-- A run: QUEUED -> RUNNING -> SUCCEEDED / FAILED / CANCELLED, as the member `started_by` (the
-- caller, or the agent's owner for a schedule). `kind` is the agent's at queueing time (the
-- agent may be deleted: agent_id becomes NULL, the run stays). input_tokens / output_tokens stay
-- NULL when no model was used.
CREATE TABLE agents.runs (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  agent_id uuid,
  kind text NOT NULL CONSTRAINT runs_kind_check
    CHECK (kind IN ('LEAD_SCORER', 'PIPELINE_ANALYST', 'CONTENT_AUDITOR', 'SALES_SUMMARY', 'WRITER')),
  trigger text NOT NULL CONSTRAINT runs_trigger_check CHECK (trigger IN ('manual', 'schedule')),
  started_by uuid,
  status text NOT NULL DEFAULT 'QUEUED' CONSTRAINT runs_status_check
    CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
  attempts integer NOT NULL DEFAULT 0 CONSTRAINT runs_attempts_check CHECK (attempts >= 0),
  progress integer NOT NULL DEFAULT 0 CONSTRAINT runs_progress_check CHECK (progress BETWEEN 0 AND 100),
  step text CONSTRAINT runs_step_length CHECK (char_length(step) <= 500),
  input jsonb NOT NULL DEFAULT '{}' CONSTRAINT runs_input_check
    CHECK (jsonb_typeof(input) = 'object' AND pg_column_size(input) <= 65536),
  job_id uuid,
  queued_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  error_code text CONSTRAINT runs_error_code_check CHECK (error_code ~ '^[A-Z][A-Z_]{0,39}$'),
  error_message text CONSTRAINT runs_error_message_length CHECK (char_length(error_message) <= 2000),
  input_tokens integer CONSTRAINT runs_input_tokens_check CHECK (input_tokens >= 0),
  output_tokens integer CONSTRAINT runs_output_tokens_check CHECK (output_tokens >= 0),
  cancel_requested_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT runs_agent_fkey FOREIGN KEY (tenant_id, agent_id)
    REFERENCES agents.agents (tenant_id, id) ON DELETE SET NULL (agent_id),
  CONSTRAINT runs_started_by_fkey FOREIGN KEY (tenant_id, started_by)
    REFERENCES auth.memberships (tenant_id, account_id) ON DELETE SET NULL (started_by)
);
-- `agentRuns` newest first.
CREATE INDEX runs_by_queued ON agents.runs (tenant_id, queued_at DESC, id DESC);
-- An agent's runs newest first (`Agent.runs`, `Agent.lastRun`, the agentId filter), and the
-- foreign key's ON DELETE when the agent goes.
CREATE INDEX runs_of_agent ON agents.runs (tenant_id, agent_id, queued_at DESC, id DESC);
-- The runs not finished yet: the per-tenant concurrency and the status filters QUEUED / RUNNING
-- read a handful of rows instead of the tenant's whole history.
CREATE INDEX runs_active ON agents.runs (tenant_id, status, queued_at DESC) WHERE status IN ('QUEUED', 'RUNNING');
CREATE INDEX runs_started_by ON agents.runs (tenant_id, started_by);

SELECT kit.tenant_table('agents.runs');

-- What happened in a run, in order (seq 1, 2, 3, ... per run: the SSE event id). Written with the
-- change it reports, then published on Redis (runs/).
CREATE TABLE agents.run_events (
  tenant_id uuid NOT NULL,
  run_id uuid NOT NULL,
  seq integer NOT NULL CONSTRAINT run_events_seq_check CHECK (seq >= 1),
  at timestamptz NOT NULL DEFAULT now(),
  type text NOT NULL CONSTRAINT run_events_type_check CHECK (type IN ('STATUS', 'PROGRESS', 'INSIGHT', 'LOG')),
  status text CONSTRAINT run_events_status_check
    CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
  progress integer CONSTRAINT run_events_progress_check CHECK (progress BETWEEN 0 AND 100),
  message text CONSTRAINT run_events_message_length CHECK (char_length(message) <= 2000),
  data jsonb CONSTRAINT run_events_data_check CHECK (pg_column_size(data) <= 65536),
  -- `events(after:)` reads straight off the key.
  PRIMARY KEY (tenant_id, run_id, seq),
  CONSTRAINT run_events_run_fkey FOREIGN KEY (tenant_id, run_id)
    REFERENCES agents.runs (tenant_id, id) ON DELETE CASCADE
);

SELECT kit.tenant_table('agents.run_events');

-- An insight: what a run found, about an entity of another subgraph (subject_type + subject_id;
-- a Product's channel beside it: Saleor's key is id and channel), with the numbers behind it.
-- `seq` is the order insights were written in (`AgentRun.insights`), and breaks ties of
-- created_at (a run writes all its insights in one transaction, at one now()).
-- The embedding (title and body, kit.vector_column below) is written with the row (runs/).
CREATE TABLE agents.insights (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  seq bigint GENERATED ALWAYS AS IDENTITY,
  run_id uuid NOT NULL,
  agent_id uuid,
  kind text NOT NULL CONSTRAINT insights_kind_check CHECK (kind ~ '^[a-z][a-z0-9_]{0,62}$'),
  severity text NOT NULL CONSTRAINT insights_severity_check CHECK (severity IN ('info', 'warning', 'critical')),
  title text NOT NULL CONSTRAINT insights_title_length CHECK (char_length(title) BETWEEN 1 AND 200),
  body text NOT NULL DEFAULT '' CONSTRAINT insights_body_length CHECK (char_length(body) <= 20000),
  subject_type text CONSTRAINT insights_subject_type_check CHECK (subject_type IN ('Lead', 'Deal', 'ContentPage', 'Product')),
  subject_id text CONSTRAINT insights_subject_id_length CHECK (char_length(subject_id) BETWEEN 1 AND 200),
  subject_channel text CONSTRAINT insights_subject_channel_length CHECK (char_length(subject_channel) <= 200),
  evidence jsonb NOT NULL DEFAULT '{}' CONSTRAINT insights_evidence_check
    CHECK (jsonb_typeof(evidence) = 'object' AND pg_column_size(evidence) <= 65536),
  created_at timestamptz NOT NULL DEFAULT now(),
  dismissed_at timestamptz,
  dismissed_by uuid,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT insights_subject_check CHECK ((subject_type IS NULL) = (subject_id IS NULL)),
  CONSTRAINT insights_dismissed_check CHECK (dismissed_by IS NULL OR dismissed_at IS NOT NULL),
  CONSTRAINT insights_run_fkey FOREIGN KEY (tenant_id, run_id)
    REFERENCES agents.runs (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT insights_agent_fkey FOREIGN KEY (tenant_id, agent_id)
    REFERENCES agents.agents (tenant_id, id) ON DELETE SET NULL (agent_id),
  CONSTRAINT insights_dismissed_by_fkey FOREIGN KEY (tenant_id, dismissed_by)
    REFERENCES auth.memberships (tenant_id, account_id) ON DELETE SET NULL (dismissed_by)
);
-- `insights` newest first; kind / severity / dismissed filter along it.
CREATE INDEX insights_by_created ON agents.insights (tenant_id, created_at DESC, seq DESC);
-- A run's insights in the order written (`AgentRun.insights`, the runId filter).
CREATE INDEX insights_of_run ON agents.insights (tenant_id, run_id, seq);
-- An agent's (the agentId filter) and the foreign key's ON DELETE when the agent goes.
CREATE INDEX insights_of_agent ON agents.insights (tenant_id, agent_id, created_at DESC, seq DESC);
-- Insights about an entity: `Lead.insights` and the others (one statement per batch of
-- entities), and the subject filter.
CREATE INDEX insights_of_subject ON agents.insights (tenant_id, subject_type, subject_id, created_at DESC, seq DESC)
  WHERE subject_type IS NOT NULL;
CREATE INDEX insights_dismissed_by ON agents.insights (tenant_id, dismissed_by) WHERE dismissed_by IS NOT NULL;

SELECT kit.tenant_table('agents.insights');
SELECT kit.vector_column('agents.insights', dimensions => 384, model => 'local-hash-v1');

-- The tenant's PUBLISHED content pages as `similar` compares them: kept by the
-- `agents-index-pages` job (pages-index.ts), which reads them through the gateway and
-- re-embeds a page only when its content_hash (of its text and the embedding model) changed.
CREATE TABLE agents.page_vectors (
  tenant_id uuid NOT NULL,
  page_id uuid NOT NULL,
  title text NOT NULL CONSTRAINT page_vectors_title_length CHECK (char_length(title) <= 500),
  content_hash text NOT NULL CONSTRAINT page_vectors_content_hash_length CHECK (char_length(content_hash) <= 100),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, page_id)
);

SELECT kit.tenant_table('agents.page_vectors');
SELECT kit.vector_column('agents.page_vectors', dimensions => 384, model => 'local-hash-v1');

-- Each tenant's use per UTC day: runs queued (the daily run quota) and model tokens (the daily
-- token budget). One row per tenant and day, upserted.
CREATE TABLE agents.daily_usage (
  tenant_id uuid NOT NULL,
  day date NOT NULL,
  runs integer NOT NULL DEFAULT 0 CONSTRAINT daily_usage_runs_check CHECK (runs >= 0),
  tokens integer NOT NULL DEFAULT 0 CONSTRAINT daily_usage_tokens_check CHECK (tokens >= 0),
  PRIMARY KEY (tenant_id, day)
);

SELECT kit.tenant_table('agents.daily_usage');

-- ==== core-runs (runs/schedule.ts), added by the runs helper: begin ====
-- Enabled scheduled agents of every tenant whose tick has no pending job in the job system (its
-- job lost, or never sent): the run worker sends theirs when it starts. Ids only, paged by
-- (tenant_id, id) after the last one; the ticks are then sent per tenant through RLS.
CREATE FUNCTION agents.unscheduled_agents(p_after_tenant uuid, p_after_id uuid, p_limit integer)
RETURNS TABLE (tenant_id uuid, agent_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, agents AS $$
  SELECT a.tenant_id, a.id FROM agents.agents a
  WHERE a.schedule IS NOT NULL AND a.enabled
    AND (p_after_tenant IS NULL OR (a.tenant_id, a.id) > (p_after_tenant, p_after_id))
    AND NOT EXISTS (
      SELECT 1 FROM pgboss.job j
      WHERE j.name = 'agents-schedule' AND j.id = a.schedule_job_id AND j.state IN ('created', 'retry', 'active'))
  ORDER BY a.tenant_id, a.id
  LIMIT LEAST(GREATEST(p_limit, 1), 1000)
$$;

REVOKE ALL ON FUNCTION agents.unscheduled_agents(uuid, uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agents.unscheduled_agents(uuid, uuid, integer) TO bizosaas_app;
-- ==== core-runs: end ====

-- Down Migration

-- core-runs
DROP FUNCTION agents.unscheduled_agents(uuid, uuid, integer);

DROP TABLE agents.daily_usage;
DROP TABLE agents.page_vectors;
DROP TABLE agents.insights;
DROP TABLE agents.run_events;
DROP TABLE agents.runs;
DROP TABLE agents.agents;
