import type { SubgraphDeps } from '../../kit/deps.ts';
import { defineQueue, NO_TENANT, type JobSystem } from '../../kit/jobs/index.ts';
import type { BiSettings } from '../settings.ts';

/*
 * Retention of bi.saleor_events (migration 007): the webhook deliveries bi has seen, kept so a
 * delivery seen again changes nothing. Past BI_SALEOR_EVENTS_RETENTION_DAYS they are deleted, in
 * batches of short transactions, by a daily job on the kit's job system (one process of the
 * fleet runs it: pg-boss's cron). Safe at any age: a replay of a pruned delivery still changes
 * nothing, because an order's stored state is only ever replaced by a newer one (store.ts).
 */

export const retentionQueue = defineQueue<Record<string, never>>('bi-saleor-events-retention', {
  retryLimit: 3,
  retryDelay: 60,
  retryBackoff: true,
  expireInSeconds: 900,
  concurrency: 1,
});

/** Every day at 03:17 UTC (off the hour, when few webhooks arrive). */
export const RETENTION_CRON = '17 3 * * *';

/** Rows a batch deletes (one transaction each, so no lock is held long). */
const BATCH = 5_000;

type Deps = Pick<SubgraphDeps<BiSettings>, 'db' | 'log' | 'settings'>;

/** Deletes the deliveries received more than `days` days before `now`, every tenant's; how many. */
export async function pruneSaleorEvents(deps: Pick<Deps, 'db'>, days: number, signal?: AbortSignal): Promise<number> {
  const before = new Date(Date.now() - days * 86_400_000);
  let total = 0;
  for (;;) {
    // Between batches: a job past its expiry, or a process stopping, stops here.
    signal?.throwIfAborted();
    const deleted = await deps.db.withTenant(
      { tenantId: null, accountId: null },
      async (tx) => (await tx.query<{ n: number }>('SELECT bi.prune_saleor_events($1, $2) AS n', [before, BATCH])).rows[0]!.n,
    );
    total += deleted;
    if (deleted < BATCH) return total;
  }
}

/** The job's handler: one sweep with the configured retention. */
export async function runRetention(deps: Deps, signal: AbortSignal): Promise<void> {
  const days = deps.settings.BI_SALEOR_EVENTS_RETENTION_DAYS;
  if (!days) return;
  const deleted = await pruneSaleorEvents(deps, days, signal);
  if (deleted) deps.log.info({ deleted, days }, 'bi: old Saleor webhook deliveries pruned');
}

/** Keeps the daily schedule in step with the setting (0: none), before the workers start. */
export async function scheduleRetention(jobs: JobSystem, settings: Pick<BiSettings, 'BI_SALEOR_EVENTS_RETENTION_DAYS'>): Promise<void> {
  if (settings.BI_SALEOR_EVENTS_RETENTION_DAYS) {
    await jobs.schedule(retentionQueue, RETENTION_CRON, { tenantId: NO_TENANT, accountId: null, data: {} });
  } else {
    await jobs.unschedule(retentionQueue);
  }
}
