import PgBoss from 'pg-boss';
import type { Tx } from '../db/database.ts';
import { txDb, type JobDb } from './adapters.ts';
import { JOBS_SCHEMA } from './install.ts';
import { storedOptions, type JobEnvelope, type JobQueue } from './queue.ts';

/** Options of one job; the queue's retry and expiry options apply to it. */
export interface SendOptions {
  /** Not before this time (a Date) or this many seconds from now. */
  startAfter?: Date | number;
  /** A job id of the caller's choosing (a UUID); a second send with the same id enqueues nothing. */
  id?: string;
  priority?: number;
}

/**
 * pg-boss's statements without a connection of its own: `send` and `cancel` with a `db` option
 * run through the connection given (a caller's transaction). Never started: it polls nothing.
 */
const statements = new PgBoss({
  db: { executeSql: () => Promise.reject(new Error('kit/jobs: a statement without a connection')) },
  schema: JOBS_SCHEMA,
  migrate: false,
  supervise: false,
  schedule: false,
});
statements.on('error', () => undefined);

/**
 * Enqueues a job inside the caller's tenant transaction, for that transaction's tenant (and
 * member): it exists once the transaction commits, with the rows it belongs to, and never if it
 * rolls back. The tenant is read from the transaction itself, so a job cannot be enqueued for
 * another tenant. Returns the job's id.
 */
export async function sendJob<T>(tx: Tx, queue: JobQueue<T>, data: T, options: SendOptions = {}): Promise<string> {
  const { rows } = await tx.query<{ tenant: string | null; account: string | null }>(
    `SELECT current_setting('app.tenant_id', true) AS tenant, current_setting('app.account_id', true) AS account`,
  );
  const tenantId = rows[0]?.tenant;
  if (!tenantId) throw new Error(`kit/jobs: a job of ${queue.name} is enqueued inside a tenant transaction`);
  return enqueue(txDb(tx), queue, { tenantId, accountId: rows[0]?.account || null, data }, options);
}

/** Cancels a job that has not finished, inside the caller's transaction; whether it did. */
export async function cancelJob(tx: Tx, queue: JobQueue<unknown>, id: string): Promise<boolean> {
  return cancelWith(txDb(tx), queue, id);
}

export async function cancelWith(db: JobDb, queue: JobQueue<unknown>, id: string): Promise<boolean> {
  // pg-boss 10's types say void; it returns { jobs, requested, affected }.
  const result = (await statements.cancel(queue.name, id, { db })) as unknown as { affected: number };
  return result.affected > 0;
}

/**
 * Creates a queue unless it exists. pg-boss's `create_queue` adds a partition to `pgboss.job`
 * (CREATE TABLE, ATTACH PARTITION): two of them at once deadlock, so every creation takes one
 * advisory lock first, for the rest of its transaction (the caller's, inside `sendJob`).
 */
export async function createQueue(db: JobDb, queue: JobQueue<unknown>, options: { inTransaction: boolean }) {
  const lock = `SELECT pg_advisory_xact_lock(hashtext('kit.jobs.create_queue'))`;
  if (options.inTransaction) {
    await db.executeSql(lock, []);
    await db.executeSql(`SELECT ${JOBS_SCHEMA}.create_queue($1, $2)`, [queue.name, storedOptions(queue)]);
    return;
  }
  const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;
  await db.executeSql(
    `BEGIN; ${lock}; SELECT ${JOBS_SCHEMA}.create_queue(${literal(queue.name)}, ${literal(JSON.stringify(storedOptions(queue)))}::json); COMMIT;`,
    [],
  );
}

/**
 * pg-boss's insert through `db`. A queue is created the first time a job is sent to it (in the
 * same transaction, so it exists only if the job does): pg-boss's insert joins `pgboss.queue`
 * and enqueues nothing without it.
 */
export async function enqueue<T>(db: JobDb, queue: JobQueue<T>, envelope: JobEnvelope<T>, options: SendOptions = {}): Promise<string> {
  const { startAfter, id, priority } = options;
  const send = () =>
    statements.send(queue.name, envelope as unknown as object, {
      db,
      ...(id ? { id } : {}),
      ...(priority ? { priority } : {}),
      ...(startAfter !== undefined ? { startAfter } : {}),
    });
  let jobId = await send();
  if (!jobId) {
    await createQueue(db, queue, { inTransaction: db !== undefined && 'inTransaction' in db });
    jobId = await send();
  }
  if (!jobId) throw new Error(`kit/jobs: ${queue.name}: the job was not enqueued (its id is taken)`);
  return jobId;
}
