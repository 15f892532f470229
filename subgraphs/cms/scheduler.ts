import { CacheGenerations } from '../kit/cache.ts';
import type { SubgraphDeps } from '../kit/deps.ts';
import type { BackgroundTask } from '../kit/server.ts';
import type { CmsSettings } from './settings.ts';
import * as store from './store.ts';

/*
 * Scheduled publishing. The schedule lives in the database (`cms.pages.publish_at` and the
 * scheduled revision), so it survives restarts: a process that starts after the time has passed
 * publishes the overdue pages on its first tick. Every CMS process runs this loop; two of them
 * never publish a page twice (FOR UPDATE SKIP LOCKED, then the schedule is cleared in the same
 * transaction).
 */

const BATCH = 100;

/** Publishes every page that is due now; returns how many this call published. */
export async function publishDuePages(deps: Pick<SubgraphDeps, 'db' | 'redis' | 'config' | 'log'>): Promise<number> {
  const due = await deps.db.withTenant({ tenantId: null, accountId: null }, (tx) => store.dueScheduledPages(tx, BATCH));
  const generations = new CacheGenerations(deps.redis, deps.config.REDIS_PREFIX, 'cms');
  let published = 0;
  const tenants = new Set<string>();
  for (const { tenant_id: tenantId, page_id: pageId } of due) {
    try {
      const done = await deps.db.withTenant({ tenantId, accountId: null }, (tx) => store.publishIfDue(tx, pageId));
      if (done) {
        published++;
        tenants.add(tenantId);
        deps.log.info({ tenant: tenantId, page: pageId }, 'scheduled page published');
      }
    } catch (error) {
      deps.log.error({ err: error, tenant: tenantId, page: pageId }, 'scheduled publish failed');
    }
  }
  for (const tenantId of tenants) await generations.bump(tenantId);
  // Public (anonymous) reads are cached under no tenant.
  if (tenants.size) await generations.bump(null);
  return published;
}

/** The loop started with the CMS server (SubgraphDefinition.background). */
export function startScheduler(deps: SubgraphDeps<CmsSettings>): BackgroundTask {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = publishDuePages(deps)
      .then(() => undefined)
      .catch((error: Error) => deps.log.warn({ err: error.message }, 'scheduler tick failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, deps.settings.CMS_SCHEDULER_INTERVAL_MS).unref();
      });
  };
  // The first tick right away: overdue schedules (after a restart) go out at once.
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
