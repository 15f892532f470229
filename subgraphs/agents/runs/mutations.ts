import type { Context } from '../../kit/context.ts';
import { isUuid } from '../../kit/formats.ts';
import { cancelJob, sendJob } from '../../kit/jobs/index.ts';
import { databaseErrors } from '../../kit/mutations/database-errors.ts';
import { fail, type Outcome } from '../../kit/mutations/outcome.ts';
import { reject } from '../../kit/mutations/rejected.ts';
import { runMutation } from '../../kit/mutations/run-mutation.ts';
import type { AgentErrorCode, AgentRunInput } from '../__generated__/resolvers-types.ts';
import type { AgentsSettings } from '../settings.ts';
import { publishEvents, RunEventBatch } from './events.ts';
import { kindDefinition, modelConfigured } from './kinds.ts';
import { takeDailyRun } from './quota.ts';
import { runQueue } from './queue.ts';
import * as store from './store.ts';

/** What the runs' mutations need of a request's context. */
export type RunsContext = Pick<Context<unknown, AgentsSettings>, 'tx' | 'principal' | 'deps'>;

const RULES = databaseErrors<AgentErrorCode>({ unique: 'DUPLICATE', foreignKey: 'NOT_FOUND', check: 'INVALID', notNull: 'REQUIRED', tooLong: 'TOO_LONG' });

const BRIEF_MAX = 4_000;

/** The run's input as stored: the writer's brief and draft target; other kinds take none. */
function runInput(kind: string, input: AgentRunInput | null | undefined): Record<string, unknown> {
  if (kind !== 'WRITER') return {};
  const brief = input?.brief?.trim() ?? '';
  if (!brief) reject('input.brief', 'Enter a brief for the writer.', 'REQUIRED');
  if (brief.length > BRIEF_MAX) reject('input.brief', `At most ${BRIEF_MAX} characters.`, 'TOO_LONG');
  return { brief, draft: input?.draft ?? 'EMAIL' };
}

/** Runs a mutation's writes with run events, publishing them once it has committed. */
async function withEvents<T>(ctx: RunsContext, fn: (tx: Parameters<Parameters<RunsContext['tx']>[0]>[0], events: RunEventBatch) => Promise<T>) {
  const events = new RunEventBatch();
  const outcome = await runMutation(ctx.tx, RULES, (tx) => fn(tx, events));
  if (outcome.value !== null) await publishEvents(ctx.deps, ctx.principal.tenantId!, events.written);
  return outcome;
}

/**
 * Queues a run of an enabled agent acting as the caller: its row, its job (in the same
 * transaction, so a run exists with its job or not at all), its first event, and one run of the
 * tenant's daily quota.
 */
export async function runAgent(ctx: RunsContext, args: { id: string; input?: AgentRunInput | null }): Promise<Outcome<store.RunRow, AgentErrorCode>> {
  if (!isUuid(args.id)) return fail('id', 'Agent not found.', 'NOT_FOUND');
  const settings = ctx.deps.settings;
  return withEvents(ctx, async (tx, events) => {
    // Locked: a concurrent delete or disable waits for the run to be queued, then cancels it.
    const agent = (await store.agentForUpdate(tx, args.id.toLowerCase())) ?? reject('id', 'Agent not found.', 'NOT_FOUND');
    if (!agent.enabled) reject('id', 'The agent is disabled.', 'DISABLED');
    const definition = kindDefinition(agent.kind);
    if (!definition) reject('id', 'This kind of agent is not available.', 'INVALID');
    if (definition!.needsModel && !modelConfigured(settings)) {
      reject('id', 'This kind of agent needs a language model, and none is configured.', 'MODEL_REQUIRED');
    }
    const input = runInput(agent.kind, args.input);
    if (!(await takeDailyRun(tx, settings.AGENTS_DAILY_RUNS))) {
      reject(null, `The tenant's ${settings.AGENTS_DAILY_RUNS} runs for today are used up; try again tomorrow (UTC).`, 'QUOTA_EXCEEDED');
    }
    return queueRun(tx, events, settings, { agent, trigger: 'manual', startedBy: ctx.principal.accountId!, input });
  });
}

/** A run's row, its job and its QUEUED event, in the caller's transaction (runAgent, a schedule's tick). */
export async function queueRun(
  tx: Parameters<typeof store.insertRun>[0],
  events: RunEventBatch,
  settings: AgentsSettings,
  run: { agent: store.AgentForRun; trigger: store.RunTrigger; startedBy: string; input: Record<string, unknown> },
): Promise<store.RunRow> {
  const row = await store.insertRun(tx, { agent_id: run.agent.id, kind: run.agent.kind, trigger: run.trigger, started_by: run.startedBy, input: run.input });
  const jobId = await sendJob(tx, runQueue(settings), { runId: row.id });
  await store.setRunJob(tx, row.id, jobId);
  await events.append(tx, row.id, { type: 'STATUS', status: 'QUEUED', data: { trigger: run.trigger } });
  return { ...row, job_id: jobId };
}

const CANCELLED_MESSAGE = 'The run was cancelled.';

/**
 * Cancels a run not finished: CANCELLED at once (a queued run never starts; a running one stops
 * at its next step, and what it computed is not written), its job cancelled (the handler's
 * signal aborts). By who started it, or an admin or owner. A finished run is returned unchanged.
 */
export async function cancelAgentRun(ctx: RunsContext, args: { id: string }): Promise<Outcome<store.RunRow, AgentErrorCode>> {
  if (!isUuid(args.id)) return fail('id', 'Run not found.', 'NOT_FOUND');
  const { accountId, roles } = ctx.principal;
  return withEvents(ctx, async (tx, events) => {
    const run = (await store.runForUpdate(tx, args.id.toLowerCase())) ?? reject('id', 'Run not found.', 'NOT_FOUND');
    if (run.started_by !== accountId && !roles.some((role) => role === 'admin' || role === 'owner')) {
      reject('id', 'Only who started the run, an admin or an owner may cancel it.', 'FORBIDDEN');
    }
    if (store.FINISHED.includes(run.status)) return run;
    return (await cancelRun(tx, events, ctx.deps.settings, run, CANCELLED_MESSAGE))!;
  });
}

/** CANCELLED with its event, and its job cancelled; the run as it is now (null if it had finished). */
export async function cancelRun(
  tx: Parameters<typeof store.insertRun>[0],
  events: RunEventBatch,
  settings: AgentsSettings,
  run: store.RunRow,
  message: string,
): Promise<store.RunRow | null> {
  const cancelled = await store.endAttempt(tx, run.id, null, { status: 'CANCELLED', errorCode: 'CANCELLED', errorMessage: message });
  if (!cancelled) return null;
  await events.append(tx, run.id, { type: 'STATUS', status: 'CANCELLED', message });
  if (run.job_id) await cancelJob(tx, runQueue(settings), run.job_id);
  if (run.status === 'RUNNING') await store.wakeWaitingRun(tx);
  return cancelled;
}
