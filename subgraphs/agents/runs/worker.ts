import type { SubgraphDeps } from '../../kit/deps.ts';
import { startQueueWorkers, stopQueues, workQueues, worksOn, type JobSystem, type QueueBinding } from '../../kit/jobs/index.ts';
import type { BackgroundTask } from '../../kit/server.ts';
import type { AgentsSettings } from '../settings.ts';
import { executeRun } from './executor.ts';
import { runQueue, scheduleQueue } from './queue.ts';
import { rescheduleMissingTicks, scheduleTick } from './schedule.ts';

/*
 * The agents subgraph's background work: the run queue (AGENTS_RUN_CONCURRENCY runs at once in
 * this process) and the schedule ticks, on the process's job system (kit/jobs). Every agents
 * process works both; pg-boss gives each job to one of them.
 */

/** The run queue and the schedule queue, each with its handler. */
function runQueues(deps: SubgraphDeps<AgentsSettings>): QueueBinding<any>[] {
  return [worksOn(runQueue(deps.settings), (job) => executeRun(deps, job)), worksOn(scheduleQueue, (job) => scheduleTick(deps, job))];
}

/** Gives every scheduled agent whose tick job is missing its tick (before the workers start). */
async function giveMissingTicks(deps: SubgraphDeps<AgentsSettings>): Promise<void> {
  const sent = await rescheduleMissingTicks(deps);
  if (sent) deps.log.info({ agents: sent }, 'agents: schedules without a pending tick were given one');
}

/**
 * Works the run and schedule queues on `jobs`, after giving every scheduled agent whose tick job
 * is missing its tick. (startRunWorker does it on the process's job system; tests on their own.)
 */
export async function workRunQueues(jobs: JobSystem, deps: SubgraphDeps<AgentsSettings>): Promise<void> {
  await giveMissingTicks(deps);
  await workQueues(jobs, runQueues(deps));
}

/** Stops this process's workers of the two queues, waiting for the runs in hand (kit/jobs stop). */
export async function stopRunQueues(jobs: JobSystem, deps: SubgraphDeps<AgentsSettings>): Promise<void> {
  await stopQueues(jobs, runQueues(deps));
}

/** The agents subgraph's worker, started with its server (SubgraphDefinition.background). */
export function startRunWorker(deps: SubgraphDeps<AgentsSettings>): BackgroundTask {
  return startQueueWorkers(deps, runQueues(deps), { what: 'agent runs', beforeStart: () => giveMissingTicks(deps) });
}
