import { CacheGenerations } from '../kit/cache.ts';
import type { SubgraphDeps } from '../kit/deps.ts';
import { defineQueue, sendJob, startQueueWorkers, worksOn, type JobContext } from '../kit/jobs/index.ts';
import type { BackgroundTask } from '../kit/server.ts';
import type { CmsSettings } from './settings.ts';
import * as store from './store.ts';

/*
 * Scheduled publishing, on the kit's job system (kit/jobs). Scheduling a page enqueues a job that
 * starts at the publishing time, in the same transaction as the schedule (pages.ts); unscheduling
 * or rescheduling cancels it there too. The job lives in the database, so it survives restarts: a
 * process that starts after the time has passed publishes the overdue pages at once. Every CMS
 * process works the queue; pg-boss gives each job to one of them, and the job publishes only
 * while it is still the page's job (`publishIfScheduled`, FOR UPDATE SKIP LOCKED), so a job that
 * runs twice (a retry after a crash) publishes once.
 */

export interface PublishJob {
  pageId: string;
}

export const publishQueue = defineQueue<PublishJob>('cms-publish-page', {
  // A failure is a database or Redis hiccup: retry soon, then less often.
  retryLimit: 5,
  retryDelay: 2,
  retryBackoff: true,
  // Publishing is one short transaction: a job held longer than this was its process's last.
  expireInSeconds: 60,
  concurrency: 2,
});

type Deps = Pick<SubgraphDeps, 'redis' | 'config' | 'log'>;

/**
 * The job: publishes the page if the job is still its schedule's, then makes every cached read of
 * the tenant (and the anonymous storefront reads) fresh. Whether it published.
 */
export async function publishScheduledPage(deps: Deps, job: Pick<JobContext<PublishJob>, 'id' | 'tenantId' | 'data' | 'tx'>): Promise<boolean> {
  const outcome = await job.tx((tx) => store.publishIfScheduled(tx, job.data.pageId, job.id));
  // The job started a little before its time by the database's clock: fail it, pg-boss retries.
  if (outcome === 'early') throw new Error('the page is not due yet');
  if (outcome !== 'published') return false;
  deps.log.info({ tenant: job.tenantId, page: job.data.pageId }, 'scheduled page published');
  const generations = new CacheGenerations(deps.redis, deps.config.REDIS_PREFIX, 'cms');
  await generations.bump(job.tenantId);
  // Public (anonymous) reads are cached under no tenant.
  await generations.bump(null);
  return true;
}

/**
 * Gives every schedule without a job (one written before the job system) its job, each in its
 * tenant's transaction. Returns how many.
 */
export async function enqueueUnqueuedSchedules(deps: Pick<SubgraphDeps, 'db'>): Promise<number> {
  let enqueued = 0;
  for (;;) {
    const pending = await deps.db.withTenant({ tenantId: null, accountId: null }, (tx) => store.unqueuedSchedules(tx, 100));
    if (!pending.length) return enqueued;
    for (const { tenant_id: tenantId, page_id: pageId } of pending) {
      await deps.db.withTenant({ tenantId, accountId: null }, async (tx) => {
        const schedule = await store.unqueuedScheduleForUpdate(tx, pageId);
        if (!schedule) return;
        await store.setPublishJob(tx, pageId, await sendJob(tx, publishQueue, { pageId }, { startAfter: schedule.publish_at }));
        enqueued++;
      });
    }
  }
}

/** The CMS's worker of the publishing queue, started with its server (SubgraphDefinition.background). */
export function startScheduler(deps: SubgraphDeps<CmsSettings>): BackgroundTask {
  return startQueueWorkers(deps, [worksOn(publishQueue, (job) => publishScheduledPage(deps, job))], {
    what: 'scheduled publishing',
    beforeStart: () => enqueueUnqueuedSchedules(deps),
  });
}
