/**
 * A queue of jobs, declared once in code by the subgraph that works it: its name and how its
 * jobs are retried, when a job that stopped reporting is given up on, and how many of them one
 * process runs at once. pg-boss keeps the retry and expiry options in `pgboss.queue` (each job
 * copies them when it is enqueued); concurrency and polling are this process's.
 */
export interface QueueOptions {
  /** Attempts after the first one (default 2). */
  retryLimit?: number;
  /** Seconds before a retry (default 0; with backoff, at least 1). */
  retryDelay?: number;
  /** Doubling delays with jitter: about retryDelay * 2^n (pg-boss's). */
  retryBackoff?: boolean;
  /**
   * How long an attempt may run (default 15 minutes, at most 24 hours). Past it the handler's
   * signal aborts and the attempt fails (a retry follows); a job whose process died while running
   * it is retried once this has passed (found by maintenance, every `maintenanceIntervalSeconds`).
   */
  expireInSeconds?: number;
  /** How long a finished job is kept before pg-boss archives it (default 14 days). */
  retentionMinutes?: number;
  /** Jobs of this queue one process runs at once (default 1). */
  concurrency?: number;
  /**
   * How often an idle worker looks for jobs when no wake-ups arrive (default 2 s, at least
   * 0.5 s): on PGlite, or while the job system's listening connection is down. On PostgreSQL a
   * send, a retry or a job falling due wakes the worker at once (wakeups.ts), and idle workers
   * look only every `listeningPollSeconds` (JobSystem, default 30 s).
   */
  pollingIntervalSeconds?: number;
}

/**
 * The tenant of a platform job that belongs to no tenant (a retention sweep across tenants): its
 * handler never uses `job.tx` (no tenant's rows are visible there), only the narrow SECURITY
 * DEFINER function its subgraph's migration grants for the purpose.
 */
export const NO_TENANT = '00000000-0000-0000-0000-000000000000';

/** The envelope every job carries: whose it is, and what to do. */
export interface JobEnvelope<T> {
  tenantId: string;
  /** The member it acts for (null for the system: a schedule, the CMS publishing a page). */
  accountId: string | null;
  data: T;
}

export interface JobQueue<T> {
  readonly name: string;
  readonly options: Readonly<QueueOptions>;
  /** Phantom: the type of the jobs' data. */
  readonly __data?: T;
}

/** Queue names: pg-boss's rules, kept narrow (`<subgraph>-<what>`). */
const NAME = /^[a-z][a-z0-9_-]{0,62}$/;

export function defineQueue<T>(name: string, options: QueueOptions = {}): JobQueue<T> {
  if (!NAME.test(name)) throw new Error(`Invalid queue name "${name}" (lower-case letters, digits, - and _)`);
  if (options.concurrency !== undefined && !(Number.isInteger(options.concurrency) && options.concurrency >= 1)) {
    throw new Error(`Queue ${name}: concurrency must be an integer >= 1`);
  }
  return Object.freeze({ name, options: Object.freeze({ ...options }) });
}

/** What pg-boss stores of a queue (`createQueue` / `updateQueue`). */
export const storedOptions = (queue: JobQueue<unknown>) => {
  const { retryLimit, retryDelay, retryBackoff, expireInSeconds, retentionMinutes } = queue.options;
  return Object.fromEntries(
    Object.entries({ policy: 'standard', retryLimit, retryDelay, retryBackoff, expireInSeconds, retentionMinutes }).filter(([, v]) => v !== undefined),
  );
};
