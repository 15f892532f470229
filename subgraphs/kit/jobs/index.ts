export { defineQueue, NO_TENANT, type JobEnvelope, type JobQueue, type QueueOptions } from './queue.ts';
export { cancelJob, sendJob, type SendOptions } from './send.ts';
export { JobAborted, type AbortKind, type JobContext, type JobHandler, QueueWorker } from './worker.ts';
export { JobSystem, type JobSystemOptions } from './system.ts';
export { createJobSystem, useJobs, type JobsLease } from './lease.ts';
export { startQueueWorkers, stopQueues, workQueues, worksOn, type QueueBinding, type QueueWorkersOptions } from './background.ts';
