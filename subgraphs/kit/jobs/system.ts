import pg from 'pg';
import PgBoss from 'pg-boss';
import type { Database, Tx } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import { poolDb, txDb, type JobDb } from './adapters.ts';
import { JOBS_SCHEMA } from './install.ts';
import { storedOptions, type JobEnvelope, type JobQueue } from './queue.ts';
import { cancelWith, createQueue, enqueue, type SendOptions } from './send.ts';
import { WakeupListener } from './wakeups.ts';
import { QueueWorker, type JobHandler } from './worker.ts';

export interface JobSystemOptions {
  /** The process's database: handlers' tenant transactions (and, on PGlite, pg-boss's connection). */
  database: Database;
  /**
   * PostgreSQL: pg-boss's own small pool at this URL (DATABASE_URL, the app role), so polling and
   * bookkeeping never wait behind requests for a pooled connection. Unset (embedded PGlite): the
   * database's single connection, switching to `role` for each statement.
   */
  url?: string;
  role?: string;
  log: Logger;
  /** pg-boss's own pool size (PostgreSQL). Default 3. */
  poolMax?: number;
  /**
   * How often one process (of all) runs pg-boss's maintenance: jobs past their expiry (a crashed
   * process's) are failed and so retried, finished jobs archived. Default 60 s.
   */
  maintenanceIntervalSeconds?: number;
  /** How often schedules are checked (default 30 s) and their jobs moved to their queues (5 s). */
  cronMonitorIntervalSeconds?: number;
  cronWorkerIntervalSeconds?: number;
  /** How often running jobs' rows are read for a cancellation from another process. Default 1 s. */
  cancelCheckMs?: number;
  /**
   * PostgreSQL: how often an idle worker still looks for jobs while wake-ups arrive (a safety
   * net: every send, retry and scheduled job wakes the workers of its queue at once, or when it
   * falls due). Default 30 s. Without wake-ups (PGlite, or the listening connection lost and not
   * yet back) workers poll at their queues' `pollingIntervalSeconds`.
   */
  listeningPollSeconds?: number;
}

/**
 * Durable background jobs over pg-boss 10, on PostgreSQL and embedded PGlite alike (see
 * kit/jobs/README.md). One per process (`useJobs`); subgraphs define queues (`defineQueue`),
 * enqueue inside their tenant transactions (`sendJob`) and work them here (`work`).
 */
export class JobSystem {
  readonly boss: PgBoss;
  private readonly jobDb: JobDb & { idle(): Promise<void> };
  private readonly pool: pg.Pool | undefined;
  private readonly workers = new Map<string, QueueWorker<any>>();
  private readonly wakeups: WakeupListener | undefined;
  private started: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: JobSystemOptions) {
    this.pool = options.url
      ? new pg.Pool({ connectionString: options.url, max: options.poolMax ?? 3, application_name: 'bizosaas-jobs', idleTimeoutMillis: 60_000 })
      : undefined;
    this.pool?.on('error', () => undefined);
    this.jobDb = this.pool ? poolDb(this.pool) : poolDb(options.database.pool, options.role);
    this.boss = new PgBoss({
      db: this.jobDb,
      schema: JOBS_SCHEMA,
      // The owner installs and upgrades the schema (`npm run db:migrate`); a process only checks it.
      migrate: false,
      supervise: true,
      schedule: true,
      maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? 60,
      cronMonitorIntervalSeconds: options.cronMonitorIntervalSeconds ?? 30,
      cronWorkerIntervalSeconds: options.cronWorkerIntervalSeconds ?? 5,
    });
    this.wakeups = options.url
      ? new WakeupListener({
          url: options.url,
          log: options.log,
          onReady: (queue, delayMs) => this.workers.get(queue)?.nudge(delayMs),
          onListening: () => {
            for (const worker of this.workers.values()) worker.listeningStarted();
          },
          // A worker waiting out the 30 s safety poll looks once now, then polls at its queue's pace.
          onLost: () => {
            for (const worker of this.workers.values()) worker.nudge();
          },
        })
      : undefined;
    this.boss.on('error', (error: Error & { queue?: string }) => options.log.warn({ err: error.message, queue: error.queue }, 'job system error'));
  }

  /** Whether wake-ups arrive now (PostgreSQL, its listening connection up): idle workers barely poll. */
  get listening(): boolean {
    return this.wakeups?.listening ?? false;
  }

  /** Starts pg-boss's maintenance and cron (idempotent; `work` and `schedule` call it). */
  start(): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('kit/jobs: the job system is stopped'));
    this.started ??= this.boss.start().then(
      () => this.startWakeups(),
      (error: Error) => {
        this.started = undefined;
        throw /not installed|requires migrations/.test(error.message)
          ? new Error(`kit/jobs: ${error.message}: run \`npm run db:migrate\``)
          : error;
      },
    );
    return this.started;
  }

  /**
   * Listens for wake-ups when the schema has their trigger (install.ts). A database migrated
   * before it existed would leave listening workers waiting for the safety poll: they poll at
   * their queues' intervals instead until `npm run db:migrate` has run.
   */
  private async startWakeups() {
    if (!this.wakeups) return;
    const { rows } = await this.jobDb.executeSql(`SELECT 1 FROM pg_trigger WHERE tgname = 'kit_wake_workers' AND tgrelid = '${JOBS_SCHEMA}.job'::regclass`, []);
    if (rows.length) this.wakeups.start();
    else this.options.log.warn('job wake-ups off: the job schema predates them, run `npm run db:migrate`; workers poll');
  }

  /** The queue exists with the options its definition gives now. */
  private async ensureQueue(queue: JobQueue<unknown>) {
    const options = { name: queue.name, ...storedOptions(queue) } as PgBoss.Queue;
    if (!(await this.boss.getQueue(queue.name))) await createQueue(this.jobDb, queue, { inTransaction: false });
    await this.boss.updateQueue(queue.name, options);
  }

  /**
   * Works `queue` in this process, at most its `concurrency` jobs at once. One worker per queue
   * per process. Resolves to the worker (its `stop()` waits for its running handlers).
   */
  async work<T>(queue: JobQueue<T>, handler: JobHandler<T>): Promise<QueueWorker<T>> {
    if (this.workers.has(queue.name)) throw new Error(`kit/jobs: ${queue.name} already has a worker in this process`);
    await this.start();
    await this.ensureQueue(queue);
    const worker = new QueueWorker(
      {
        boss: this.boss,
        jobDb: this.jobDb,
        database: this.options.database,
        log: this.options.log,
        cancelCheckMs: this.options.cancelCheckMs ?? 1_000,
        listening: () => this.listening,
        listeningPollMs: (this.options.listeningPollSeconds ?? 30) * 1000,
      },
      queue,
      handler,
    );
    this.workers.set(queue.name, worker);
    if (this.listening) worker.listeningStarted();
    worker.start();
    return worker;
  }

  /** Stops one queue's worker (see QueueWorker.stop). */
  async offWork(queue: JobQueue<unknown>, options?: { timeoutMs?: number }) {
    const worker = this.workers.get(queue.name);
    if (!worker) return;
    await worker.stop(options);
    this.workers.delete(queue.name);
  }

  /**
   * Enqueues a job outside any transaction (a job sent from a handler or a schedule); a request
   * enqueues with `sendJob(tx, ...)` instead, in its own transaction. On PGlite never call it
   * from inside a transaction: the process has one connection, which that transaction holds.
   */
  async send<T>(queue: JobQueue<T>, envelope: JobEnvelope<T>, options?: SendOptions): Promise<string> {
    return enqueue(this.jobDb, queue, envelope, options);
  }

  /**
   * Cancels a job that has not finished: its row first (inside `tx` when given), then, when it
   * runs in this process, its signal at once; another process's handler sees it within
   * `cancelCheckMs`. Whether the job was cancelled.
   */
  async cancel(queue: JobQueue<unknown>, id: string, options: { tx?: Tx } = {}): Promise<boolean> {
    const cancelled = await cancelWith(options.tx ? txDb(options.tx) : this.jobDb, queue, id);
    if (cancelled) this.workers.get(queue.name)?.abort(id, 'cancelled');
    return cancelled;
  }

  /**
   * A cron schedule (UTC unless `tz`), stored in the database: it outlives this process, and
   * whichever process runs a job system sends its jobs. pg-boss 10 keeps one schedule per queue
   * (a second call replaces it).
   */
  async schedule<T>(queue: JobQueue<T>, cron: string, envelope: JobEnvelope<T>, options: { tz?: string } = {}) {
    await this.start();
    await this.ensureQueue(queue);
    await this.boss.schedule(queue.name, cron, envelope as unknown as object, { tz: options.tz ?? 'UTC' });
  }

  async unschedule(queue: JobQueue<unknown>) {
    await this.boss.unschedule(queue.name);
  }

  /**
   * Stops every worker (waiting for running handlers, see QueueWorker.stop), then pg-boss's
   * timers, then its own pool. `abandon` simulates a crash (tests): jobs in hand stay active.
   */
  async stop(options: { timeoutMs?: number; abandon?: boolean } = {}) {
    if (this.stopped) return;
    this.stopped = true;
    await this.wakeups?.stop();
    await Promise.all([...this.workers.values()].map((w) => w.stop(options)));
    this.workers.clear();
    if (this.started) {
      await this.started.catch(() => undefined);
      await this.boss.stop({ graceful: true, close: false, wait: true, timeout: 1_000 });
    }
    // pg-boss does not await everything it starts (a cron job's completion): let it settle.
    await this.jobDb.idle();
    await this.pool?.end();
  }
}
