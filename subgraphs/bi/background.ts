import type { SubgraphDeps } from '../kit/deps.ts';
import { startQueueWorkers, worksOn } from '../kit/jobs/index.ts';
import type { BackgroundTask } from '../kit/server.ts';
import type { BiSettings } from './settings.ts';
import { httpSaleorClient } from './webhooks/backfill.ts';
import { backfillQueue, runBackfillStep } from './webhooks/backfill-job.ts';
import { retentionQueue, runRetention, scheduleRetention } from './webhooks/retention.ts';
import { saleorApiUrl } from './webhooks/settings.ts';

/**
 * bi's background work, started with its server (SubgraphDefinition.background), on the kit's
 * job system: the durable Saleor backfills' steps (webhooks/backfill-job.ts) and the daily
 * retention of webhook deliveries (webhooks/retention.ts, its schedule kept in step with the setting).
 */
export function startBiBackground(deps: SubgraphDeps<BiSettings>): BackgroundTask {
  const saleor = httpSaleorClient(saleorApiUrl(deps.config, deps.env), deps.config.SALEOR_APP_TOKEN);
  return startQueueWorkers(
    deps,
    [worksOn(backfillQueue, (job) => runBackfillStep(deps, saleor, job)), worksOn(retentionQueue, (job) => runRetention(deps, job.signal))],
    { what: "bi's background work", beforeStart: (jobs) => scheduleRetention(jobs, deps.settings) },
  );
}
