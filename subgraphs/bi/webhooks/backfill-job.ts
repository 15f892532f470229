import type { Tx } from '../../kit/db/database.ts';
import { CURRENT_TENANT } from '../../kit/db/tenant.ts';
import type { SubgraphDeps } from '../../kit/deps.ts';
import { defineQueue, sendJob, type JobContext } from '../../kit/jobs/index.ts';
import { backfillSaleorOrders, type SaleorGraphql } from './backfill.ts';
import { tenantOfChannel } from './ingest.ts';

/*
 * The durable backfill of a Saleor channel's orders (`startSaleorBackfill`): a row in
 * bi.saleor_backfills (migration 006) and a job on the kit's job system, enqueued in the same
 * transaction. Each job reads one step (STEP_PAGES pages of 100 orders) from the cursor stored,
 * then stores the new cursor and enqueues the next step in one transaction: a crash or restart
 * resumes from the last step stored, and a step read twice writes nothing new (the webhooks'
 * upsert keeps only newer states). A job whose step is no longer the row's (a retry of a step
 * already stored) does nothing, so the chain never forks. After the queue's last retry the
 * backfill is FAILED with a message without internals.
 */

export interface BackfillJob {
  backfillId: string;
  step: number;
}

export const backfillQueue = defineQueue<BackfillJob>('bi-saleor-backfill', {
  // Saleor unreachable or failing: retry a few times, waiting longer each time (10 s, 20 s, ...).
  retryLimit: 5,
  retryDelay: 10,
  retryBackoff: true,
  // A step is 20 pages, each within the Saleor client's 10 s timeout.
  expireInSeconds: 300,
  concurrency: 1,
});

/** Pages a step reads: 2,000 orders, about what one `backfillSaleorOrders` call reads. */
export const STEP_PAGES = 20;

export type BackfillStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';

export interface BackfillRow {
  id: string;
  channel: string;
  status: BackfillStatus;
  cursor: string | null;
  read: number;
  written: number;
  step: number;
  error: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

const COLUMNS = 'id, channel, status, cursor, read, written, step, error, created_at, updated_at, finished_at';

type Deps = Pick<SubgraphDeps, 'db' | 'redis' | 'config' | 'log'>;

/**
 * Starts a backfill of `channel` into the tenant whose channel it is, or returns the one already
 * running there. Null when no tenant (or more than one) has the channel.
 */
export async function startSaleorBackfill(deps: Deps, channel: string, startedBy: string | null): Promise<{ tenantId: string; backfill: BackfillRow } | null> {
  const tenantId = await tenantOfChannel(deps, channel);
  if (!tenantId) return null;
  const backfill = await deps.db.withTenant({ tenantId, accountId: null }, async (tx) => {
    const { rows } = await tx.query<BackfillRow>(
      `INSERT INTO bi.saleor_backfills (tenant_id, channel, started_by) VALUES (${CURRENT_TENANT}, $1, $2)
       ON CONFLICT (tenant_id, channel) WHERE status IN ('QUEUED', 'RUNNING') DO NOTHING
       RETURNING ${COLUMNS}`,
      [channel, startedBy],
    );
    if (rows[0]) {
      await sendJob(tx, backfillQueue, { backfillId: rows[0].id, step: 0 });
      return rows[0];
    }
    return (await activeBackfill(tx, channel))!;
  });
  return { tenantId, backfill };
}

async function activeBackfill(tx: Tx, channel: string): Promise<BackfillRow | null> {
  const { rows } = await tx.query<BackfillRow>(
    `SELECT ${COLUMNS} FROM bi.saleor_backfills WHERE channel = $1 AND status IN ('QUEUED', 'RUNNING')`,
    [channel],
  );
  return rows[0] ?? null;
}

/** The channel's latest backfill in its tenant, with that tenant; null when it never had one. */
export async function latestSaleorBackfill(deps: Deps, channel: string): Promise<{ tenantId: string; backfill: BackfillRow } | null> {
  const tenantId = await tenantOfChannel(deps, channel);
  if (!tenantId) return null;
  const { rows } = await deps.db.withTenant(
    { tenantId, accountId: null },
    (tx) => tx.query<BackfillRow>(`SELECT ${COLUMNS} FROM bi.saleor_backfills WHERE channel = $1 ORDER BY created_at DESC LIMIT 1`, [channel]),
    { statements: 1 },
  );
  return rows[0] ? { tenantId, backfill: rows[0] } : null;
}

/** One step of a backfill (the queue's handler). */
export async function runBackfillStep(deps: Deps, saleor: SaleorGraphql, job: Pick<JobContext<BackfillJob>, 'tenantId' | 'data' | 'attempt' | 'tx' | 'signal'>): Promise<void> {
  const { backfillId, step } = job.data;
  const row = await job.tx(async (tx) => {
    const { rows } = await tx.query<BackfillRow>(
      `UPDATE bi.saleor_backfills SET status = 'RUNNING', updated_at = now()
       WHERE id = $1 AND step = $2 AND status IN ('QUEUED', 'RUNNING') RETURNING ${COLUMNS}`,
      [backfillId, step],
    );
    return rows[0] ?? null;
  });
  // Finished, or this step was stored already: nothing to do.
  if (!row) return;
  const fail = (message: string) =>
    job.tx((tx) =>
      tx.query(
        `UPDATE bi.saleor_backfills SET status = 'FAILED', error = $3, updated_at = now(), finished_at = now() WHERE id = $1 AND step = $2`,
        [backfillId, step, message],
      ),
    );
  let result;
  try {
    job.signal.throwIfAborted();
    result = await backfillSaleorOrders(deps, row.channel, saleor, { after: row.cursor, maxPages: STEP_PAGES });
  } catch (error) {
    if (job.attempt > (backfillQueue.options.retryLimit ?? 0)) {
      deps.log.error({ err: error, backfill: backfillId, channel: row.channel }, 'saleor backfill failed');
      await fail('Saleor could not be read; the orders read so far are kept. Start the backfill again to resume.');
      return;
    }
    throw error;
  }
  // The channel moved to another tenant while the backfill ran: stop, write nothing more here.
  if (result.tenantId !== job.tenantId) {
    await fail('The channel no longer belongs to this tenant.');
    return;
  }
  await job.tx(async (tx) => {
    const done = result.cursor === null;
    const { rowCount } = await tx.query(
      `UPDATE bi.saleor_backfills SET cursor = $3, read = read + $4, written = written + $5, step = step + 1,
         status = CASE WHEN $6 THEN 'SUCCEEDED' ELSE 'RUNNING' END, finished_at = CASE WHEN $6 THEN now() END, updated_at = now()
       WHERE id = $1 AND step = $2`,
      [backfillId, step, result.cursor, result.read, result.written, done],
    );
    if (rowCount === 1 && !done) await sendJob(tx, backfillQueue, { backfillId, step: step + 1 });
  });
}
