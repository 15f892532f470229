import { defineQueue, type JobQueue } from '../../kit/jobs/index.ts';
import type { RunSettings } from './settings.ts';

/*
 * The agents subgraph's two queues on the kit's job system (kit/jobs, pg-boss 10). A job carries
 * ids only; the rows (agents.runs, agents.agents) are the truth, and a handler acts only while
 * the row still names its job, so a job that runs twice, or after a reschedule, does nothing more.
 */

export interface RunJob {
  runId: string;
}

export interface ScheduleJob {
  agentId: string;
}

export const RUN_QUEUE = 'agents-run';
export const SCHEDULE_QUEUE = 'agents-schedule';

/**
 * More pg-boss retries than the run has attempts: the run row counts attempts and the handler
 * fails the run itself after the last one (with that attempt's error). The spares are for an
 * attempt whose process died: its job is retried once it expires, and that retry, finding the
 * attempts used up, marks the run FAILED instead of leaving it RUNNING for ever.
 */
const SPARE_RETRIES = 2;

/** The run queue as these settings make it: retries with backoff, an attempt's expiry from the run timeout. */
export function runQueue(settings: RunSettings): JobQueue<RunJob> {
  return defineQueue<RunJob>(RUN_QUEUE, {
    retryLimit: settings.AGENTS_RUN_ATTEMPTS - 1 + SPARE_RETRIES,
    retryDelay: settings.AGENTS_RUN_RETRY_DELAY_SECONDS,
    retryBackoff: true,
    // The signal aborts at the timeout (TIMEOUT); a crashed process's run is retried after it.
    expireInSeconds: settings.AGENTS_RUN_TIMEOUT_SECONDS,
    // Runs stay in agents.runs; the jobs are only the envelopes.
    retentionMinutes: 24 * 60,
    concurrency: settings.AGENTS_RUN_CONCURRENCY,
    pollingIntervalSeconds: 1,
  });
}

/**
 * One job per scheduled agent, starting at its next occurrence (pg-boss 10 keeps one cron per
 * queue). A tick is one short transaction: a failure is the database's, retried soon.
 */
export const scheduleQueue = defineQueue<ScheduleJob>(SCHEDULE_QUEUE, {
  retryLimit: 10,
  retryDelay: 5,
  retryBackoff: true,
  expireInSeconds: 60,
  retentionMinutes: 24 * 60,
  concurrency: 1,
  pollingIntervalSeconds: 2,
});
