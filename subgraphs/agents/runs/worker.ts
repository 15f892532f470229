import { setTimeout as sleep } from 'node:timers/promises';
import type { SubgraphDeps } from '../../kit/deps.ts';
import { useJobs, type JobSystem } from '../../kit/jobs/index.ts';
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

/**
 * Works the run and schedule queues on `jobs`, after giving every scheduled agent whose tick job
 * is missing its tick. (startRunWorker does it on the process's job system; tests on their own.)
 */
export async function workRunQueues(jobs: JobSystem, deps: SubgraphDeps<AgentsSettings>): Promise<void> {
  const sent = await rescheduleMissingTicks(deps);
  if (sent) deps.log.info({ agents: sent }, 'agents: schedules without a pending tick were given one');
  await jobs.work(runQueue(deps.settings), (job) => executeRun(deps, job));
  await jobs.work(scheduleQueue, (job) => scheduleTick(deps, job));
}

/** Stops this process's workers of the two queues, waiting for the runs in hand (kit/jobs stop). */
export async function stopRunQueues(jobs: JobSystem, deps: SubgraphDeps<AgentsSettings>): Promise<void> {
  await jobs.offWork(scheduleQueue);
  await jobs.offWork(runQueue(deps.settings));
}

/** The agents subgraph's worker, started with its server (SubgraphDefinition.background). */
export function startRunWorker(deps: SubgraphDeps<AgentsSettings>): BackgroundTask {
  const lease = useJobs(deps);
  const stopping = new AbortController();
  // Until it has started (the database may be unreachable for a while): then the workers run.
  const started = (async () => {
    while (!stopping.signal.aborted) {
      try {
        await workRunQueues(lease.jobs, deps);
        return;
      } catch (error) {
        // A half-started pair (the run queue's worker but not the schedule's) starts again whole.
        await stopRunQueues(lease.jobs, deps).catch(() => undefined);
        deps.log.error({ err: error }, 'agent runs did not start; trying again in 5 s');
        await sleep(5_000, undefined, { signal: stopping.signal }).catch(() => undefined);
      }
    }
  })();
  return {
    async stop() {
      stopping.abort();
      await started;
      await stopRunQueues(lease.jobs, deps);
      await lease.release();
    },
  };
}
