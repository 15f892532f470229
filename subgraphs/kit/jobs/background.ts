import { setTimeout as sleep } from 'node:timers/promises';
import type { SubgraphDeps } from '../deps.ts';
import type { BackgroundTask } from '../server.ts';
import { useJobs } from './lease.ts';
import type { JobQueue } from './queue.ts';
import type { JobSystem } from './system.ts';
import type { JobHandler } from './worker.ts';

/** How long a worker that could not start (the database unreachable, say) waits before trying again. */
export const RESTART_DELAY_MS = 5_000;

/** A queue and the handler that works it. */
export interface QueueBinding<T = never> {
  queue: JobQueue<T>;
  handler: JobHandler<T>;
}

/** Binds a handler to its queue, typed together. */
export function worksOn<T>(queue: JobQueue<T>, handler: JobHandler<T>): QueueBinding<T> {
  return { queue, handler };
}

/** Starts `queues`' workers on `jobs`, in order. */
export async function workQueues(jobs: JobSystem, queues: readonly QueueBinding<any>[]): Promise<void> {
  for (const { queue, handler } of queues) await jobs.work(queue, handler);
}

/** Stops `queues`' workers on `jobs` (waiting for their handlers), in reverse order; a queue without a worker is skipped. */
export async function stopQueues(jobs: JobSystem, queues: readonly QueueBinding<any>[]): Promise<void> {
  for (const { queue } of [...queues].reverse()) await jobs.offWork(queue as JobQueue<unknown>);
}

export interface QueueWorkersOptions {
  /** Named in the log line of a failed start ("<what> did not start"). */
  what: string;
  /** Runs before the workers start, and again before each retry (e.g. enqueue what predates the queue, keep a schedule). */
  beforeStart?: (jobs: JobSystem) => Promise<unknown>;
  /** Wait before trying a failed start again. Default RESTART_DELAY_MS (5 s). */
  restartDelayMs?: number;
}

/**
 * A subgraph's background work on the process's job system (SubgraphDefinition.background):
 * works `queues` until stopped. The database may be unreachable at first, so a start that fails is
 * undone (a half-started set starts again whole) and tried again after `restartDelayMs`. Stopping
 * waits for a start in progress, then for the handlers in hand, then releases the lease (the last
 * lease of the process stops its job system).
 */
export function startQueueWorkers(deps: Pick<SubgraphDeps, 'db' | 'config' | 'log'>, queues: readonly QueueBinding<any>[], options: QueueWorkersOptions): BackgroundTask {
  const lease = useJobs(deps);
  const stopping = new AbortController();
  const delayMs = options.restartDelayMs ?? RESTART_DELAY_MS;
  const started = (async () => {
    while (!stopping.signal.aborted) {
      try {
        await options.beforeStart?.(lease.jobs);
        await workQueues(lease.jobs, queues);
        return;
      } catch (error) {
        await stopQueues(lease.jobs, queues).catch(() => undefined);
        deps.log.error({ err: error }, `${options.what} did not start; trying again in ${delayMs / 1000} s`);
        await sleep(delayMs, undefined, { signal: stopping.signal }).catch(() => undefined);
      }
    }
  })();
  return {
    async stop() {
      stopping.abort();
      await started;
      try {
        await stopQueues(lease.jobs, queues);
      } finally {
        // Whatever a worker's stop threw: the job system (and its pool) must stop with the process.
        await lease.release();
      }
    },
  };
}
