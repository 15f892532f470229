import type { Tx } from '../../kit/db/database.ts';
import { Params } from '../../kit/db/params.ts';
import { CURRENT_TENANT } from '../../kit/db/tenant.ts';
import type { Table } from '../../kit/db/table.ts';
import { JOBS_SCHEMA } from '../../kit/jobs/install.ts';
import type { InsightDraft } from '../analysts/types.ts';
import { RUN_QUEUE, SCHEDULE_QUEUE } from './queue.ts';

// The runs' SQL (agents.runs, agents.run_events, the insights a run writes, the schedule columns
// of agents.agents, the daily run count). Every function runs inside the caller's tenant
// transaction: row-level security decides which rows exist, new rows take its tenant.

export type RunStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
export type RunTrigger = 'manual' | 'schedule';
export type RunEventType = 'STATUS' | 'PROGRESS' | 'INSIGHT' | 'LOG';

export const FINISHED: readonly RunStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

export interface RunRow {
  id: string;
  agent_id: string | null;
  kind: string;
  trigger: RunTrigger;
  started_by: string | null;
  status: RunStatus;
  attempts: number;
  progress: number;
  step: string | null;
  input: Record<string, unknown>;
  job_id: string | null;
  queued_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  error_code: string | null;
  error_message: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cancel_requested_at: Date | null;
}

export const RUN_COLUMNS =
  'id, agent_id, kind, trigger, started_by, status, attempts, progress, step, input, job_id, queued_at, started_at, finished_at, ' +
  'error_code, error_message, input_tokens, output_tokens, cancel_requested_at';
export const RUNS: Table = { name: 'agents.runs', columns: RUN_COLUMNS };

export interface RunEventRow {
  run_id: string;
  seq: number;
  at: Date;
  type: RunEventType;
  status: RunStatus | null;
  progress: number | null;
  message: string | null;
  data: Record<string, unknown> | null;
}

export interface RunEventInput {
  type: RunEventType;
  status?: RunStatus | null;
  progress?: number | null;
  message?: string | null;
  data?: Record<string, unknown> | null;
}

/** What runs need of an agent (every column but its timestamps: store.ts's AgentRow adds them). */
export interface AgentForRun {
  id: string;
  kind: string;
  name: string;
  settings: Record<string, unknown>;
  schedule: string | null;
  enabled: boolean;
  owner_id: string | null;
  schedule_job_id: string | null;
  next_run_at: Date | null;
}

export const AGENT_COLUMNS = 'id, kind, name, settings, schedule, enabled, owner_id, schedule_job_id, next_run_at';

// ---- agents

/** The agent, locked against a concurrent update or delete for the rest of the transaction. */
export async function agentForUpdate(tx: Tx, agentId: string): Promise<AgentForRun | null> {
  const { rows } = await tx.query<AgentForRun>(`SELECT ${AGENT_COLUMNS} FROM agents.agents WHERE id = $1 FOR UPDATE`, [agentId]);
  return rows[0] ?? null;
}

export async function agentById(tx: Tx, agentId: string): Promise<AgentForRun | null> {
  const { rows } = await tx.query<AgentForRun>(`SELECT ${AGENT_COLUMNS} FROM agents.agents WHERE id = $1`, [agentId]);
  return rows[0] ?? null;
}

export async function setScheduleJob(tx: Tx, agentId: string, jobId: string | null, nextRunAt: Date | null): Promise<void> {
  await tx.query('UPDATE agents.agents SET schedule_job_id = $2, next_run_at = $3 WHERE id = $1', [agentId, jobId, nextRunAt]);
}

/**
 * Enabled scheduled agents of every tenant whose tick has no pending job, after (tenant, agent)
 * `after` (ids only, through a SECURITY DEFINER function: the migration's core-runs block).
 */
export async function unscheduledAgents(tx: Tx, after: { tenantId: string; agentId: string } | null, limit: number) {
  const { rows } = await tx.query<{ tenant_id: string; agent_id: string }>('SELECT * FROM agents.unscheduled_agents($1, $2, $3)', [
    after?.tenantId ?? null,
    after?.agentId ?? null,
    limit,
  ]);
  return rows;
}

// ---- runs

export async function insertRun(
  tx: Tx,
  run: { agent_id: string; kind: string; trigger: RunTrigger; started_by: string; input: Record<string, unknown> },
): Promise<RunRow> {
  const { rows } = await tx.query<RunRow>(
    `INSERT INTO agents.runs (tenant_id, agent_id, kind, trigger, started_by, input) VALUES (${CURRENT_TENANT}, $1, $2, $3, $4, $5)
     RETURNING ${RUN_COLUMNS}`,
    [run.agent_id, run.kind, run.trigger, run.started_by, JSON.stringify(run.input)],
  );
  return rows[0]!;
}

export async function setRunJob(tx: Tx, runId: string, jobId: string): Promise<void> {
  await tx.query('UPDATE agents.runs SET job_id = $2 WHERE id = $1', [runId, jobId]);
}

export async function runById(tx: Tx, runId: string): Promise<RunRow | null> {
  const { rows } = await tx.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM ${RUNS.name} WHERE id = $1`, [runId]);
  return rows[0] ?? null;
}

/** The run, locked for the rest of the transaction (its status changes one at a time). */
export async function runForUpdate(tx: Tx, runId: string): Promise<RunRow | null> {
  const { rows } = await tx.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM ${RUNS.name} WHERE id = $1 FOR UPDATE`, [runId]);
  return rows[0] ?? null;
}

/** Runs not finished of an agent (deleting or disabling it cancels the queued ones), locked. */
export async function queuedRunsOfAgent(tx: Tx, agentId: string): Promise<RunRow[]> {
  const { rows } = await tx.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM ${RUNS.name} WHERE agent_id = $1 AND status = 'QUEUED' ORDER BY queued_at FOR UPDATE`,
    [agentId],
  );
  return rows;
}

/**
 * Serialises the tenant's run starts (per-tenant concurrency) until the transaction ends: two
 * workers counting at once would both see a free slot.
 */
export async function lockTenantSlots(tx: Tx): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('agents.run-slots'), hashtext(${CURRENT_TENANT}::text))`);
}

/**
 * The tenant's runs RUNNING now other than `runId`: those whose job is still active (a run
 * whose process died holds its slot until its job expires; one whose job is gone holds none).
 */
export async function runningCount(tx: Tx, runId: string): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM agents.runs r
     WHERE r.status = 'RUNNING' AND r.id <> $1
       AND EXISTS (SELECT 1 FROM ${JOBS_SCHEMA}.job j WHERE j.name = '${RUN_QUEUE}' AND j.id = r.job_id AND j.state = 'active')`,
    [runId],
  );
  return rows[0]!.n;
}

/**
 * Brings the job of the tenant's oldest run waiting for a slot forward to now (a run that ends
 * frees one): it starts at the next poll instead of at the end of its wait, oldest first. Only a
 * job still waiting to start ('created'); a retry keeps its backoff.
 */
export async function wakeWaitingRun(tx: Tx): Promise<void> {
  await tx.query(
    `UPDATE ${JOBS_SCHEMA}.job SET start_after = now()
     WHERE name = '${RUN_QUEUE}' AND id = (
       SELECT r.job_id FROM agents.runs r JOIN ${JOBS_SCHEMA}.job w ON w.name = '${RUN_QUEUE}' AND w.id = r.job_id
       WHERE r.status = 'QUEUED' AND w.state = 'created' AND w.start_after > now()
       ORDER BY r.queued_at LIMIT 1)`,
  );
}

/** A new attempt begins: RUNNING, attempts + 1. */
export async function startAttempt(tx: Tx, runId: string): Promise<RunRow> {
  const { rows } = await tx.query<RunRow>(
    `UPDATE agents.runs SET status = 'RUNNING', attempts = attempts + 1, started_at = COALESCE(started_at, clock_timestamp()),
       progress = 0, step = NULL
     WHERE id = $1 RETURNING ${RUN_COLUMNS}`,
    [runId],
  );
  return rows[0]!;
}

/** Only while the run is RUNNING with this attempt (a retried or cancelled attempt changes nothing). */
const ATTEMPT = `status = 'RUNNING' AND attempts = $2`;

/** Progress of attempt `attempt`; false when the run is no longer that attempt's (cancelled, retried). */
export async function setProgress(tx: Tx, runId: string, attempt: number, progress: number, step: string): Promise<boolean> {
  const { rowCount } = await tx.query(`UPDATE agents.runs SET progress = $3, step = $4 WHERE id = $1 AND ${ATTEMPT}`, [
    runId,
    attempt,
    progress,
    step,
  ]);
  return rowCount === 1;
}

/** What a run not started is doing (waiting for a slot). */
export async function setStep(tx: Tx, runId: string, step: string): Promise<void> {
  await tx.query('UPDATE agents.runs SET step = $2 WHERE id = $1', [runId, step]);
}

/** Whether the run is still attempt `attempt`'s (RUNNING with it), locking it for the transaction. */
export async function holdsAttempt(tx: Tx, runId: string, attempt: number): Promise<boolean> {
  const { rows } = await tx.query(`SELECT 1 FROM agents.runs WHERE id = $1 AND ${ATTEMPT} FOR UPDATE`, [runId, attempt]);
  return rows.length === 1;
}

export interface RunEnd {
  status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'QUEUED';
  errorCode?: string | null;
  errorMessage?: string | null;
  progress?: number;
  step?: string | null;
  tokens?: { inputTokens: number; outputTokens: number } | null;
}

/**
 * Ends attempt `attempt` (null: whatever the run's attempt, e.g. a QUEUED run cancelled): a final
 * status, or QUEUED again for a retry (the error kept as the last one). Tokens add up across
 * attempts. The run as it is now, or null when it was no longer that attempt's.
 */
export async function endAttempt(tx: Tx, runId: string, attempt: number | null, end: RunEnd): Promise<RunRow | null> {
  const p = new Params();
  const id = p.add(runId);
  const guard = attempt === null ? `status IN ('QUEUED', 'RUNNING')` : `status = 'RUNNING' AND attempts = ${p.add(attempt)}`;
  const sets = [`status = ${p.add(end.status)}`, `error_code = ${p.add(end.errorCode ?? null)}`, `error_message = ${p.add(end.errorMessage ?? null)}`];
  // The statement's clock, not the transaction's: a run that starts once this one has ended starts after it.
  if (end.status !== 'QUEUED') sets.push('finished_at = clock_timestamp()');
  if (end.progress !== undefined) sets.push(`progress = ${p.add(end.progress)}`);
  if (end.step !== undefined) sets.push(`step = ${p.add(end.step)}`);
  if (end.tokens) {
    sets.push(`input_tokens = COALESCE(input_tokens, 0) + ${p.add(end.tokens.inputTokens)}`);
    sets.push(`output_tokens = COALESCE(output_tokens, 0) + ${p.add(end.tokens.outputTokens)}`);
  }
  if (end.status === 'CANCELLED') sets.push('cancel_requested_at = COALESCE(cancel_requested_at, now())');
  const { rows } = await tx.query<RunRow>(`UPDATE agents.runs SET ${sets.join(', ')} WHERE id = ${id} AND ${guard} RETURNING ${RUN_COLUMNS}`, p.values);
  return rows[0] ?? null;
}

// ---- insights

/** Inserts one insight of the run (with its embedding's columns, kit/vectors embeddingValues); its id. */
export async function insertInsight(
  tx: Tx,
  run: { id: string; agent_id: string | null },
  draft: InsightDraft,
  embedding: Record<string, string | number | null>,
): Promise<string> {
  const values: Record<string, unknown> = {
    run_id: run.id,
    agent_id: run.agent_id,
    kind: draft.kind,
    severity: draft.severity,
    title: draft.title,
    body: draft.body,
    subject_type: draft.subject?.type ?? null,
    subject_id: draft.subject?.id ?? null,
    subject_channel: draft.subject?.channel ?? null,
    evidence: JSON.stringify(draft.evidence ?? {}),
    ...embedding,
  };
  const p = new Params();
  const columns = Object.keys(values);
  const placeholders = columns.map((column) => p.add(values[column]));
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO agents.insights (tenant_id, ${columns.join(', ')}) VALUES (${CURRENT_TENANT}, ${placeholders.join(', ')}) RETURNING id`,
    p.values,
  );
  return rows[0]!.id;
}

// ---- events

const EVENT_COLUMNS = 'run_id, seq, at, type, status, progress, message, data';

/**
 * Appends an event to the run's: the run row is locked first, in its own statement, so the next
 * statement's max(seq) sees every event committed before (two writers never take the same seq).
 */
export async function appendEvent(tx: Tx, runId: string, event: RunEventInput): Promise<RunEventRow> {
  await tx.query('SELECT 1 FROM agents.runs WHERE id = $1 FOR UPDATE', [runId]);
  const { rows } = await tx.query<RunEventRow>(
    `INSERT INTO agents.run_events (tenant_id, run_id, seq, type, status, progress, message, data)
     SELECT ${CURRENT_TENANT}, $1, COALESCE(max(seq), 0) + 1, $2, $3, $4, $5, $6 FROM agents.run_events WHERE run_id = $1
     RETURNING ${EVENT_COLUMNS}`,
    [runId, event.type, event.status ?? null, event.progress ?? null, event.message?.slice(0, 2000) ?? null, event.data ? JSON.stringify(event.data) : null],
  );
  return rows[0]!;
}

/** The run's events after seq `after`, in order, at most `first`. */
export async function eventsAfter(tx: Tx, runId: string, after: number, first: number): Promise<RunEventRow[]> {
  const { rows } = await tx.query<RunEventRow>(
    `SELECT ${EVENT_COLUMNS} FROM agents.run_events WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    [runId, after, first],
  );
  return rows;
}

// ---- jobs

/** Whether the agent's tick job is still pending (not finished, failed or cancelled). */
export async function scheduleJobPending(tx: Tx, jobId: string): Promise<boolean> {
  const { rows } = await tx.query(
    `SELECT 1 FROM ${JOBS_SCHEMA}.job WHERE name = '${SCHEDULE_QUEUE}' AND id = $1 AND state IN ('created', 'retry', 'active')`,
    [jobId],
  );
  return rows.length === 1;
}
