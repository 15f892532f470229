import type PgBoss from 'pg-boss';
import type { Database, TxRunner } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import type { JobDb } from './adapters.ts';
import { JOBS_SCHEMA } from './install.ts';
import type { JobEnvelope, JobQueue } from './queue.ts';

/** Why a running job's signal aborted. */
export type AbortKind =
  /** `cancel()`: the job will not be retried. */
  | 'cancelled'
  /** It ran past its queue's expireInSeconds: this attempt fails, a retry may follow. */
  | 'expired'
  /** Its row says it is no longer this attempt's (failed by maintenance, taken by another process). */
  | 'lost'
  /** The process is stopping and the job did not finish within the stop's timeout. */
  | 'shutdown';

export class JobAborted extends Error {
  override name = 'JobAborted';
  constructor(readonly kind: AbortKind) {
    super(`job ${kind}`);
  }
}

/** What a handler gets: the job, its tenant transaction and its cancellation signal. */
export interface JobContext<T> {
  id: string;
  queue: string;
  tenantId: string;
  /** The member the job acts for; null for the system. */
  accountId: string | null;
  data: T;
  /** 1 for the first attempt, 2 for the first retry, ... */
  attempt: number;
  /**
   * Cooperative cancellation: aborted (its reason a JobAborted) when the job is cancelled, runs
   * past its expiry, is no longer this attempt's, or the process stops. pg-boss cannot interrupt a
   * handler: check it between steps (`signal.throwIfAborted()`) or pass it on (fetch, timers).
   */
  signal: AbortSignal;
  /**
   * A transaction for the job's tenant and member, as the app role: row-level security applies
   * exactly as to a request of that tenant. The handler's only way to the tenant's data.
   */
  tx: TxRunner;
}

export type JobHandler<T> = (job: JobContext<T>) => Promise<unknown>;

/** What a worker needs of its job system. */
export interface WorkerHost {
  boss: PgBoss;
  jobDb: JobDb;
  database: Database;
  log: Logger;
  /** How often running jobs' rows are checked for cancellation (ms). */
  cancelCheckMs: number;
  /**
   * Whether wake-ups arrive now (kit/jobs/wakeups.ts): then an idle worker looks for jobs only
   * every `listeningPollMs`, a safety net, and otherwise at its queue's polling interval.
   */
  listening(): boolean;
  listeningPollMs: number;
}

interface Running {
  controller: AbortController;
  retryCount: number;
  done: Promise<void>;
}

const errorOutput = (error: unknown) => ({
  message: error instanceof Error ? error.message : String(error),
  name: error instanceof Error ? error.name : 'Error',
});

/**
 * One queue's worker in this process: at most `concurrency` jobs at once, fetched with pg-boss
 * (FOR UPDATE SKIP LOCKED, so two processes never take the same job), each completed or failed
 * (and so retried) when its handler settles. While jobs run, their rows are read every
 * `cancelCheckMs` so a cancellation from any process reaches the handler's signal.
 */
export class QueueWorker<T> {
  private readonly running = new Map<string, Running>();
  private stopping = false;
  private abandoned = false;
  private wake: (() => void) | undefined;
  /** A wake-up came since the last fetch began: fetch again before waiting. */
  private nudged = false;
  /** The earliest job known to become due later (a delayed send, a retry), and its timer. */
  private dueAt = Infinity;
  private dueTimer: NodeJS.Timeout | undefined;
  /** After the next fetch, read when the queue's next job falls due (nextDue). */
  private readNextDue = false;
  private loop: Promise<void> | undefined;
  private cancelTimer: NodeJS.Timeout | undefined;
  private readonly concurrency: number;
  private readonly pollMs: number;

  constructor(
    private readonly host: WorkerHost,
    readonly queue: JobQueue<T>,
    private readonly handler: JobHandler<T>,
  ) {
    this.concurrency = queue.options.concurrency ?? 1;
    this.pollMs = Math.max(0.5, queue.options.pollingIntervalSeconds ?? 2) * 1000;
  }

  /** Jobs running now (tests read it). */
  get active(): number {
    return this.running.size;
  }

  start() {
    this.loop ??= this.run();
  }

  /**
   * A job of this queue is due in `delayMs` (a wake-up): look for it then, not at the next poll.
   * Only the earliest due time is kept in memory; once it has come, the next one is read from
   * the queue's rows (`nextDue`), so a job sent for later than one already awaited is not left
   * to the safety poll, nor one sent before this process started.
   */
  nudge(delayMs = 0) {
    if (this.stopping) return;
    if (delayMs <= 0) {
      this.nudged = true;
      this.wake?.();
      return;
    }
    const at = Date.now() + delayMs;
    if (at >= this.dueAt) return;
    clearTimeout(this.dueTimer);
    this.dueAt = at;
    // setTimeout's longest delay is about 24.8 days: a job due later is looked for again then.
    this.dueTimer = setTimeout(() => {
      this.dueAt = Infinity;
      this.dueTimer = undefined;
      this.readNextDue = true;
      this.nudge();
    }, Math.min(delayMs, 2 ** 31 - 1));
  }

  /** Wake-ups have (re)started: look now, and arm the timer for the next job due later. */
  listeningStarted() {
    this.readNextDue = true;
    this.nudge();
  }

  /** Arms the timer for this queue's next job that is not due yet (pg-boss's fetch index answers it). */
  private async nextDue() {
    try {
      const { rows } = await this.host.jobDb.executeSql(
        `SELECT ceil(extract(epoch FROM min(start_after) - now()) * 1000)::float8 AS ms FROM ${JOBS_SCHEMA}.job WHERE name = $1 AND state < 'active'`,
        [this.queue.name],
      );
      const ms = (rows[0] as { ms: number | null } | undefined)?.ms;
      // Due already (left by a full fetch): a slot freeing up fetches it, or the loop goes on now.
      if (ms !== null && ms !== undefined) {
        if (ms > 0) this.nudge(ms);
        else this.nudged = true;
      }
    } catch (error) {
      this.host.log.warn({ queue: this.queue.name, err: (error as Error).message }, 'job due time not read');
    }
  }

  private async run() {
    while (!this.stopping) {
      this.nudged = false;
      const free = this.concurrency - this.running.size;
      if (free > 0) {
        const jobs = await this.host.boss
          .fetch<JobEnvelope<T>>(this.queue.name, { batchSize: free, includeMetadata: true })
          .catch((error: Error) => {
            this.host.log.warn({ queue: this.queue.name, err: error.message }, 'job fetch failed');
            return [];
          });
        // Stopping while fetching: a job fetched now still runs (it is ours) and stop() awaits it.
        for (const job of jobs) this.begin(job);
        if (this.readNextDue && this.host.listening()) {
          this.readNextDue = false;
          await this.nextDue();
        }
      }
      if (this.stopping) break;
      // Every slot busy: wait for one to free up. Otherwise the queue had no more: look again on
      // a wake-up, when a job of ours finishes, or at the next poll.
      const full = this.running.size >= this.concurrency;
      if (this.nudged && !full) continue;
      await new Promise<void>((resolve) => {
        const timer = full ? undefined : setTimeout(resolve, this.host.listening() ? this.host.listeningPollMs : this.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private begin(job: PgBoss.JobWithMetadata<JobEnvelope<T>>) {
    // Only sendJob/JobSystem.send/schedule write jobs: anything else is refused, never run without a tenant.
    if (typeof job.data?.tenantId !== 'string' || !job.data.tenantId) {
      this.host.log.error({ queue: this.queue.name, job: job.id }, 'job without a tenant: failed unrun');
      void this.host.boss.fail(this.queue.name, job.id, { message: 'not a kit/jobs envelope' }).catch(() => undefined);
      return;
    }
    const controller = new AbortController();
    const expiry = setTimeout(() => controller.abort(new JobAborted('expired')), job.expireInSeconds * 1000);
    const { tenantId, accountId, data } = job.data;
    const scope = { tenantId, accountId };
    const context: JobContext<T> = {
      id: job.id,
      queue: this.queue.name,
      tenantId,
      accountId,
      data,
      attempt: job.retryCount + 1,
      signal: controller.signal,
      tx: (fn, options) => this.host.database.withTenant(scope, fn, options),
    };
    const entry: Running = { controller, retryCount: job.retryCount, done: Promise.resolve() };
    this.running.set(job.id, entry);
    entry.done = (async () => {
      let outcome: { ok: true; output: unknown } | { ok: false; error: unknown };
      try {
        outcome = { ok: true, output: await this.handler(context) };
      } catch (error) {
        outcome = { ok: false, error };
      } finally {
        clearTimeout(expiry);
      }
      if (this.abandoned) return;
      const reason = controller.signal.reason as JobAborted | undefined;
      // Cancelled or no longer ours: its row says so already; writing now could end another attempt.
      if (reason?.kind === 'cancelled' || reason?.kind === 'lost') return;
      const { boss, log } = this.host;
      try {
        if (outcome.ok && reason?.kind !== 'expired') {
          const output = outcome.output && typeof outcome.output === 'object' ? outcome.output : undefined;
          await boss.complete(this.queue.name, job.id, output);
        } else {
          const error = outcome.ok ? reason : outcome.error;
          log.warn({ queue: this.queue.name, job: job.id, tenant: tenantId, attempt: context.attempt, err: errorOutput(error).message }, 'job failed');
          await boss.fail(this.queue.name, job.id, errorOutput(error));
        }
      } catch (error) {
        // Its row stays active: maintenance retries it after expireIn.
        log.error({ queue: this.queue.name, job: job.id, err: (error as Error).message }, 'job state not recorded');
      }
    })().finally(() => {
      this.running.delete(job.id);
      if (!this.running.size) this.stopWatching();
      this.wake?.();
    });
    this.watch();
  }

  /** Aborts a job of this queue running in this process; whether one was. */
  abort(id: string, kind: AbortKind): boolean {
    const entry = this.running.get(id);
    if (!entry) return false;
    entry.controller.abort(new JobAborted(kind));
    return true;
  }

  private watch() {
    this.cancelTimer ??= setInterval(() => void this.checkRows(), this.host.cancelCheckMs).unref();
  }

  private stopWatching() {
    clearInterval(this.cancelTimer);
    this.cancelTimer = undefined;
  }

  /** Running jobs whose row is no longer their active attempt: cancelled, or failed/retaken. */
  private async checkRows() {
    const ids = [...this.running.keys()];
    if (!ids.length) return;
    try {
      const { rows } = await this.host.jobDb.executeSql(
        `SELECT id, state, retry_count AS "retryCount" FROM ${JOBS_SCHEMA}.job WHERE name = $1 AND id = ANY($2::uuid[])`,
        [this.queue.name, ids],
      );
      const rowsById = new Map((rows as { id: string; state: string; retryCount: number }[]).map((r) => [r.id, r]));
      for (const id of ids) {
        const entry = this.running.get(id);
        if (!entry || entry.controller.signal.aborted) continue;
        const row = rowsById.get(id);
        if (row?.state === 'cancelled') entry.controller.abort(new JobAborted('cancelled'));
        else if (!row || row.state !== 'active' || row.retryCount !== entry.retryCount) entry.controller.abort(new JobAborted('lost'));
      }
    } catch (error) {
      this.host.log.warn({ queue: this.queue.name, err: (error as Error).message }, 'job cancellation check failed');
    }
  }

  /**
   * Stops fetching and waits for the running handlers; past `timeoutMs` their signals abort
   * ('shutdown') and they are waited for again (a handler that then fails is retried).
   * `abandon`: as if the process died: handlers are aborted and whatever they do is not recorded,
   * so their jobs stay active until their expiry (tests use it to simulate a crash).
   */
  async stop(options: { timeoutMs?: number; abandon?: boolean } = {}) {
    this.stopping = true;
    clearTimeout(this.dueTimer);
    this.wake?.();
    await this.loop;
    if (options.abandon) {
      this.abandoned = true;
      for (const entry of this.running.values()) entry.controller.abort(new JobAborted('shutdown'));
    } else {
      const all = () => Promise.all([...this.running.values()].map((e) => e.done));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), options.timeoutMs ?? 30_000)));
      if ((await Promise.race([all(), timedOut])) === 'timeout') {
        for (const entry of this.running.values()) entry.controller.abort(new JobAborted('shutdown'));
      }
      clearTimeout(timer);
    }
    await Promise.all([...this.running.values()].map((e) => e.done));
    this.stopWatching();
  }
}
