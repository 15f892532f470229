import cronParser from 'cron-parser';
import type { Tx } from '../../kit/db/database.ts';
import type { SubgraphDeps } from '../../kit/deps.ts';
import { cancelJob, defineQueue, sendJob, type JobContext } from '../../kit/jobs/index.ts';
import type { AgentsSettings } from '../settings.ts';
import { RunEventBatch, withRunEvents } from './events.ts';
import { kindDefinition, modelConfigured } from './kinds.ts';
import { queueRun } from './mutations.ts';
import { takeDailyRun } from './quota.ts';
import { RUN_QUEUE, scheduleQueue, type RunJob, type ScheduleJob } from './queue.ts';
import * as store from './store.ts';

/*
 * Agents' cron schedules on the job system. pg-boss 10 keeps one cron per queue, so each
 * scheduled agent has one delayed job of `agents-schedule` instead, starting at its next
 * occurrence: its id and time are the agent's schedule_job_id / next_run_at. The tick creates
 * a SCHEDULE run acting as the agent's owner, queues it, and sends the next tick, all in one
 * transaction; a tick that is no longer its agent's (the agent was rescheduled, disabled or
 * deleted: its job is cancelled then, and one that ran anyway finds another id) does nothing.
 * Jobs live in the database, so schedules survive restarts; a tick whose time passed while no
 * process ran fires when one starts (once: the next is computed from then).
 */

/** The next time a five-field cron expression (UTC) fires strictly after `after`. */
export function nextOccurrence(schedule: string, after: Date): Date {
  return cronParser.parseExpression(schedule, { currentDate: after, tz: 'UTC' }).next().toDate();
}

/** Sends the agent's tick for `at` and records it as the agent's pending one. */
export async function sendTick(tx: Tx, agentId: string, at: Date): Promise<string> {
  const jobId = await sendJob(tx, scheduleQueue, { agentId }, { startAfter: at });
  await store.setScheduleJob(tx, agentId, jobId, at);
  return jobId;
}

/**
 * After an agent was created or updated, in the same transaction: its pending tick is cancelled
 * and, when it is enabled with a schedule, the next occurrence's is sent. (createAgent and
 * updateAgent call it with the written row; it reads the row again, locked.) What the agent's
 * schedule_job_id and next_run_at are now.
 */
export async function rescheduleAgent(tx: Tx, agent: { id: string }): Promise<{ scheduleJobId: string | null; nextRunAt: Date | null }> {
  const row = await store.agentForUpdate(tx, agent.id);
  if (!row) return { scheduleJobId: null, nextRunAt: null };
  if (row.schedule_job_id) await cancelJob(tx, scheduleQueue, row.schedule_job_id);
  if (!row.enabled || !row.schedule) {
    await store.setScheduleJob(tx, row.id, null, null);
    return { scheduleJobId: null, nextRunAt: null };
  }
  const nextRunAt = nextOccurrence(row.schedule, new Date());
  return { scheduleJobId: await sendTick(tx, row.id, nextRunAt), nextRunAt };
}

/** The run queue by name: cancelling a job needs no more. */
const runQueueName = defineQueue<RunJob>(RUN_QUEUE);

/**
 * Before an agent is deleted, in the same transaction: its QUEUED runs are CANCELLED (their jobs
 * cancelled) and its pending tick cancelled. Running runs finish (their agent_id becomes NULL).
 * Returns the run events written: publish them after the commit with
 * `publishEvents(deps, tenantId, events)` (events.ts) so live followers see the end.
 */
export async function cancelQueuedRuns(tx: Tx, agentId: string): Promise<store.RunEventRow[]> {
  const events = new RunEventBatch();
  const agent = await store.agentForUpdate(tx, agentId);
  if (agent?.schedule_job_id) {
    await cancelJob(tx, scheduleQueue, agent.schedule_job_id);
    await store.setScheduleJob(tx, agentId, null, null);
  }
  for (const run of await store.queuedRunsOfAgent(tx, agentId)) {
    const cancelled = await store.endAttempt(tx, run.id, null, { status: 'CANCELLED', errorCode: 'CANCELLED', errorMessage: 'The agent was deleted.' });
    if (!cancelled) continue;
    await events.append(tx, run.id, { type: 'STATUS', status: 'CANCELLED', message: 'The agent was deleted.' });
    if (run.job_id) await cancelJob(tx, runQueueName, run.job_id);
  }
  return events.written;
}

type TickDeps = Pick<SubgraphDeps<AgentsSettings>, 'db' | 'redis' | 'config' | 'log' | 'settings'>;

type TickOutcome = 'stale' | 'off' | 'queued' | 'no-owner' | 'unavailable' | 'quota';

/**
 * The tick of an agent's schedule: a SCHEDULE run as the agent's owner (counted in the daily
 * quota; skipped when the quota is used up, the owner left, or the kind cannot run here), and
 * the next tick. Acts only while the job is still the agent's tick.
 */
export async function scheduleTick(deps: TickDeps, job: Pick<JobContext<ScheduleJob>, 'id' | 'tenantId' | 'data' | 'tx'>): Promise<TickOutcome> {
  const { agentId } = job.data;
  const current = await job.tx((tx) => store.agentById(tx, agentId));
  if (!current || current.schedule_job_id !== job.id) return 'stale';
  // The run and its job carry the owner as their member (sendJob reads it off the transaction).
  const asOwner = <T>(fn: (tx: Tx) => Promise<T>) => deps.db.withTenant({ tenantId: job.tenantId, accountId: current.owner_id }, fn);
  const outcome = await withRunEvents(deps, job.tenantId, asOwner, async (tx, events): Promise<TickOutcome> => {
    const agent = await store.agentForUpdate(tx, agentId);
    if (!agent || agent.schedule_job_id !== job.id || agent.owner_id !== current.owner_id) return 'stale';
    if (!agent.enabled || !agent.schedule) {
      await store.setScheduleJob(tx, agentId, null, null);
      return 'off';
    }
    let result: TickOutcome = 'queued';
    const definition = kindDefinition(agent.kind);
    if (!agent.owner_id) result = 'no-owner';
    else if (!definition || (definition.needsModel && !modelConfigured(deps.settings))) result = 'unavailable';
    else if (!(await takeDailyRun(tx, deps.settings.AGENTS_DAILY_RUNS))) result = 'quota';
    else await queueRun(tx, events, deps.settings, { agent, trigger: 'schedule', startedBy: agent.owner_id, input: {} });
    // From this tick's occurrence (a tick may start a moment early by the database's clock).
    const now = new Date();
    const after = agent.next_run_at && agent.next_run_at > now ? agent.next_run_at : now;
    await sendTick(tx, agentId, nextOccurrence(agent.schedule, after));
    return result;
  });
  if (outcome !== 'queued' && outcome !== 'stale' && outcome !== 'off') {
    deps.log.warn({ tenant: job.tenantId, agent: agentId, reason: outcome }, 'agents: a scheduled run was skipped');
  }
  return outcome;
}

/**
 * Gives every enabled scheduled agent whose tick has no pending job (its job lost, or written
 * before the job system) its tick, each in its tenant's transaction: at its recorded time when
 * it has one (at once, if that has passed while no process ran), else at the next occurrence.
 * Returns how many.
 */
export async function rescheduleMissingTicks(deps: Pick<SubgraphDeps, 'db'>): Promise<number> {
  let sent = 0;
  let after: { tenantId: string; agentId: string } | null = null;
  for (;;) {
    const page: { tenant_id: string; agent_id: string }[] = await deps.db.withTenant({ tenantId: null, accountId: null }, (tx) =>
      store.unscheduledAgents(tx, after, 100),
    );
    if (!page.length) return sent;
    for (const { tenant_id: tenantId, agent_id: agentId } of page) {
      await deps.db.withTenant({ tenantId, accountId: null }, async (tx) => {
        const agent = await store.agentForUpdate(tx, agentId);
        if (!agent?.enabled || !agent.schedule) return;
        if (agent.schedule_job_id && (await store.scheduleJobPending(tx, agent.schedule_job_id))) return;
        await sendTick(tx, agentId, agent.next_run_at ?? nextOccurrence(agent.schedule, new Date()));
        sent++;
      });
    }
    const last = page[page.length - 1]!;
    after = { tenantId: last.tenant_id, agentId: last.agent_id };
  }
}

