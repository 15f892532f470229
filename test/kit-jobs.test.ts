import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ROLE } from '../subgraphs/kit/db/roles.ts';
import { cancelJob, defineQueue, JobAborted, JobSystem, sendJob, startQueueWorkers, worksOn, type JobQueue, type JobSystemOptions } from '../subgraphs/kit/jobs/index.ts';
import { createLogger } from '../subgraphs/kit/logger.ts';
import { createTestBackends, type TestBackends } from './support/deps.ts';
import { ADMIN_URL, postgresReachable } from './support/services.ts';

// The kit's job system (kit/jobs, pg-boss 10) on real PostgreSQL and on embedded PGlite: a job is
// enqueued in its caller's transaction, retried with backoff, survives its process dying, can be
// cancelled cooperatively, keeps to its concurrency, keeps its schedule across a restart, and
// works its tenant's rows only.

const A = randomUUID();
const B = randomUUID();

async function waitFor(check: () => boolean | Promise<boolean>, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(25);
  }
}

const backendsToTest: [string, boolean][] = [
  ['PostgreSQL', false],
  ['PGlite', true],
];

// The cases after the first wait on timers mostly, each on its own queue: they run at once.
// Cases that run at once assert with their own context's `expect`, so each one's assertions are
// counted for it (expect.requireAssertions), not for whichever case happens to be current.
describe.each(backendsToTest)('kit jobs on %s', (label, embedded) => {
  let backends: TestBackends;
  const systems: JobSystem[] = [];
  const scope = (tenantId: string) => ({ tenantId, accountId: null });

  /** A job system as a process would have one, with the intervals shortened for the test. */
  const system = (overrides: Partial<JobSystemOptions> = {}) => {
    const jobs = new JobSystem({
      database: backends.db,
      ...(backends.config.DATABASE_URL ? { url: backends.config.DATABASE_URL } : { role: APP_ROLE }),
      log: createLogger(backends.config, 'jobs'),
      maintenanceIntervalSeconds: 1,
      cronMonitorIntervalSeconds: 1,
      cronWorkerIntervalSeconds: 1,
      cancelCheckMs: 100,
      ...overrides,
    });
    systems.push(jobs);
    return jobs;
  };
  const jobRow = async (jobs: JobSystem, queue: JobQueue<unknown>, id: string) =>
    (await jobs.boss.getJobById(queue.name, id)) as { state: string; retryCount: number } | null;

  beforeAll(async () => {
    if (!embedded && !(await postgresReachable())) console.warn('kit-jobs: PostgreSQL unreachable, its cases run on PGlite');
    backends = await createTestBackends({}, { embedded });
    await backends.migrate([]);
    await backends.deps('jobs').asOwner((tx) =>
      tx.query(`
        CREATE SCHEMA jobtest;
        CREATE TABLE jobtest.notes (tenant_id uuid NOT NULL, id uuid NOT NULL DEFAULT gen_random_uuid(), body text NOT NULL, PRIMARY KEY (tenant_id, id));
        SELECT kit.tenant_table('jobtest.notes');
      `),
    );
    await backends.db.withTenant(scope(A), (tx) => tx.query(`INSERT INTO jobtest.notes (tenant_id, body) VALUES ($1, 'a note of A')`, [A]));
    await backends.db.withTenant(scope(B), (tx) => tx.query(`INSERT INTO jobtest.notes (tenant_id, body) VALUES ($1, 'a note of B')`, [B]));
  });
  afterAll(async () => {
    for (const jobs of systems) await jobs.stop({ timeoutMs: 1_000 });
    await backends?.close();
  });

  it('enqueues in the caller’s transaction: a rolled-back job never runs', async () => {
    const queue = defineQueue<{ n: number }>('t-rollback', { pollingIntervalSeconds: 0.5 });
    // The first send creates the queue in the transaction: rolled back with it.
    await expect(
      backends.db.withTenant(scope(A), async (tx) => {
        await tx.query(`INSERT INTO jobtest.notes (tenant_id, body) VALUES ($1, 'rolled back')`, [A]);
        await sendJob(tx, queue, { n: 1 });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await backends.db.withTenant(scope(A), (tx) => sendJob(tx, queue, { n: 2 }));
    const seen: number[] = [];
    const jobs = system();
    await jobs.work(queue, async (job) => {
      seen.push(job.data.n);
    });
    await waitFor(() => seen.length > 0);
    await sleep(800); // another poll or so: nothing else comes
    expect(seen).toEqual([2]);
    await jobs.stop();

    // What enqueueing costs a transaction that writes a row anyway: 100 of each, interleaved, medians.
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
    const once = async (withJob: boolean, i: number) => {
      const started = performance.now();
      await backends.db.withTenant(scope(A), async (tx) => {
        await tx.query(`INSERT INTO jobtest.notes (tenant_id, body) VALUES ($1, 'timed')`, [A]);
        if (withJob) await sendJob(tx, queue, { n: i });
      });
      return performance.now() - started;
    };
    for (let i = 0; i < 10; i++) await once(true, i); // warm: prepared statements, plans
    const without: number[] = [];
    const withJob: number[] = [];
    for (let i = 0; i < 100; i++) {
      without.push(await once(false, i));
      withJob.push(await once(true, i));
    }
    const [a, b] = [median(without), median(withJob)];
    console.log(`kit-jobs ${label}: a write transaction ${a.toFixed(2)} ms, with sendJob ${b.toFixed(2)} ms (+${(b - a).toFixed(2)} ms)`);
  });

  it.concurrent('retries with backoff, then fails the job', async ({ expect }) => {
    const queue = defineQueue<null>('t-retry', { retryLimit: 2, retryDelay: 1, retryBackoff: true, pollingIntervalSeconds: 0.5 });
    const attempts: { attempt: number; at: number }[] = [];
    const jobs = system();
    await jobs.work(queue, async (job) => {
      attempts.push({ attempt: job.attempt, at: Date.now() });
      throw new Error('always fails');
    });
    const id = await backends.db.withTenant(scope(A), (tx) => sendJob(tx, queue, null));
    await waitFor(async () => (await jobRow(jobs, queue, id))?.state === 'failed', 15_000);
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    // pg-boss's backoff: about retryDelay * 2^n, with up to as much again of jitter.
    const gaps = [attempts[1]!.at - attempts[0]!.at, attempts[2]!.at - attempts[1]!.at];
    expect(gaps[0]).toBeGreaterThanOrEqual(900);
    expect(gaps[1]).toBeGreaterThanOrEqual(1_900);
    expect(await jobRow(jobs, queue, id)).toMatchObject({ state: 'failed', retryCount: 2 });
    await jobs.stop();
  });

  it.concurrent('a job whose process dies mid-run is retried after its expiry and completes once', async ({ expect }) => {
    // Expiry at 4 s, not 1: the row must still read `active` after the dead process stops and a
    // new one starts, which a stall of a busy host can stretch past a second.
    const queue = defineQueue<null>('t-crash', { expireInSeconds: 4, retryLimit: 1, pollingIntervalSeconds: 0.5 });
    const first = system();
    let started = false;
    await first.work(queue, async (job) => {
      started = true;
      await new Promise((resolve) => job.signal.addEventListener('abort', resolve));
      return { finishedBy: 'the dead process' };
    });
    const id = await backends.db.withTenant(scope(A), (tx) => sendJob(tx, queue, null));
    await waitFor(() => started);
    await first.stop({ abandon: true }); // the process dies: nothing is recorded
    const second = system();
    expect(await jobRow(second, queue, id)).toMatchObject({ state: 'active' });
    let runs = 0;
    await second.work(queue, async () => {
      runs++;
    });
    await waitFor(async () => (await jobRow(second, queue, id))?.state === 'completed', 20_000);
    await sleep(500);
    expect(runs).toBe(1);
    expect(await jobRow(second, queue, id)).toMatchObject({ state: 'completed', retryCount: 1 });
    await second.stop();
  });

  it.concurrent('cancels cooperatively: a running handler sees its signal, a delayed job never runs', async ({ expect }) => {
    const queue = defineQueue<{ delayed: boolean }>('t-cancel', { pollingIntervalSeconds: 0.5 });
    const jobs = system();
    const seen: string[] = [];
    let running = false;
    await jobs.work(queue, async (job) => {
      if (job.data.delayed) seen.push('the delayed job ran');
      running = true;
      while (!job.signal.aborted) await sleep(20);
      seen.push((job.signal.reason as JobAborted).kind);
      job.signal.throwIfAborted();
    });
    const id = await backends.db.withTenant(scope(A), (tx) => sendJob(tx, queue, { delayed: false }));
    await waitFor(() => running);
    // Cancelled by another process (its row only): the handler's signal follows within cancelCheckMs.
    expect(await backends.db.withTenant(scope(A), (tx) => cancelJob(tx, queue, id))).toBe(true);
    await waitFor(() => seen.length > 0, 10_000);
    expect(seen).toEqual(['cancelled']);
    expect(await jobRow(jobs, queue, id)).toMatchObject({ state: 'cancelled' });

    const later = await backends.db.withTenant(scope(A), (tx) => sendJob(tx, queue, { delayed: true }, { startAfter: 1 }));
    expect(await jobs.cancel(queue, later)).toBe(true);
    await sleep(1_700);
    expect(seen).toEqual(['cancelled']);
    expect(await jobRow(jobs, queue, later)).toMatchObject({ state: 'cancelled' });
    await jobs.stop();
  });

  it.concurrent('runs at most `concurrency` jobs of a queue at once in a process', async ({ expect }) => {
    const queue = defineQueue<null>('t-concurrency', { concurrency: 2, pollingIntervalSeconds: 0.5 });
    for (let i = 0; i < 6; i++) await backends.db.withTenant(scope(A), (tx) => sendJob(tx, queue, null));
    const jobs = system();
    let active = 0;
    let most = 0;
    let done = 0;
    await jobs.work(queue, async () => {
      most = Math.max(most, ++active);
      await sleep(150);
      active--;
      done++;
    });
    await waitFor(() => done === 6);
    expect(most).toBe(2);
    await jobs.stop();
  });

  it.concurrent('keeps a schedule across a restart', async ({ expect }) => {
    const queue = defineQueue<{ report: string }>('t-cron', { pollingIntervalSeconds: 0.5 });
    const first = system();
    await first.schedule(queue, '* * * * * *', { tenantId: A, accountId: null, data: { report: 'daily' } });
    await first.stop();

    const second = system();
    expect(await second.boss.getSchedules()).toEqual([expect.objectContaining({ name: 't-cron', cron: '* * * * * *' })]);
    const runs: { tenantId: string; report: string }[] = [];
    await second.work(queue, async (job) => {
      runs.push({ tenantId: job.tenantId, report: job.data.report });
    });
    await waitFor(() => runs.length > 0, 10_000);
    expect(runs[0]).toEqual({ tenantId: A, report: 'daily' });
    await second.unschedule(queue);
    await second.stop();
  });

  it.concurrent('a handler works its own tenant’s rows only, as the app role', async ({ expect }) => {
    const queue = defineQueue<{ peek: string }>('t-tenant', { pollingIntervalSeconds: 0.5 });
    const jobs = system();
    const results: { tenant: string; user: string; bodies: string[]; peeked: number }[] = [];
    await jobs.work(queue, async (job) => {
      const seen = await job.tx(async (tx) => ({
        user: (await tx.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u,
        bodies: (await tx.query<{ body: string }>('SELECT body FROM jobtest.notes ORDER BY body')).rows.map((r) => r.body),
        // Asking for the other tenant's rows by id finds none.
        peeked: (await tx.query('SELECT 1 FROM jobtest.notes WHERE tenant_id = $1', [job.data.peek])).rows.length,
      }));
      results.push({ tenant: job.tenantId, ...seen });
    });
    // The job's tenant is its transaction's: enqueued by B, it is B's whatever its data says.
    await backends.db.withTenant(scope(B), (tx) => sendJob(tx, queue, { peek: A }));
    await waitFor(() => results.length > 0);
    expect(results).toEqual([{ tenant: B, user: APP_ROLE, bodies: ['a note of B'], peeked: 0 }]);
    await expect(backends.db.withTenant(scope(''), (tx) => sendJob(tx, queue, { peek: A }))).rejects.toThrow(/tenant transaction/);
    await jobs.stop();
  });

  it.concurrent('wakes idle workers when a job is sent, falls due or is retried (PostgreSQL); polls on PGlite', async ({ expect }) => {
    // Idle workers poll once a minute here: only a wake-up starts a job within the deadlines.
    const slow = { pollingIntervalSeconds: 60 };
    const queue = defineQueue<{ n: number; failFirst?: boolean }>('t-wakeup', { ...slow, retryLimit: 1, retryDelay: 1 });
    const early = defineQueue<{ n: number }>('t-wakeup-early', slow);
    const send = (q: JobQueue<any>, data: object, startAfter?: number) =>
      backends.db.withTenant(scope(A), (tx) => sendJob(tx, q, data, startAfter ? { startAfter } : undefined));
    const ran: { n: number; attempt: number; at: number }[] = [];
    const handler = async (job: { data: { n: number; failFirst?: boolean }; attempt: number }) => {
      ran.push({ n: job.data.n, attempt: job.attempt, at: Date.now() });
      if (job.data.failFirst && job.attempt === 1) throw new Error('first attempt fails');
    };
    if (!backends.config.DATABASE_URL) {
      // PGlite has one connection, which no listener may hold: the queue's own interval decides.
      const jobs = system();
      await jobs.work(defineQueue<{ n: number }>('t-wakeup-poll', { pollingIntervalSeconds: 0.5 }), handler);
      await send(defineQueue('t-wakeup-poll'), { n: 0 });
      await waitFor(() => ran.length === 1);
      expect(jobs.listening).toBe(false);
      await jobs.stop();
      return;
    }
    // Sent before any worker runs, due in 2 s: the worker reads its due time when it starts.
    const sentEarly = Date.now();
    await send(early, { n: 1 }, 2);
    const jobs = system({ listeningPollSeconds: 60 });
    await jobs.work(early, handler);
    await jobs.work(queue, handler);
    await waitFor(() => jobs.listening);
    await waitFor(() => ran.some((r) => r.n === 1), 10_000);
    expect(ran.find((r) => r.n === 1)!.at - sentEarly).toBeGreaterThanOrEqual(1_900);

    // Sent now; then two delayed, the later one announced while the earlier is awaited.
    await send(queue, { n: 2 });
    await waitFor(() => ran.some((r) => r.n === 2), 10_000);
    const sentDelayed = Date.now();
    await send(queue, { n: 3 }, 1);
    await send(queue, { n: 4 }, 3);
    await waitFor(() => ran.some((r) => r.n === 4), 15_000);
    expect(ran.find((r) => r.n === 3)!.at - sentDelayed).toBeGreaterThanOrEqual(900);
    expect(ran.find((r) => r.n === 4)!.at - sentDelayed).toBeGreaterThanOrEqual(2_900);

    // A failed attempt's retry (pg-boss re-inserts the row) wakes the worker after retryDelay.
    await send(queue, { n: 5, failFirst: true });
    await waitFor(() => ran.filter((r) => r.n === 5).length === 2, 10_000);
    expect(ran.filter((r) => r.n === 5).map((r) => r.attempt)).toEqual([1, 2]);

    // The listening connection dies: it comes back, and sends wake the worker again.
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'bizosaas-jobs-listen' AND datname = $1`, [
      new URL(backends.config.DATABASE_URL).pathname.slice(1),
    ]);
    await admin.end();
    await waitFor(() => !jobs.listening);
    await waitFor(() => jobs.listening, 10_000);
    await send(queue, { n: 6 });
    await waitFor(() => ran.some((r) => r.n === 6), 10_000);
    expect(ran.map((r) => r.n).sort()).toEqual([1, 2, 3, 4, 5, 5, 6]);
    await jobs.stop();
  });

  it.concurrent('a background worker that cannot start tries again, then works its queues; stopping waits for the job in hand', async ({ expect }) => {
    const first = defineQueue<{ n: number }>('t-background-1', { pollingIntervalSeconds: 0.5 });
    const second = defineQueue<{ n: number }>('t-background-2', { pollingIntervalSeconds: 0.5 });
    const deps = backends.deps('jobs');
    let attempts = 0;
    const seen: string[] = [];
    let finishHeld!: () => void;
    const held = new Promise<void>((resolve) => (finishHeld = resolve));
    const task = startQueueWorkers(
      deps,
      [
        worksOn(first, async (job) => void seen.push(`first ${job.data.n}`)),
        worksOn(second, async (job) => {
          seen.push(`second ${job.data.n}`);
          if (job.data.n === 2) await held;
        }),
      ],
      {
        what: 'the test worker',
        // The first start fails as with the database unreachable; the retry starts both queues.
        beforeStart: async () => {
          if (++attempts === 1) throw new Error('database unreachable');
        },
        restartDelayMs: 200,
      },
    );
    await backends.db.withTenant(scope(A), async (tx) => {
      await sendJob(tx, first, { n: 1 });
      await sendJob(tx, second, { n: 2 });
    });
    await waitFor(() => seen.length === 2);
    expect(attempts).toBe(2);
    expect(seen.sort()).toEqual(['first 1', 'second 2']);
    // Stopping waits for the second queue's job, still running.
    let stopped = false;
    const stopping = task.stop().then(() => (stopped = true));
    await sleep(300);
    expect(stopped).toBe(false);
    finishHeld();
    await stopping;
    expect(stopped).toBe(true);
  });
});

// A database migrated before the wake-up trigger existed: listening would leave idle workers to
// the 30 s safety poll, so the job system does not listen and they poll at their queues' pace.
describe('kit jobs without the wake-up trigger', () => {
  let backends: TestBackends | undefined;
  afterAll(() => backends?.close());

  it('polls at the queue’s interval, and on PostgreSQL says to run db:migrate', async () => {
    backends = await createTestBackends({}, { embedded: !(await postgresReachable()) });
    await backends.migrate([]);
    await backends.deps('jobs').asOwner((tx) => tx.query('DROP TRIGGER kit_wake_workers ON pgboss.job'));
    const warnings: string[] = [];
    const log = createLogger(backends.config, 'jobs');
    const jobs = new JobSystem({
      database: backends.db,
      ...(backends.config.DATABASE_URL ? { url: backends.config.DATABASE_URL } : { role: APP_ROLE }),
      log: Object.assign(Object.create(log) as typeof log, { warn: (...args: unknown[]) => void warnings.push(String(args.at(-1))) }),
      listeningPollSeconds: 60,
    });
    const queue = defineQueue<null>('t-no-trigger', { pollingIntervalSeconds: 0.5 });
    let ran = 0;
    await jobs.work(queue, async () => void ran++);
    await backends.db.withTenant({ tenantId: A, accountId: null }, (tx) => sendJob(tx, queue, null));
    await waitFor(() => ran === 1);
    expect(jobs.listening).toBe(false);
    // PGlite never listens (one connection): nothing to warn about there.
    expect(warnings.some((line) => line.includes('npm run db:migrate'))).toBe(Boolean(backends.config.DATABASE_URL));
    await jobs.stop();
  });
});
