import type { ListRequest } from '../kit/connection.ts';
import type { Tx } from '../kit/db/database.ts';
import { readList } from '../kit/db/list.ts';
import { Params } from '../kit/db/params.ts';
import { selectByKeys } from '../kit/db/select-by-keys.ts';
import type { Table } from '../kit/db/table.ts';
import { deleteRow, insertRow, updateRow } from '../kit/db/write-row.ts';
import type { AgentKind, InsightSeverity, SubjectType } from './analysts/types.ts';
import { AGENT_COLUMNS, RUNS, type AgentForRun, type RunRow, type RunStatus } from './runs/store.ts';

export type { RunRow, RunStatus };

// The SQL of agents, insights, run reads, page vectors and usage (runs/store.ts writes runs,
// their events and insights). Every function runs inside the caller's tenant transaction (ctx.tx
// or a job's tx): row-level security decides which rows exist, and new rows take the
// transaction's tenant. Ids reaching these functions are already checked to be UUIDs.

export interface AgentRow extends AgentForRun {
  kind: AgentKind;
  created_at: Date;
  updated_at: Date;
}

export interface InsightRow {
  id: string;
  run_id: string;
  agent_id: string | null;
  kind: string;
  severity: InsightSeverity;
  title: string;
  body: string;
  subject_type: SubjectType | null;
  subject_id: string | null;
  subject_channel: string | null;
  evidence: Record<string, unknown>;
  created_at: Date;
  dismissed_at: Date | null;
  dismissed_by: string | null;
}

export const AGENTS: Table = { name: 'agents.agents', columns: `${AGENT_COLUMNS}, created_at, updated_at` };
export { RUNS };
export const INSIGHTS: Table = {
  name: 'agents.insights',
  columns: 'id, run_id, agent_id, kind, severity, title, body, subject_type, subject_id, subject_channel, evidence, created_at, dismissed_at, dismissed_by',
};

/** `c.id, c.kind, ...`: a table's columns qualified by an alias (for joins and window queries). */
const qualified = (table: Table, alias: string) =>
  table.columns
    .split(', ')
    .map((column) => `${alias}.${column}`)
    .join(', ');

// ---------------------------------------------------------------------------------------------
// Agents

/** The agents of these ids (a DataLoader batch: one statement). */
export const agentsByIds = selectByKeys<AgentRow>(AGENTS, { key: 'id' });

export interface AgentListFilter {
  kind?: AgentKind | null;
  enabled?: boolean | null;
}

/** One page of the tenant's agents, newest first (off agents_by_created). */
export function agentsPage(tx: Tx, filter: AgentListFilter, page: ListRequest) {
  const p = new Params();
  const where: string[] = [];
  if (filter.kind) where.push(`kind = ${p.add(filter.kind)}`);
  if (filter.enabled != null) where.push(`enabled = ${p.add(filter.enabled)}`);
  return readList<AgentRow>(tx, { columns: AGENTS.columns, from: AGENTS.name, where, orderBy: 'created_at DESC, id DESC', values: p.values }, page);
}

export interface AgentValues {
  kind?: AgentKind;
  name?: string;
  settings?: Record<string, unknown>;
  schedule?: string | null;
  enabled?: boolean;
}

const agentColumns = (values: AgentValues) => {
  const columns: Record<string, unknown> = { ...values };
  if (values.settings !== undefined) columns.settings = JSON.stringify(values.settings);
  return columns;
};

export const insertAgent = (tx: Tx, values: AgentValues & { kind: AgentKind; name: string }, ownerId: string | null) =>
  insertRow<AgentRow>(tx, AGENTS, { ...agentColumns(values), owner_id: ownerId });

export const updateAgent = (tx: Tx, id: string, values: AgentValues) => updateRow<AgentRow>(tx, AGENTS, id, agentColumns(values));

/** The agent, locked for an update in this transaction (null: not in the tenant). */
export async function agentForUpdate(tx: Tx, id: string): Promise<AgentRow | null> {
  const { rows } = await tx.query<AgentRow>(`SELECT ${AGENTS.columns} FROM agents.agents WHERE id = $1 FOR UPDATE`, [id]);
  return rows[0] ?? null;
}

/** Its runs and insights stay (their agent_id becomes NULL: ON DELETE SET NULL). */
export const deleteAgent = (tx: Tx, id: string) => deleteRow(tx, AGENTS, id);

// ---------------------------------------------------------------------------------------------
// Runs (reads; runs/ writes them)

export const runsByIds = selectByKeys<RunRow>(RUNS, { key: 'id' });

export interface RunListFilter {
  agentId?: string | null;
  status?: RunStatus | null;
}

/** One page of the tenant's runs, newest first (off runs_by_queued, runs_of_agent or runs_active). */
export function runsPage(tx: Tx, filter: RunListFilter, page: ListRequest) {
  const p = new Params();
  const where: string[] = [];
  if (filter.agentId) where.push(`agent_id = ${p.add(filter.agentId)}`);
  if (filter.status) where.push(`status = ${p.add(filter.status)}`);
  return readList<RunRow>(tx, { columns: RUNS.columns, from: RUNS.name, where, orderBy: 'queued_at DESC, id DESC', values: p.values }, page);
}

/**
 * The newest `limit` runs of each of these agents (`Agent.runs`, `Agent.lastRun`), newest first,
 * in one statement for any number of agents: a LATERAL read per agent off runs_of_agent.
 */
export async function latestRunsOfAgents(tx: Tx, agentIds: readonly string[], limit: number): Promise<RunRow[]> {
  const { rows } = await tx.query<RunRow>(
    `SELECT ${qualified(RUNS, 'r')}
     FROM unnest($1::uuid[]) AS a(id)
     CROSS JOIN LATERAL (SELECT ${RUNS.columns} FROM agents.runs WHERE agent_id = a.id ORDER BY queued_at DESC, id DESC LIMIT $2) AS r`,
    [agentIds, limit],
  );
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Insights

export const insightsByIds = selectByKeys<InsightRow>(INSIGHTS, { key: 'id' });

/** Every insight of these runs, each run's in the order written (off insights_of_run). */
export const insightsOfRuns = selectByKeys<InsightRow>(INSIGHTS, { key: 'run_id', orderBy: 'run_id, seq' });

export interface InsightListFilter {
  kind?: string | null;
  severity?: InsightSeverity | null;
  agentId?: string | null;
  runId?: string | null;
  subjectType?: SubjectType | null;
  subjectId?: string | null;
  /** false: not dismissed; true: dismissed; null: both. */
  dismissed: boolean | null;
}

/** One page of the tenant's insights, newest first (off insights_by_created, or the index of the run, agent or subject filtered on). */
export function insightsPage(tx: Tx, filter: InsightListFilter, page: ListRequest) {
  const p = new Params();
  const where: string[] = [];
  if (filter.kind) where.push(`kind = ${p.add(filter.kind)}`);
  if (filter.severity) where.push(`severity = ${p.add(filter.severity)}`);
  if (filter.agentId) where.push(`agent_id = ${p.add(filter.agentId)}`);
  if (filter.runId) where.push(`run_id = ${p.add(filter.runId)}`);
  if (filter.subjectType) where.push(`subject_type = ${p.add(filter.subjectType)}`);
  if (filter.subjectId) where.push(`subject_id = ${p.add(filter.subjectId)}`);
  if (filter.dismissed === true) where.push('dismissed_at IS NOT NULL');
  if (filter.dismissed === false) where.push('dismissed_at IS NULL');
  return readList<InsightRow>(tx, { columns: INSIGHTS.columns, from: INSIGHTS.name, where, orderBy: 'created_at DESC, seq DESC', values: p.values }, page);
}

/** A subject as insights name it: its type and id (a Product's in every channel). */
export interface SubjectKey {
  type: SubjectType;
  id: string;
}

/**
 * The newest `limit` insights not dismissed of each of these subjects, newest first, in one
 * statement for any number of subjects (a LATERAL read per subject off insights_of_subject).
 */
export async function latestInsightsOfSubjects(tx: Tx, subjects: readonly SubjectKey[], limit: number): Promise<InsightRow[]> {
  const { rows } = await tx.query<InsightRow>(
    `SELECT ${qualified(INSIGHTS, 'i')}
     FROM unnest($1::text[], $2::text[]) AS s(type, id)
     CROSS JOIN LATERAL (
       SELECT ${INSIGHTS.columns} FROM agents.insights
       WHERE subject_type = s.type AND subject_id = s.id AND dismissed_at IS NULL
       ORDER BY created_at DESC, seq DESC LIMIT $3
     ) AS i`,
    [subjects.map((s) => s.type), subjects.map((s) => s.id), limit],
  );
  return rows;
}

/**
 * Dismisses an insight: the row as it is now, or null when it is not the tenant's. Dismissing a
 * dismissed one keeps who dismissed it and when.
 */
export async function dismissInsight(tx: Tx, id: string, by: string | null): Promise<InsightRow | null> {
  const { rows } = await tx.query<InsightRow>(
    `UPDATE agents.insights SET dismissed_at = coalesce(dismissed_at, now()), dismissed_by = CASE WHEN dismissed_at IS NULL THEN $2::uuid ELSE dismissed_by END
     WHERE id = $1 RETURNING ${INSIGHTS.columns}`,
    [id, by],
  );
  return rows[0] ?? null;
}

/** Undoes dismissInsight (a no-op on one not dismissed): the row, or null when it is not the tenant's. */
export async function restoreInsight(tx: Tx, id: string): Promise<InsightRow | null> {
  const { rows } = await tx.query<InsightRow>(
    `UPDATE agents.insights SET dismissed_at = NULL, dismissed_by = NULL WHERE id = $1 RETURNING ${INSIGHTS.columns}`,
    [id],
  );
  return rows[0] ?? null;
}

/** The insight's text as it was embedded, for `similar(to: { insightId })`. */
export async function insightText(tx: Tx, id: string): Promise<{ title: string; body: string } | null> {
  const { rows } = await tx.query<{ title: string; body: string }>('SELECT title, body FROM agents.insights WHERE id = $1', [id]);
  return rows[0] ?? null;
}

/**
 * Up to `limit` insights embedded with another model than `model`, by id after `afterId` (the
 * page index job re-embeds them when the configured embedder changes).
 */
export async function insightsEmbeddedOtherwise(tx: Tx, model: string, afterId: string | null, limit: number) {
  const { rows } = await tx.query<{ id: string; title: string; body: string }>(
    `SELECT id, title, body FROM agents.insights
     WHERE embedding_model IS NOT NULL AND embedding_model <> $1 AND ($2::uuid IS NULL OR id > $2::uuid)
     ORDER BY id LIMIT $3`,
    [model, afterId, limit],
  );
  return rows;
}

/** Replaces an insight's embedding (the columns of kit/vectors embeddingValues). */
export async function setInsightEmbedding(tx: Tx, id: string, embedding: Record<string, string | number | null>): Promise<void> {
  const p = new Params();
  const idParam = p.add(id);
  const sets = Object.keys(embedding).map((column) => `${column} = ${p.add(embedding[column])}`);
  await tx.query(`UPDATE agents.insights SET ${sets.join(', ')} WHERE id = ${idParam}`, p.values);
}

// ---------------------------------------------------------------------------------------------
// Page vectors (pages-index.ts)

export interface PageVectorRow {
  page_id: string;
  content_hash: string;
}

/** Every indexed page's hash (a tenant's published pages: thousands at most). */
export async function pageHashes(tx: Tx): Promise<Map<string, string>> {
  const { rows } = await tx.query<PageVectorRow>('SELECT page_id, content_hash FROM agents.page_vectors');
  return new Map(rows.map((row) => [row.page_id, row.content_hash]));
}

/** Inserts or replaces one page's vector (the embedding columns from kit/vectors embeddingValues). */
export async function upsertPageVector(
  tx: Tx,
  page: { page_id: string; title: string; content_hash: string },
  embedding: Record<string, string | number | null>,
): Promise<void> {
  const values: Record<string, unknown> = { ...page, ...embedding };
  const p = new Params();
  const columns = Object.keys(values);
  const placeholders = columns.map((column) => p.add(values[column]));
  const updates = columns.filter((c) => c !== 'page_id').map((c) => `${c} = EXCLUDED.${c}`);
  await tx.query(
    `INSERT INTO agents.page_vectors (tenant_id, ${columns.join(', ')}, updated_at)
     VALUES (NULLIF(current_setting('app.tenant_id', true), '')::uuid, ${placeholders.join(', ')}, now())
     ON CONFLICT (tenant_id, page_id) DO UPDATE SET ${updates.join(', ')}, updated_at = now()`,
    p.values,
  );
}

export async function deletePageVectors(tx: Tx, pageIds: readonly string[]): Promise<void> {
  if (pageIds.length) await tx.query('DELETE FROM agents.page_vectors WHERE page_id = ANY($1::uuid[])', [pageIds]);
}

/** An indexed page's stored vector as text (pgvector's `[..]` or an array's `{..}`), with its model. */
export async function pageEmbedding(tx: Tx, pageId: string): Promise<{ embedding: string; model: string } | null> {
  const { rows } = await tx.query<{ embedding: string | null; model: string | null }>(
    'SELECT embedding::text AS embedding, embedding_model AS model FROM agents.page_vectors WHERE page_id = $1',
    [pageId],
  );
  const row = rows[0];
  return row?.embedding && row.model ? { embedding: row.embedding, model: row.model } : null;
}

// ---------------------------------------------------------------------------------------------
// Usage

export interface UsageRow {
  day: string;
  runs: number;
  tokens: number;
}

/** The tenant's use today (UTC): zeros when it has none yet. */
export async function usageToday(tx: Tx): Promise<UsageRow> {
  const { rows } = await tx.query<UsageRow>(
    `SELECT to_char(d.day, 'YYYY-MM-DD') AS day, coalesce(u.runs, 0) AS runs, coalesce(u.tokens, 0) AS tokens
     FROM (SELECT (now() AT TIME ZONE 'UTC')::date AS day) AS d
     LEFT JOIN agents.daily_usage u ON u.day = d.day`,
  );
  return rows[0]!;
}
